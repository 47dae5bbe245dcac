import * as path from 'node:path';
import * as vscode from 'vscode';
import { CURATED_MODELS, downloadModel, HubError } from '../../engine/model/hubDownload';
import { isValidRepoId, listCachedModels, ModelVariant, removeCachedModel } from '../../engine/model/modelCache';
import { readConfig } from '../config';
import { Commands } from '../ids';
import { notices } from '../notices';
import type { Services } from '../services';
import { openModelAt } from './modelCommands';

function cacheDir(context: vscode.ExtensionContext): string {
  return path.join(context.globalStorageUri.fsPath, 'models');
}

function megabytes(bytes: number | undefined): string {
  return bytes === undefined ? '?' : `${(bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0)} MB`;
}

/** Quick pick of the curated models plus whatever `owner/name` the user types. */
async function pickRepo(): Promise<string | undefined> {
  const quickPick = vscode.window.createQuickPick<vscode.QuickPickItem & { repo: string }>();
  quickPick.title = 'Download Model from Hugging Face';
  quickPick.placeholder = 'Pick a model, or type a repository id (owner/name) with an ONNX export';
  const curated = CURATED_MODELS.map((m) => ({ label: m.repo, description: m.task, detail: m.description, repo: m.repo }));
  quickPick.items = curated;
  quickPick.onDidChangeValue((value) => {
    const typed = value.trim();
    const extra = typed && !curated.some((c) => c.repo === typed) ? [{ label: typed, description: isValidRepoId(typed) ? 'repository id' : 'not an owner/name id', repo: typed, alwaysShow: true }] : [];
    quickPick.items = [...extra, ...curated];
  });
  return new Promise((resolve) => {
    quickPick.onDidAccept(() => {
      resolve(quickPick.selectedItems[0]?.repo ?? (quickPick.value.trim() || undefined));
      quickPick.hide();
    });
    quickPick.onDidHide(() => {
      resolve(undefined);
      quickPick.dispose();
    });
    quickPick.show();
  });
}

export function registerHubCommands(context: vscode.ExtensionContext, services: Services): vscode.Disposable {
  return vscode.Disposable.from(
    vscode.commands.registerCommand(Commands.downloadModel, async (repoArg?: string, variantArg?: ModelVariant) => {
      const repo = repoArg ?? (await pickRepo());
      if (!repo) return undefined;
      if (!isValidRepoId(repo)) {
        void notices.error(`ONNX Lens: "${repo}" is not a repository id of the form owner/name.`);
        return undefined;
      }
      let variant = variantArg;
      if (!variant) {
        const picked = await vscode.window.showQuickPick(
          [
            { label: 'fp32', description: 'full precision: the reference numbers', variant: 'fp32' as const },
            { label: 'quantized', description: '8-bit weights: about 4× smaller and faster on CPU', variant: 'quantized' as const },
          ],
          { title: `Which export of ${repo}?` },
        );
        if (!picked) return undefined;
        variant = picked.variant;
      }
      const endpoint = readConfig().hubEndpoint;
      try {
        const result = await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: `Downloading ${repo} (${variant})`, cancellable: true },
          async (progress, token) => {
            const controller = new AbortController();
            token.onCancellationRequested(() => controller.abort());
            let lastFraction = 0;
            return downloadModel({
              repo,
              variant: variant!,
              endpoint,
              cacheDir: cacheDir(context),
              signal: controller.signal,
              onProgress: (p) => {
                const fraction = p.total ? p.bytes / p.total : 0;
                progress.report({
                  increment: Math.max(0, fraction - lastFraction) * 100,
                  message: `${path.basename(p.file)} — ${megabytes(p.bytes)} of ${megabytes(p.total)}`,
                });
                lastFraction = Math.max(lastFraction, fraction);
              },
            });
          },
        );
        services.log.info(`Downloaded ${repo} (${variant}) to ${result.path}: ${megabytes(result.totalBytes)}${result.fromCache ? ' (already cached)' : ''}`);
        return openModelAt(services, result.path, variant);
      } catch (error) {
        if (error instanceof HubError && error.code === 'cancelled') {
          void vscode.window.setStatusBarMessage('ONNX Lens: download cancelled.', 4000);
          return undefined;
        }
        const message = error instanceof Error ? error.message : String(error);
        services.log.info(`Download of ${repo} failed: ${message}`);
        void notices.error(`ONNX Lens: download failed: ${message}`);
        return undefined;
      }
    }),
    vscode.commands.registerCommand(Commands.manageCachedModels, async () => {
      const models = await listCachedModels(cacheDir(context));
      if (models.length === 0) {
        const download = 'Download Model…';
        const choice = await notices.info('ONNX Lens: no downloaded models yet.', download);
        if (choice) void vscode.commands.executeCommand(Commands.downloadModel);
        return;
      }
      const picked = await vscode.window.showQuickPick(
        models.map((m) => ({
          label: `${m.repo}`,
          description: `${m.revision} · ${m.variant ?? '?'} · ${megabytes(m.sizeBytes)}${m.complete ? '' : ' · incomplete'}`,
          detail: m.completedAt ? `downloaded ${m.completedAt}` : undefined,
          model: m,
        })),
        { title: 'Cached Models', placeHolder: 'Pick a model to open or remove' },
      );
      if (!picked) return;
      const open = 'Open';
      const remove = 'Remove';
      const action = await vscode.window.showQuickPick([open, remove], { title: picked.model.repo });
      if (action === open) await openModelAt(services, picked.model.path, picked.model.variant);
      else if (action === remove) {
        const sure = await notices.ask(
          `Remove ${picked.model.repo} (${megabytes(picked.model.sizeBytes)}) from the cache?`,
          'Its downloaded files are deleted; download it again to use it.',
          remove,
        );
        if (sure === remove) {
          await removeCachedModel(cacheDir(context), picked.model.repo, picked.model.revision);
          services.log.info(`Removed ${picked.model.repo}@${picked.model.revision} from the cache`);
        }
      }
    }),
  );
}
