import * as vscode from 'vscode';
import type { AttentionResult, Level, MethodName, ProgressEvent } from '../../protocol/engineApi';
import {
  ATTRIBUTION_METHODS,
  AttentionMatrixView,
  HostRequests,
  HostToPanel,
  NeuronValue,
  PanelTab,
  RunSettings,
  SegmentBlockView,
} from '../../protocol/webviewMessages';
import { activationViews, topNeurons } from '../../render/activationViews';
import { attentionMatrixView, attentionOverview } from '../../render/attentionViews';
import { alignBySpan, rankAgreement } from '../../engine/explain/agreement';
import { pairAttentionView, segmentBlockView } from '../../render/segmentAttention';
import { estimateText, explainParams, partialFeatures, progressMessage } from './explainParams';
import { showLensError } from '../errorMessages';
import { Commands, ContextKeys } from '../ids';
import type { PanelActions } from '../panel/explanationPanel';
import { attentionKey, type ExplainedSelection } from '../results/explanationStore';
import type { Services } from '../services';
import { exportData, exportGuard, saveImage } from './exportCommands';
import { requireModel } from './modelCommands';
import { notices } from '../notices';
import { pairFromSelections, PairChoice, PairPart } from './pairSelection';

/** A piece of text to analyse and where it sits in its document. */
export interface TextInput {
  text: string;
  uri?: string;
  /** Document offset of the first character. */
  offset: number;
  /** A sentence pair's second text (segment B) and its document offset. */
  pair?: PairPart;
}

/**
 * The selection of the editor the user works in (the active one, or the only visible one when the
 * panel has the focus); an empty selection offers its line instead. Every way of not getting text
 * says what to do.
 */
export async function requireSelection(): Promise<TextInput | undefined> {
  const visible = vscode.window.visibleTextEditors.filter((e) => e.document.uri.scheme !== 'output');
  const editor = vscode.window.activeTextEditor ?? (visible.length === 1 ? visible[0] : undefined);
  if (!editor) {
    void notices.info('ONNX Lens: open a file and select the text to analyse, then run the command again.');
    return undefined;
  }
  let range: vscode.Range = editor.selection;
  if (editor.selection.isEmpty) {
    const line = editor.document.lineAt(editor.selection.active.line);
    if (line.isEmptyOrWhitespace) {
      void notices.info('ONNX Lens: nothing is selected. Select the text to analyse (a sentence or a paragraph), then run the command again.');
      return undefined;
    }
    const useLine = 'Use Current Line';
    const choice = await notices.info('ONNX Lens: nothing is selected. Select the text to analyse, or use the line the cursor is on.', useLine);
    if (choice !== useLine) return undefined;
    range = line.range;
  }
  const text = editor.document.getText(range);
  if (text.trim().length === 0) {
    void notices.info('ONNX Lens: the selection is only whitespace. Select words to analyse.');
    return undefined;
  }
  return { text, uri: editor.document.uri.toString(), offset: editor.document.offsetAt(range.start) };
}

/**
 * A sentence pair from an editor: its two non-empty selections (the earlier is segment A), or — when
 * `separator` is given — one selection, or the cursor's line, split at it. A problem says what to select.
 */
export function editorPair(editor: vscode.TextEditor, separator?: string): { input: TextInput } | { problem: string } {
  const document = editor.document;
  let selections = editor.selections.map((s) => ({ start: document.offsetAt(s.start), end: document.offsetAt(s.end) }));
  if (separator !== undefined && selections.every((s) => s.end === s.start)) {
    const line = document.lineAt(editor.selection.active.line).range;
    selections = [{ start: document.offsetAt(line.start), end: document.offsetAt(line.end) }];
  }
  if (separator === undefined && selections.filter((s) => s.end > s.start).length !== 2) return { problem: 'Select the two texts of the pair.' };
  const choice: PairChoice = pairFromSelections(document.getText(), selections, separator ?? '');
  if ('problem' in choice) return choice;
  return { input: { text: choice.a.text, offset: choice.a.offset, uri: document.uri.toString(), pair: choice.b } };
}

export type Report = (progress: ProgressEvent) => void;

/**
 * Runs long work under a cancellable notification: its Cancel, the panel's Cancel and the
 * sidebar's all abort the signal, which cancels the engine request in flight.
 */
export async function runCancellable<T>(services: Services, title: string, work: (signal: AbortSignal, report: Report) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const untrack = services.trackWork(controller);
  try {
    return await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (progress, token) => {
      token.onCancellationRequested(() => controller.abort());
      let reported = 0;
      const report: Report = (p) => {
        const fraction = p.total > 0 ? Math.min(1, p.done / p.total) : 0;
        const increment = Math.max(0, fraction - reported) * 100;
        reported = Math.max(reported, fraction);
        notices.progress((v) => progress.report(v), title, progressMessage(p), increment);
      };
      services.panel.post({ type: 'busy', label: title.replace(/^ONNX Lens: /, '') });
      return work(controller.signal, report);
    });
  } finally {
    untrack();
    services.panel.post({ type: 'busy' });
  }
}

/**
 * The analyses behind the commands and the panel's buttons. Every long request runs under a
 * cancellable notification whose Cancel (or the panel's) aborts the request, so the engine stops.
 */
export class AnalysisController implements PanelActions {
  /** The text the panel currently describes. */
  private subject: TextInput | undefined;
  private level: Level = 'word';
  private readonly attentionInFlight = new Map<string, Promise<AttentionResult>>();
  /** Views being loaded (a command and the tab it shows may both ask): one load answers both. */
  private readonly viewLoads = new Set<string>();

  constructor(private readonly services: Services) {}

  /** The text the panel describes now (the last analysed selection). */
  get currentSubject(): TextInput | undefined {
    return this.subject;
  }

  /** Makes `input` the text the panel describes (other analyses of a selection set it too). */
  setSubject(input: TextInput): void {
    this.subject = input;
  }

  // --- commands -------------------------------------------------------------------------------

  async explainSelection(compareWith?: MethodName): Promise<ExplainedSelection | undefined> {
    const input = await requireSelection();
    if (!input) return undefined;
    if (!(await requireModel(this.services))) return undefined;
    return this.explain(input, this.services.runSettings.current, compareWith);
  }

  /** Explains the selection with the configured method and a second one (asked for unless given). */
  async compareMethods(second?: MethodName): Promise<ExplainedSelection | undefined> {
    const settings = this.services.runSettings.current;
    if (second && ATTRIBUTION_METHODS.includes(second) && second !== settings.method) return this.explainSelection(second);
    const picked = await vscode.window.showQuickPick(
      ATTRIBUTION_METHODS.filter((m) => m !== settings.method).map((m) => ({ label: m, description: m === 'lime' ? 'a linear surrogate' : undefined })),
      { title: `Compare ${settings.method} with…`, placeHolder: 'Second attribution method' },
    );
    if (!picked) return undefined;
    return this.explainSelection(picked.label as MethodName);
  }

  async showAttention(): Promise<void> {
    // Two selections are a sentence pair: its attention, with the view across the pair.
    const editor = vscode.window.activeTextEditor;
    const pair = editor ? editorPair(editor) : undefined;
    const input = pair && 'input' in pair ? pair.input : await requireSelection();
    if (!input || !(await requireModel(this.services))) return;
    this.subject = input;
    this.services.panel.show('attention');
    await this.loadAttentionFor(input, this.level);
  }

  async showActivations(): Promise<void> {
    const input = await requireSelection();
    if (!input || !(await requireModel(this.services))) return;
    this.subject = input;
    this.services.panel.show('activations');
    this.loadActivations();
  }

  /** Shows an explanation again: highlights, panel and sidebar. */
  showItem(item: ExplainedSelection, tab: PanelTab = 'attributions', focus?: { start: number; end: number }): void {
    this.subject = {
      text: item.result.text,
      uri: item.uri,
      offset: item.offset,
      ...(item.result.textPair !== undefined ? { pair: { text: item.result.textPair, offset: item.pairOffset ?? item.offset } } : {}),
    };
    this.services.highlights.show(item);
    this.services.panel.show(tab, focus);
    this.services.panel.post({ type: 'prediction', prediction: item.result.fullOutput });
    this.services.panel.post({ type: 'explanation', primary: item.result, secondary: item.secondary, agreement: item.agreement });
    this.services.panel.post({ type: 'showTab', tab, focus });
  }

  // --- the work -------------------------------------------------------------------------------

  /** Predicts, explains (and optionally explains again with a second method), then shows it all. */
  async explain(input: TextInput, settings: RunSettings, compareWith?: MethodName): Promise<ExplainedSelection | undefined> {
    const { engine, panel, store } = this.services;
    this.subject = input;
    panel.show('attributions');
    const title = compareWith ? `ONNX Lens: comparing ${settings.method} and ${compareWith}` : `ONNX Lens: explaining ${input.pair ? 'the sentence pair ' : ''}with ${settings.method}`;
    const textPair = input.pair?.text;
    try {
      const item = await this.runCancellable(title, async (signal, report) => {
        const prediction = await engine.request('predict', { text: input.text, textPair, topK: 10 }, { label: 'Predicting', signal });
        store.setPrediction(input.text, prediction);
        panel.post({ type: 'prediction', prediction });
        const onProgress = (label: string) => (p: ProgressEvent) => {
          report(p);
          const estimate = estimateText(p);
          panel.post({ type: 'progress', label: estimate ? `${label} · ${estimate}` : label, done: p.done, total: p.total, partial: partialFeatures(p) });
        };
        const label = `Explaining (${settings.method}, budget ${settings.budget})`;
        const result = await engine.request('explain', explainParams(input.text, settings, settings.method, textPair), { label, signal, onProgress: onProgress(label) });
        let secondary;
        let agreement;
        if (compareWith) {
          const label2 = `Explaining (${compareWith}, budget ${settings.budget})`;
          secondary = await engine.request('explain', explainParams(input.text, settings, compareWith, textPair), { label: label2, signal, onProgress: onProgress(label2) });
          const aligned = alignBySpan(result.features, secondary.features);
          agreement = rankAgreement(aligned.a, aligned.b);
        }
        return store.add({ uri: input.uri, offset: input.offset, ...(input.pair ? { pairOffset: input.pair.offset } : {}), result, settings, secondary, agreement });
      });
      this.services.log.info(`Explained "${snippet(input.text)}": ${item.result.target.label}, ${item.result.features.length} features, ${item.result.evaluations} evaluations, convergence ${item.result.convergence.max.toPrecision(3)}`);
      void vscode.commands.executeCommand('setContext', ContextKeys.hasExplanation, true);
      this.showItem(item);
      void this.prefetchAttention(input);
      return item;
    } catch (error) {
      panel.post({ type: 'error', message: error instanceof Error ? error.message : String(error) });
      void showLensError(error, 'Explaining', () => this.explain(input, settings, compareWith));
      return undefined;
    }
  }

  /**
   * Attention and hidden states of a text (or a sentence pair) by the open model, fetched once and kept
   * for the views and the hover. Callers asking for the same text while it is being read share one request.
   */
  async ensureAttention(input: TextInput, signal?: AbortSignal): Promise<AttentionResult> {
    const { engine, store } = this.services;
    const sha = engine.card?.sha256;
    const key = attentionKey(input.text, input.pair?.text);
    const kept = store.attentionFor(key, sha);
    if (kept) return kept;
    const flight = `${sha}\u0000${key}`;
    let pending = this.attentionInFlight.get(flight);
    if (!pending) {
      pending = engine
        .request('attention', { text: input.text, textPair: input.pair?.text, hidden: true }, { label: 'Reading attention and hidden states', signal })
        .then((result) => {
          if (sha !== undefined) store.setAttention(key, sha, result, { offset: input.offset, uri: input.uri });
          return result;
        })
        .finally(() => this.attentionInFlight.delete(flight));
      this.attentionInFlight.set(flight, pending);
    }
    return pending;
  }

  /** The hover shows where a word attends: fetch attention in the background after an explanation. */
  private async prefetchAttention(input: TextInput): Promise<void> {
    if (!this.services.engine.card?.attention.exposed) return;
    try {
      await this.ensureAttention(input);
    } catch {
      // The hover simply leaves the attention line out.
    }
  }

  private async loadAttentionFor(input: TextInput, level: Level): Promise<void> {
    const model = this.services.engine.card?.sha256;
    const key = `attention\u0000${model}\u0000${level}\u0000${input.text}`;
    if (this.viewLoads.has(key)) return;
    this.viewLoads.add(key);
    try {
      const result = await this.runCancellable('ONNX Lens: reading attention', (signal) => this.ensureAttention(input, signal));
      // Another model was opened meanwhile: this attention no longer describes the open one.
      if (this.services.engine.card?.sha256 !== model) return;
      this.level = level;
      this.services.panel.post({ type: 'attention', overview: { ...attentionOverview(result, input.text, level), ...pairAttentionView(result, level) } });
      if (result.attentions.length === 0) {
        const note = result.note ?? this.services.engine.card?.attention.note ?? 'This model does not expose its attention probabilities.';
        this.services.panel.post({ type: 'error', message: note });
      }
    } catch (error) {
      this.services.panel.post({ type: 'error', message: error instanceof Error ? error.message : String(error) });
      void showLensError(error, 'Reading attention');
    } finally {
      this.viewLoads.delete(key);
    }
  }

  private runCancellable<T>(title: string, work: (signal: AbortSignal, report: Report) => Promise<T>): Promise<T> {
    return runCancellable(this.services, title, work);
  }

  // --- PanelActions ---------------------------------------------------------------------------

  initialMessages(): HostToPanel[] {
    const { engine, store, runSettings } = this.services;
    const messages: HostToPanel[] = [
      { type: 'model', card: engine.card },
      { type: 'settings', settings: runSettings.current, methods: ATTRIBUTION_METHODS },
    ];
    const current = store.current;
    const prediction = store.lastPrediction;
    if (prediction) messages.push({ type: 'prediction', prediction: prediction.prediction });
    if (current) messages.push({ type: 'explanation', primary: current.result, secondary: current.secondary, agreement: current.agreement });
    const attention = store.attention;
    if (attention) {
      messages.push({ type: 'attention', overview: { ...attentionOverview(attention.result, attention.text.split('\u0000')[0], this.level), ...pairAttentionView(attention.result, this.level) } });
      const views = activationViews(attention.result);
      if (views.length) messages.push({ type: 'activations', views });
    }
    return messages;
  }

  runExplain(settings: RunSettings): void {
    const merged = this.services.runSettings.update(settings);
    const input = this.subject;
    if (!input) {
      void this.explainSelection();
      return;
    }
    void this.explain(input, merged);
  }

  runCompare(settings: RunSettings, methods: [MethodName, MethodName]): void {
    const merged = this.services.runSettings.update({ ...settings, method: methods[0] });
    if (!this.subject) return;
    void this.explain(this.subject, merged, methods[1]);
  }

  loadAttention(level: Level): void {
    if (!this.subject) {
      this.services.panel.post({ type: 'error', message: 'Select text in an editor and run Show Attention or Explain Selection first.' });
      return;
    }
    void this.loadAttentionFor(this.subject, level);
  }

  loadRollout(method: 'rollout' | 'flow', layer?: number): void {
    const input = this.subject;
    if (!input) return;
    void (async () => {
      try {
        const settings = this.services.runSettings.current;
        const result = await this.runCancellable(`ONNX Lens: attention ${method}`, (signal, report) =>
          this.services.engine.request('explain', { text: input.text, textPair: input.pair?.text, method, layer, level: settings.level }, { label: `Attention ${method}`, signal, onProgress: report }),
        );
        this.services.panel.post({ type: 'rollout', result });
      } catch (error) {
        this.services.panel.post({ type: 'error', message: error instanceof Error ? error.message : String(error) });
        void showLensError(error, `Attention ${method}`);
      }
    })();
  }

  loadActivations(): void {
    const input = this.subject;
    if (!input) return;
    const model = this.services.engine.card?.sha256;
    const key = `activations\u0000${model}\u0000${input.text}`;
    if (this.viewLoads.has(key)) return;
    this.viewLoads.add(key);
    void (async () => {
      try {
        const result = await this.runCancellable('ONNX Lens: reading activations', (signal) => this.ensureAttention(input, signal));
        if (this.services.engine.card?.sha256 !== model) return;
        const views = activationViews(result);
        if (views.length === 0) {
          this.services.panel.post({ type: 'error', message: result.note ?? 'This model does not expose its hidden states.' });
          return;
        }
        this.services.panel.post({ type: 'activations', views });
      } catch (error) {
        this.services.panel.post({ type: 'error', message: error instanceof Error ? error.message : String(error) });
        void showLensError(error, 'Reading activations');
      } finally {
        this.viewLoads.delete(key);
      }
    })();
  }

  cancel(): void {
    this.services.cancelCurrent();
  }

  exportData(format: 'json' | 'html'): void {
    void exportData(this.services, format);
  }

  saveImage(format: 'png' | 'svg', name: string, data: string): void {
    void saveImage(format, name, data, exportGuard(this.services));
  }

  revealText(start: number, end: number, segment?: 0 | 1): void {
    const input = this.subject;
    if (!input?.uri) return;
    const offset = segment === 1 && input.pair ? input.pair.offset : input.offset;
    void (async () => {
      const document = await vscode.workspace.openTextDocument(vscode.Uri.parse(input.uri!));
      const editor = await vscode.window.showTextDocument(document, { preserveFocus: false, viewColumn: vscode.ViewColumn.One });
      const range = new vscode.Range(document.positionAt(offset + start), document.positionAt(offset + end));
      editor.selection = new vscode.Selection(range.start, range.end);
      editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    })();
  }

  attentionMatrix(params: HostRequests['attentionMatrix']['params']): AttentionMatrixView {
    const kept = this.services.store.attention;
    if (!kept) throw new Error('No attention has been read yet.');
    return attentionMatrixView(kept.result, params);
  }

  segmentBlock(params: HostRequests['segmentBlock']['params']): SegmentBlockView {
    const kept = this.services.store.attention;
    if (!kept) throw new Error('No attention has been read yet.');
    return segmentBlockView(kept.result, params);
  }

  topNeurons(params: HostRequests['topNeurons']['params']): NeuronValue[] {
    const kept = this.services.store.attention;
    if (!kept) return [];
    return topNeurons(kept.result, params.stack, params.layer, params.token);
  }
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > 40 ? `${flat.slice(0, 39)}…` : flat;
}

export function registerAnalysisCommands(_context: vscode.ExtensionContext, services: Services, controller: AnalysisController): vscode.Disposable {
  return vscode.Disposable.from(
    vscode.commands.registerCommand(Commands.explainSelection, () => controller.explainSelection()),
    vscode.commands.registerCommand(Commands.compareMethods, (second?: MethodName) => controller.compareMethods(second)),
    vscode.commands.registerCommand(Commands.showAttention, () => controller.showAttention()),
    vscode.commands.registerCommand(Commands.showActivations, () => controller.showActivations()),
    vscode.commands.registerCommand(Commands.highlightAttributions, async () => {
      const item = services.store.current;
      if (!item) {
        void notices.info('ONNX Lens: no explanation yet. Select text and run Explain Selection.');
        return;
      }
      if (item.uri && !vscode.window.visibleTextEditors.some((e) => e.document.uri.toString() === item.uri)) {
        await vscode.window.showTextDocument(vscode.Uri.parse(item.uri), { preview: false });
      }
      services.highlights.show(item);
    }),
    vscode.commands.registerCommand(Commands.clearHighlights, () => {
      services.highlights.clear();
      services.ghostText.clear();
    }),
    vscode.commands.registerCommand(Commands.showPanel, (args?: { explanationId?: string; feature?: number; tab?: PanelTab }) => {
      const item = args?.explanationId ? services.store.select(args.explanationId) : services.store.current;
      if (item && args?.explanationId) {
        const f = typeof args.feature === 'number' ? item.result.features[args.feature] : undefined;
        controller.showItem(item, args.tab ?? 'attributions', f ? { start: f.start, end: f.end } : undefined);
        return;
      }
      services.panel.show(args?.tab, undefined, false);
    }),
    vscode.commands.registerCommand(Commands.reopenExplanation, async (id?: string) => {
      const chosen = typeof id === 'string' ? id : await pickRecentExplanation(services);
      const item = chosen ? services.store.select(chosen) : undefined;
      if (item) controller.showItem(item);
    }),
  );
}

/** From the Command Palette: the recent explanations to choose from, newest first; says so when there are none. */
async function pickRecentExplanation(services: Services): Promise<string | undefined> {
  const recent = services.store.recent();
  if (!recent.length) {
    void notices.info('ONNX Lens: no explanation yet. Select some text and run Explain Selection first.');
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    recent.map((r) => ({ label: r.snippet, description: `${r.values} of ${r.target}`, detail: `${r.method} · ${new Date(r.createdAt).toLocaleTimeString()}`, id: r.id })),
    { title: 'ONNX Lens: Reopen Recent Explanation', placeHolder: 'The explanation to show in the panel and the editor' },
  );
  return picked?.id;
}
