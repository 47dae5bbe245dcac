import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ModelCard } from '../../protocol/engineApi';
import { showLensError } from '../errorMessages';
import { Commands, ContextKeys } from '../ids';
import type { Services } from '../services';
import { notices } from '../notices';

const LAST_MODEL_KEY = 'onnxLens.lastModel';

/** Folder of the demo model shipped with the extension. */
export function demoModelPath(context: vscode.ExtensionContext): string {
  return context.asAbsolutePath(path.join('models', 'demo-sentiment'));
}

/**
 * Opens a model with a progress notification; failures are shown (and kept for the sidebar), not
 * thrown. Returns the card, or undefined when it did not open.
 */
export async function openModelAt(services: Services, modelPath: string, variant?: string): Promise<ModelCard | undefined> {
  try {
    const card = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `ONNX Lens: opening ${path.basename(modelPath)}`, cancellable: true },
      async (_progress, token) => {
        const controller = new AbortController();
        token.onCancellationRequested(() => controller.abort());
        return services.engine.open(modelPath, variant, controller.signal);
      },
    );
    await services.context.workspaceState.update(LAST_MODEL_KEY, { path: modelPath, variant: card.variant });
    void vscode.commands.executeCommand('setContext', ContextKeys.modelLoaded, true);
    const notes = card.attention.exposed ? '' : ` Attention: ${card.attention.note ?? 'not available for this model'}.`;
    void vscode.window.setStatusBarMessage(`ONNX Lens: ${card.name} ready (${card.family}, ${card.task}).${notes}`, 5000);
    return card;
  } catch (error) {
    void vscode.commands.executeCommand('setContext', ContextKeys.modelLoaded, false);
    void showLensError(error, 'Opening the model');
    void services.sidebar.reveal();
    return undefined;
  }
}

/**
 * The open model, or — when none is — the configured or last used one; failing that, asks the user
 * and offers the two ways to get one.
 */
export async function requireModel(services: Services): Promise<ModelCard | undefined> {
  if (services.engine.card) return services.engine.card;
  try {
    const configured = await services.engine.ensureModel();
    if (configured) return configured;
  } catch (error) {
    void showLensError(error, 'Opening the configured model');
    return undefined;
  }
  const last = services.context.workspaceState.get<{ path: string; variant?: string }>(LAST_MODEL_KEY);
  if (last && fs.existsSync(last.path)) return openModelAt(services, last.path, last.variant);
  const demo = 'Use Demo Model';
  const open = 'Open Model…';
  const choice = await notices.info('ONNX Lens needs a model first: use the bundled demo (sentiment) or open your own ONNX model.', demo, open);
  if (choice === demo) await vscode.commands.executeCommand(Commands.useDemoModel);
  else if (choice === open) await vscode.commands.executeCommand(Commands.openModel);
  return services.engine.card;
}

export function registerModelCommands(context: vscode.ExtensionContext, services: Services): vscode.Disposable {
  return vscode.Disposable.from(
    vscode.commands.registerCommand(Commands.openModel, async (target?: vscode.Uri | string) => {
      let modelPath = typeof target === 'string' ? target : target instanceof vscode.Uri ? target.fsPath : undefined;
      if (!modelPath) {
        const picked = await vscode.window.showOpenDialog({
          title: 'Open ONNX Model',
          openLabel: 'Open Model',
          canSelectFiles: true,
          canSelectFolders: true,
          canSelectMany: false,
          filters: { 'ONNX models': ['onnx'] },
          defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
        });
        if (!picked || picked.length === 0) return undefined;
        modelPath = picked[0].fsPath;
      }
      return openModelAt(services, modelPath);
    }),
    vscode.commands.registerCommand(Commands.useDemoModel, async () => {
      const demo = demoModelPath(context);
      if (!fs.existsSync(demo)) {
        void notices.error('ONNX Lens: the demo model is missing from this installation. Open a model of your own instead.', 'Open Model…').then((c) => {
          if (c) void vscode.commands.executeCommand(Commands.openModel);
        });
        return undefined;
      }
      return openModelAt(services, demo);
    }),
    vscode.commands.registerCommand(Commands.showLog, () => services.log.show()),
  );
}
