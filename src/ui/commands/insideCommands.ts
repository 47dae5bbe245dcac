/**
 * Inside the model: head importance (and what pruning heads would cost), the logit lens, a second
 * model compared with this one, robustness under edits, and a whole dataset. Each command turns a
 * selection (or a file) into one engine request and shows the result on its panel tab; the latest
 * result of each is kept so the panel rebuilds after a reload and the sidebar can summarise it.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { CompareParams, DatasetParams, DatasetResult, HeadImportanceParams, ModelCard, RobustnessParams, TargetSpec } from '../../protocol/engineApi';
import type { CompareView, DatasetView, HeadsView, HostToPanel, InsideSummaryLine } from '../../protocol/webviewMessages';
import { datasetColumns, datasetFormatOf, exampleSpan } from './datasetColumns';
import { compareSummary, datasetSummary, headsSummary, logitLensSummary, robustnessSummary } from '../../render/insideSummary';
import { showLensError } from '../errorMessages';
import { Commands, ContextKeys } from '../ids';
import { datasetCsv } from '../../render/datasetCsv';
import type { Services } from '../services';
import { AnalysisController, requireSelection, runCancellable, TextInput } from './analysisCommands';
import { safeFileName } from './exportCommands';
import { requireModel } from './modelCommands';
import { notices } from '../notices';

/** Arguments the commands accept when run from code (tests, other extensions) instead of by hand. */
export interface CompareModelsArgs {
  /** A model folder or .onnx file; omitted with `otherVariant` set: this model's other export. */
  otherPath?: string;
  otherVariant?: string;
}

export interface RobustnessArgs {
  seed?: number;
  maxVariants?: number;
}

export interface DatasetArgs {
  /** The file (path or URI); skips the file picker. */
  path?: string | vscode.Uri;
  /** Skips the column pickers when given (an empty string means "no label column"). */
  textColumn?: string | number;
  labelColumn?: string | number;
  limit?: number;
  maxExplained?: number;
}

/** The latest result of each analysis. */
export interface InsideResults {
  heads?: HeadsView;
  logitLens?: Extract<HostToPanel, { type: 'logitLens' }>['result'];
  compare?: CompareView;
  robustness?: Extract<HostToPanel, { type: 'robustness' }>['result'];
  dataset?: DatasetView;
}

const FOUR_KB = 4096;

function targetOf(services: Services): TargetSpec {
  const s = services.runSettings.current;
  const spec: TargetSpec = {};
  if (s.target !== undefined && s.target !== '') spec.target = s.target;
  if (s.contrast !== undefined && s.contrast !== '') spec.contrast = s.contrast;
  if (s.outputIndex !== undefined) spec.outputIndex = s.outputIndex;
  return spec;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class InsideController {
  private readonly results: InsideResults = {};
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when a new result is kept (the sidebar summary changes). */
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly services: Services,
    private readonly analysis: AnalysisController,
  ) {}

  /** Another model was opened: the results of the previous one no longer describe it. */
  forget(): void {
    for (const key of Object.keys(this.results) as (keyof InsideResults)[]) delete this.results[key];
    this.changed.fire();
  }

  /** The latest results, for tests and exports. */
  get latest(): Readonly<InsideResults> {
    return this.results;
  }

  /** The selection, or — from the panel's buttons, without an editor — the text the panel shows. */
  private async subject(fromPanel: boolean): Promise<TextInput | undefined> {
    const current = this.analysis.currentSubject;
    if (fromPanel && current) return current;
    const editor = vscode.window.activeTextEditor;
    if (!editor && current) return current;
    const input = await requireSelection();
    if (input) this.analysis.setSubject(input);
    return input;
  }

  private fail(error: unknown, what: string, retry?: () => unknown): void {
    this.services.panel.post({ type: 'error', message: errorText(error) });
    void showLensError(error, what, retry);
  }

  private keep<K extends keyof InsideResults>(key: K, value: InsideResults[K]): void {
    this.results[key] = value;
    this.changed.fire();
  }

  // --- head importance ----------------------------------------------------------------------

  async showHeadImportance(fromPanel = false): Promise<HeadsView | undefined> {
    const input = await this.subject(fromPanel);
    if (!input || !(await requireModel(this.services))) return undefined;
    const { engine, panel } = this.services;
    panel.show('heads');
    const params: HeadImportanceParams = { text: input.text, ...targetOf(this.services) };
    try {
      const result = await runCancellable(this.services, 'ONNX Lens: measuring head importance', (signal, report) =>
        engine.request('headImportance', params, { label: 'Ablating attention heads', signal, onProgress: report }),
      );
      const view: HeadsView = { result, text: input.text };
      this.keep('heads', view);
      panel.post({ type: 'heads', view });
      return view;
    } catch (error) {
      this.fail(error, 'Head importance', () => this.showHeadImportance(fromPanel));
      return undefined;
    }
  }

  /** What removing these heads together would cost, on the text the head grid was measured on. */
  async prune(heads: [number, number][]): Promise<HeadsView['result'] | undefined> {
    const measured = this.results.heads;
    if (!measured || heads.length === 0) return undefined;
    const { engine, panel } = this.services;
    try {
      const result = await runCancellable(this.services, `ONNX Lens: pruning ${heads.length} head${heads.length === 1 ? '' : 's'}`, (signal, report) =>
        engine.request('headImportance', { text: measured.text, prune: heads, gridOff: true, ...targetOf(this.services) }, { label: 'Ablating the selected heads', signal, onProgress: report }),
      );
      this.keep('heads', { ...measured, result: { ...measured.result, prune: result.prune } });
      panel.post({ type: 'prune', result });
      return result;
    } catch (error) {
      this.fail(error, 'Pruning heads');
      return undefined;
    }
  }

  // --- logit lens -----------------------------------------------------------------------------

  async showLogitLens(fromPanel = false): Promise<InsideResults['logitLens']> {
    const input = await this.subject(fromPanel);
    if (!input) return undefined;
    const card = await requireModel(this.services);
    if (!card) return undefined;
    if (card.task !== 'causal-lm') {
      const message = `The logit lens reads next-token predictions, and ${card.name} is a ${card.task} model. Open a decoder (GPT-2, Llama-style) to use it.`;
      this.services.panel.post({ type: 'error', message });
      if (!fromPanel) void notices.info(`ONNX Lens: ${message}`);
      return undefined;
    }
    const { engine, panel } = this.services;
    if (!fromPanel) {
      panel.show('activations');
      this.analysis.loadActivations();
    }
    try {
      const result = await runCancellable(this.services, 'ONNX Lens: reading the logit lens', (signal) =>
        engine.request('logitLens', { text: input.text, topK: 10 }, { label: 'Logit lens', signal }),
      );
      this.keep('logitLens', result);
      panel.post({ type: 'logitLens', result });
      return result;
    } catch (error) {
      this.fail(error, 'Logit lens');
      return undefined;
    }
  }

  // --- compare models -----------------------------------------------------------------------

  /** Asks which model to compare with: the other export of this folder, or another folder / file. */
  private async pickOther(card: ModelCard): Promise<(CompareModelsArgs & { label: string }) | undefined> {
    const others = card.availableVariants.filter((v) => v !== card.variant);
    type Item = vscode.QuickPickItem & { variant?: string; browse?: boolean };
    const items: Item[] = others.map((v) => ({ label: `$(symbol-variable) ${v} variant`, description: `this model's ${v} export`, variant: v }));
    items.push({ label: '$(folder-opened) Another model…', description: 'a model folder or .onnx file (teacher vs student, another fine-tune)', browse: true });
    const picked = items.length === 1 ? items[0] : await vscode.window.showQuickPick(items, { title: `Compare ${card.name} (${card.variant}) with…` });
    if (!picked) return undefined;
    if (picked.variant) return { otherVariant: picked.variant, label: `the ${picked.variant} variant` };
    const uris = await vscode.window.showOpenDialog({
      title: 'Model to Compare With',
      openLabel: 'Compare',
      canSelectFiles: true,
      canSelectFolders: true,
      canSelectMany: false,
      filters: { 'ONNX models': ['onnx'] },
      defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
    });
    if (!uris?.length) return undefined;
    return { otherPath: uris[0].fsPath, label: path.basename(uris[0].fsPath) };
  }

  async compareModels(args?: CompareModelsArgs, fromPanel = false): Promise<CompareView | undefined> {
    const input = await this.subject(fromPanel);
    if (!input) return undefined;
    const card = await requireModel(this.services);
    if (!card) return undefined;
    const other = args?.otherPath || args?.otherVariant
      ? { ...args, label: args.otherPath ? path.basename(args.otherPath) : `the ${args.otherVariant} variant` }
      : await this.pickOther(card);
    if (!other) return undefined;
    const { engine, panel, runSettings } = this.services;
    panel.show('compare');
    const settings = runSettings.current;
    const params: CompareParams = {
      text: input.text,
      otherPath: other.otherPath,
      otherVariant: other.otherVariant,
      method: settings.method,
      budget: settings.budget,
      seed: settings.seed,
      ...targetOf(this.services),
    };
    try {
      const result = await runCancellable(this.services, `ONNX Lens: comparing with ${other.label}`, (signal, report) =>
        engine.request('compareModels', params, { label: `Comparing with ${other.label}`, signal, onProgress: report }),
      );
      const view: CompareView = { result, text: input.text, otherLabel: other.label };
      this.keep('compare', view);
      panel.post({ type: 'compareModels', view });
      return view;
    } catch (error) {
      this.fail(error, 'Comparing models');
      return undefined;
    }
  }

  // --- robustness -----------------------------------------------------------------------------

  async testRobustness(args?: RobustnessArgs, fromPanel = false): Promise<InsideResults['robustness']> {
    const input = await this.subject(fromPanel);
    if (!input || !(await requireModel(this.services))) return undefined;
    const { engine, panel, runSettings } = this.services;
    panel.show('robustness');
    // Each variant is explained too: occlusion (the engine's default) keeps that to a few runs per word.
    const params: RobustnessParams = { text: input.text, seed: args?.seed ?? runSettings.current.seed, maxVariants: args?.maxVariants, ...targetOf(this.services) };
    try {
      const result = await runCancellable(this.services, 'ONNX Lens: testing robustness', (signal, report) =>
        engine.request('robustness', params, { label: 'Perturbing the text', signal, onProgress: report }),
      );
      this.keep('robustness', result);
      panel.post({ type: 'robustness', result });
      return result;
    } catch (error) {
      this.fail(error, 'Robustness');
      return undefined;
    }
  }

  // --- dataset --------------------------------------------------------------------------------

  private async pickDatasetFile(): Promise<vscode.Uri | undefined> {
    const found = await vscode.workspace.findFiles('**/*.{jsonl,ndjson,csv,tsv,txt}', '**/{node_modules,.git,out,dist}/**', 500);
    type Item = vscode.QuickPickItem & { uri?: vscode.Uri };
    const items: Item[] = found
      .sort((a, b) => a.fsPath.localeCompare(b.fsPath))
      .map((uri) => ({ label: path.basename(uri.fsPath), description: vscode.workspace.asRelativePath(uri, true), uri }));
    items.push({ label: '$(folder-opened) Browse…', description: 'a .jsonl, .csv, .tsv or .txt file' });
    const picked = await vscode.window.showQuickPick(items, { title: 'Run on Dataset: choose the file', matchOnDescription: true });
    if (!picked) return undefined;
    if (picked.uri) return picked.uri;
    const uris = await vscode.window.showOpenDialog({
      title: 'Dataset File',
      canSelectMany: false,
      filters: { Datasets: ['jsonl', 'ndjson', 'csv', 'tsv', 'txt'] },
      defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
    });
    return uris?.[0];
  }

  /** Text and label columns: from the arguments, or picked from the file's header / first object. */
  private async pickColumns(uri: vscode.Uri, args?: DatasetArgs): Promise<{ text?: string | number; label?: string | number } | undefined> {
    const format = datasetFormatOf(uri.fsPath);
    if (!format) throw new Error(`${path.basename(uri.fsPath)} is not a .jsonl, .csv, .tsv or .txt file.`);
    if (format === 'txt') return {};
    if (args?.textColumn !== undefined) return { text: args.textColumn, label: args.labelColumn === '' ? undefined : args.labelColumn };
    const bytes = await vscode.workspace.fs.readFile(uri);
    const head = new TextDecoder().decode(bytes.subarray(0, FOUR_KB * 16));
    const found = await datasetColumns(head, format);
    if (found.columns.length === 0) return { text: found.text, label: found.label };
    const order = (first?: string) => (first ? [first, ...found.columns.filter((c) => c !== first)] : found.columns);
    const text = await vscode.window.showQuickPick(order(found.text).map((c) => ({ label: c, description: c === found.text ? 'looks like the text' : undefined })), {
      title: 'Run on Dataset: the text column',
    });
    if (!text) return undefined;
    const none = { label: '(no label column)', description: 'predictions only, no accuracy' };
    const labelItems = [
      ...order(found.label).filter((c) => c !== text.label).map((c) => ({ label: c, description: c === found.label ? 'looks like the label' : undefined })),
      none,
    ];
    const label = await vscode.window.showQuickPick(labelItems, { title: 'Run on Dataset: the label column (optional)' });
    if (!label) return undefined;
    return { text: text.label, label: label === none ? undefined : label.label };
  }

  async runDataset(args?: DatasetArgs): Promise<DatasetResult | undefined> {
    if (!(await requireModel(this.services))) return undefined;
    const uri = args?.path ? (typeof args.path === 'string' ? vscode.Uri.file(args.path) : args.path) : await this.pickDatasetFile();
    if (!uri) return undefined;
    const { engine, panel, runSettings } = this.services;
    try {
      const columns = await this.pickColumns(uri, args);
      if (!columns) return undefined;
      panel.show('dataset');
      const settings = runSettings.current;
      const params: DatasetParams = {
        path: uri.fsPath,
        textColumn: columns.text,
        labelColumn: columns.label,
        limit: args?.limit,
        maxExplained: args?.maxExplained,
        seed: settings.seed,
      };
      const result = await runCancellable(this.services, `ONNX Lens: running on ${path.basename(uri.fsPath)}`, (signal, report) =>
        engine.request('datasetRun', params, {
          label: `Dataset ${path.basename(uri.fsPath)}`,
          signal,
          onProgress: (p) => {
            report(p);
            panel.post({ type: 'progress', label: `Dataset ${path.basename(uri.fsPath)}: ${p.message ?? ''}`.trim(), done: p.done, total: p.total });
          },
        }),
      );
      const view: DatasetView = { result, uri: uri.toString(), textColumn: columns.text, labelColumn: columns.label };
      this.keep('dataset', view);
      panel.post({ type: 'dataset', view });
      return result;
    } catch (error) {
      this.fail(error, 'Running on the dataset');
      return undefined;
    }
  }

  /** Opens an example at its line, selects its text and explains it. */
  async openExample(line: number, text: string): Promise<void> {
    const dataset = this.results.dataset;
    if (!dataset) return;
    try {
      const document = await vscode.workspace.openTextDocument(vscode.Uri.parse(dataset.uri));
      const lineIndex = Math.min(Math.max(0, line - 1), document.lineCount - 1);
      const lineText = document.lineAt(lineIndex).text;
      const span = exampleSpan(lineText, text);
      const range = span ? new vscode.Range(lineIndex, span.start, lineIndex, span.end) : document.lineAt(lineIndex).range;
      const editor = await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.One, preserveFocus: false });
      editor.selection = new vscode.Selection(range.start, range.end);
      editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
      // Highlights go on the document only when the text is there verbatim (csv/jsonl may quote it).
      const input: TextInput = span ? { text, uri: document.uri.toString(), offset: document.offsetAt(range.start) } : { text, offset: 0 };
      await this.analysis.explain(input, this.services.runSettings.current);
    } catch (error) {
      this.fail(error, 'Opening the example');
    }
  }

  async exportDataset(format: 'json' | 'csv'): Promise<vscode.Uri | undefined> {
    const dataset = this.results.dataset;
    if (!dataset) {
      void notices.info('ONNX Lens: no dataset run yet. Run "ONNX Lens: Run on Dataset…" first.');
      return undefined;
    }
    const base = `onnx-lens-dataset-${safeFileName(path.basename(dataset.result.path).replace(/\.[^.]+$/, ''))}`;
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const uri = await vscode.window.showSaveDialog({
      defaultUri: folder ? vscode.Uri.joinPath(folder, `${base}.${format}`) : undefined,
      filters: format === 'json' ? { JSON: ['json'] } : { CSV: ['csv'] },
      saveLabel: 'Export',
    });
    if (!uri) return undefined;
    const text = format === 'json' ? JSON.stringify(dataset.result, null, 2) : datasetCsv(dataset.result);
    await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(text));
    void vscode.window.setStatusBarMessage(`ONNX Lens: saved ${path.basename(uri.fsPath)}.`, 5000);
    return uri;
  }

  // --- panel and sidebar ----------------------------------------------------------------------

  /** Messages that rebuild the inside-the-model tabs after the panel (re)loads. */
  initialMessages(): HostToPanel[] {
    const r = this.results;
    const out: HostToPanel[] = [];
    if (r.logitLens) out.push({ type: 'logitLens', result: r.logitLens });
    if (r.heads) out.push({ type: 'heads', view: r.heads });
    if (r.compare) out.push({ type: 'compareModels', view: r.compare });
    if (r.robustness) out.push({ type: 'robustness', result: r.robustness });
    if (r.dataset) out.push({ type: 'dataset', view: r.dataset });
    return out;
  }

  /** The sidebar's lines about the latest results. */
  summary(): InsideSummaryLine[] {
    const r = this.results;
    const out: InsideSummaryLine[] = [];
    if (r.heads) out.push(headsSummary(r.heads.result));
    if (r.logitLens) out.push(logitLensSummary(r.logitLens));
    if (r.compare) out.push(compareSummary(r.compare.result, r.compare.otherLabel));
    if (r.robustness) out.push(robustnessSummary(r.robustness));
    if (r.dataset) out.push(datasetSummary(r.dataset.result, path.basename(r.dataset.result.path)));
    return out;
  }

  dispose(): void {
    this.changed.dispose();
  }
}

export function registerInsideCommands(services: Services, inside: InsideController): vscode.Disposable {
  const decoderKey = () => void vscode.commands.executeCommand('setContext', ContextKeys.modelIsDecoder, services.engine.card?.task === 'causal-lm');
  decoderKey();
  return vscode.Disposable.from(
    inside,
    services.engine.onDidChange(decoderKey),
    inside.onDidChange(() => services.sidebar.refresh()),
    vscode.commands.registerCommand(Commands.showHeadImportance, () => inside.showHeadImportance()),
    vscode.commands.registerCommand(Commands.showLogitLens, () => inside.showLogitLens()),
    vscode.commands.registerCommand(Commands.compareModels, (args?: CompareModelsArgs) => inside.compareModels(args)),
    vscode.commands.registerCommand(Commands.testRobustness, (args?: RobustnessArgs) => inside.testRobustness(args)),
    vscode.commands.registerCommand(Commands.runDataset, (args?: DatasetArgs | vscode.Uri) =>
      inside.runDataset(args instanceof vscode.Uri ? { path: args } : args),
    ),
  );
}
