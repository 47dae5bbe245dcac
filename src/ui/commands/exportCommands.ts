import * as path from 'node:path';
import * as vscode from 'vscode';
import { modelFileRefusal } from '../../engine/model/modelOwnFiles';
import { buildHtmlReport } from '../../render/htmlReport';
import { jsonForScriptTag } from '../../render/reportDocument';
import { Commands } from '../ids';
import { attentionKey } from '../results/explanationStore';
import type { Services } from '../services';
import { notices } from '../notices';

/** A file name made of safe characters from a label (a class name, a model name). */
export function safeFileName(label: string): string {
  return label.replace(/[^\p{L}\p{N}._-]+/gu, '-').replace(/^-+|-+$/g, '').slice(0, 60) || 'explanation';
}

function defaultUri(name: string): vscode.Uri | undefined {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  return folder ? vscode.Uri.joinPath(folder, name) : undefined;
}

/** The folders and graph files of the models whose files an export must never replace. */
export interface ModelFilesGuard {
  models: { folder: string; graphs: string[] }[];
}

/** The model of the explanation being exported and the model open now. */
export function exportGuard(services: Services): ModelFilesGuard {
  const models: ModelFilesGuard['models'] = [];
  const card = services.engine.card;
  if (card) models.push({ folder: card.path, graphs: card.files.map((f) => f.path) });
  const explained = services.store.current?.result.provenance.modelPath;
  if (explained && explained !== card?.path) models.push({ folder: explained, graphs: [] });
  return { models };
}

/**
 * Writes the bytes to `target`, or where the user picks in a save dialog (which asks before replacing a
 * file). A file of the model (graph, weights, tokenizer, configuration) is never replaced; a write that
 * fails is told, with the reason.
 */
export async function saveBytes(name: string, filters: Record<string, string[]>, bytes: Uint8Array, guard: ModelFilesGuard, target?: vscode.Uri): Promise<vscode.Uri | undefined> {
  const uri = target ?? (await vscode.window.showSaveDialog({ defaultUri: defaultUri(name), filters, saveLabel: 'Export' }));
  if (!uri) return undefined;
  if (uri.scheme === 'file') {
    const refusal = guard.models.map((m) => modelFileRefusal(uri.fsPath, m.folder, m.graphs)).find((r) => r !== undefined);
    if (refusal) {
      void notices.error(`ONNX Lens: ${refusal}`);
      return undefined;
    }
  }
  try {
    await vscode.workspace.fs.writeFile(uri, bytes);
  } catch (error) {
    void notices.error(`ONNX Lens: could not save ${uri.scheme === 'file' ? uri.fsPath : uri.toString()}: ${error instanceof Error ? error.message : String(error)}. Choose another file.`);
    return undefined;
  }
  const reveal = 'Open';
  void notices.info(`ONNX Lens: saved ${path.basename(uri.fsPath)}.`, reveal).then((c) => {
    if (c === reveal) void vscode.commands.executeCommand('vscode.open', uri);
  });
  return uri;
}

/** Saves the current explanation as JSON (with provenance) or as a self-contained HTML report. */
export async function exportData(services: Services, format: 'json' | 'html', target?: vscode.Uri): Promise<vscode.Uri | undefined> {
  const item = services.store.current;
  if (!item) {
    void notices.info('ONNX Lens: nothing to export yet. Run Explain Selection first.');
    return undefined;
  }
  const base = `onnx-lens-${safeFileName(item.result.target.label)}-${item.result.provenance.method}`;
  const encoder = new TextEncoder();
  if (format === 'json') {
    const json = jsonForScriptTag({ explanation: item.result, comparison: item.secondary, agreement: item.agreement, settings: item.settings });
    return saveBytes(`${base}.json`, { JSON: ['json'] }, encoder.encode(json), exportGuard(services), target);
  }
  const version = String((services.context.extension.packageJSON as { version?: string }).version ?? '');
  const html = buildHtmlReport(item.result, services.store.attentionFor(attentionKey(item.result.text, item.result.textPair), item.result.provenance.modelSha256), { comparison: item.secondary, generator: version });
  return saveBytes(`${base}.html`, { 'HTML report': ['html'] }, encoder.encode(html), exportGuard(services), target);
}

/** Saves a picture the panel sent: a PNG data: URL or SVG text. */
export async function saveImage(format: 'png' | 'svg', name: string, data: string, guard: ModelFilesGuard, target?: vscode.Uri): Promise<vscode.Uri | undefined> {
  const file = `${safeFileName(name)}.${format}`;
  if (format === 'svg') {
    if (!data.trimStart().startsWith('<svg')) return undefined;
    return saveBytes(file, { SVG: ['svg'] }, new TextEncoder().encode(data), guard, target);
  }
  const match = /^data:image\/png;base64,([A-Za-z0-9+/=]+)$/.exec(data);
  if (!match) return undefined;
  return saveBytes(file, { PNG: ['png'] }, Buffer.from(match[1], 'base64'), guard, target);
}

export function registerExportCommands(_context: vscode.ExtensionContext, services: Services): vscode.Disposable {
  // Arguments (both optional) let scripts and tests export without the pickers: the format and the file.
  return vscode.commands.registerCommand(Commands.exportExplanation, async (format?: 'json' | 'html' | 'png' | 'svg', target?: vscode.Uri) => {
    if (!services.store.current && format !== 'png' && format !== 'svg') {
      void notices.info('ONNX Lens: nothing to export yet. Run Explain Selection first.');
      return undefined;
    }
    let chosen = format;
    if (!chosen) {
      const items: (vscode.QuickPickItem & { format: 'json' | 'html' | 'png' | 'svg' })[] = [
        { label: 'HTML report', description: 'self-contained, opens offline', format: 'html' },
        { label: 'JSON', description: 'all numbers with provenance (model hash, method, seed)', format: 'json' },
        { label: 'PNG', description: 'the chart or heatmap shown in the panel', format: 'png' },
        { label: 'SVG', description: 'the chart or heatmap shown in the panel, as vectors', format: 'svg' },
      ];
      const picked = await vscode.window.showQuickPick(items, { title: 'Export Explanation' });
      if (!picked) return undefined;
      chosen = picked.format;
    }
    if (chosen === 'json' || chosen === 'html') return exportData(services, chosen, target);
    if (!services.panel.isOpen) services.panel.show('attributions');
    try {
      const picture = await services.panel.snapshot(chosen);
      if (!picture) {
        void notices.info('ONNX Lens: the panel shows no chart to export on this tab.');
        return undefined;
      }
      return saveImage(chosen, picture.name, picture.data, exportGuard(services), target);
    } catch (error) {
      void notices.error(`ONNX Lens: export failed: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    }
  });
}
