/**
 * Live mode: while the user types, the line being edited (or the selection live mode was switched on with)
 * is explained again at each pause. A first estimate by occlusion follows a short pause; the refinement with
 * the configured method and budget follows the debounce. Each edit cancels the work still running for the
 * older text. Only the edited region is repainted: highlights elsewhere stay where they are.
 */
import * as vscode from 'vscode';
import type { ExplainParams, ExplanationResult, MethodName, ProgressEvent } from '../../protocol/engineApi';
import type { LiveStatus } from '../../protocol/webviewMessages';
import { EngineError } from '../../engine/process/engineClient';
import { explainParams, partialFeatures } from '../commands/explainParams';
import { requireModel } from '../commands/modelCommands';
import { affectsLens, readConfig } from '../config';
import { highlightRanges } from '../editor/attributionRanges';
import type { OffsetRange } from '../editor/rangeShift';
import { Commands, ContextKeys, Settings } from '../ids';
import type { Services } from '../services';
import { regionAfterEdits } from './liveRegion';
import { LiveScheduler, LiveStage } from './liveScheduler';

/** Pause after a keystroke before the first estimate (occlusion: n + 2 model rows). */
export const LIVE_FIRST_DELAY_MS = 50;
/** Requests remembered for the test hook and the log. */
const HISTORY_LIMIT = 200;

/** One request live mode sent, as tests and the log see it. */
export interface LiveRequestRecord {
  text: string;
  stage: LiveStage;
  method: MethodName;
  outcome: 'running' | 'done' | 'cancelled' | 'error';
  /** The engine reported progress on it: it was working on this text when the outcome came. */
  started: boolean;
  /** Progress events with a partial estimate that were painted. */
  partialsPainted: number;
  evaluations?: number;
  error?: string;
}

/** What live mode follows after an edit: a document, and the editor it was typed in. */
interface LiveJob {
  uri: string;
  document: vscode.TextDocument;
}

/** True for documents a person types prose in (not output channels, logs or the settings editor's internals). */
function isEditable(document: vscode.TextDocument): boolean {
  return ['file', 'untitled', 'vscode-remote', 'vscode-userdata'].includes(document.uri.scheme);
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 40 ? `${flat.slice(0, 39)}…` : flat;
}

export class LiveMode implements vscode.Disposable {
  private on = false;
  /** The selection live mode was switched on with, following the edits; undefined: the edited line. */
  private tracked: { uri: string; region: OffsetRange } | undefined;
  private readonly scheduler: LiveScheduler<LiveJob>;
  private readonly records: LiveRequestRecord[] = [];
  /** The first estimate of the text being refined: partial refinements are painted over its prediction. */
  private lastFirst: ExplanationResult | undefined;
  private lastError: string | undefined;
  private lastPainted: { text: string; label: string; probability: number; stage: LiveStage } | undefined;
  private readonly changed = new vscode.EventEmitter<void>();
  private readonly subscriptions: vscode.Disposable[];
  /** Fires when live mode is switched, paints a result or meets an error. */
  readonly onDidChange = this.changed.event;

  /**
   * @param describe makes a text the one the panel describes, so that its other tabs (attention, activations)
   *   load for the text live mode just explained, not for an older selection.
   */
  constructor(
    private readonly services: Services,
    private readonly describe: (input: { text: string; uri: string; offset: number }) => void = () => undefined,
  ) {
    this.scheduler = new LiveScheduler<LiveJob>((job, stage, signal) => this.runStage(job, stage, signal), {
      firstDelayMs: LIVE_FIRST_DELAY_MS,
      refineDelayMs: readConfig().liveDebounceMs,
    });
    this.subscriptions = [
      vscode.workspace.onDidChangeTextDocument((e) => this.onEdit(e)),
      vscode.workspace.onDidCloseTextDocument((d) => {
        if (this.tracked?.uri === d.uri.toString()) this.tracked = undefined;
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (affectsLens(e, Settings.liveDebounceMs)) this.scheduler.cancel();
      }),
    ];
  }

  get isOn(): boolean {
    return this.on;
  }

  /** What the sidebar and the status bar show. */
  get status(): LiveStatus {
    return {
      on: this.on,
      region: this.on ? (this.tracked ? 'selection' : 'line') : undefined,
      last: this.on ? this.lastPainted : undefined,
      error: this.on ? this.lastError : undefined,
    };
  }

  /** Requests sent so far, oldest first (tests read this; at most the last 200). */
  get history(): readonly LiveRequestRecord[] {
    return this.records;
  }

  /**
   * Switches live mode on or off (toggles without an argument). On needs a model: without one it asks, as
   * Explain Selection does, and stays off when none is opened. On with text selected follows that selection;
   * otherwise the line being edited. Off cancels the work in flight and clears what live mode painted.
   */
  async toggle(on?: boolean): Promise<boolean> {
    const next = on ?? !this.on;
    if (next === this.on) return this.on;
    if (next) {
      if (!(await requireModel(this.services))) return false;
      this.on = true;
      this.lastError = undefined;
      const editor = vscode.window.activeTextEditor;
      this.tracked =
        editor && !editor.selection.isEmpty && isEditable(editor.document)
          ? { uri: editor.document.uri.toString(), region: { start: editor.document.offsetAt(editor.selection.start), end: editor.document.offsetAt(editor.selection.end) } }
          : undefined;
      this.services.log.info(`Live mode on (${this.tracked ? 'the selection' : 'the line being edited'}; refined after ${readConfig().liveDebounceMs} ms)`);
      if (editor && isEditable(editor.document)) this.scheduler.changed({ uri: editor.document.uri.toString(), document: editor.document }, { firstDelayMs: 0, refineDelayMs: 0 });
    } else {
      this.on = false;
      this.scheduler.cancel();
      this.tracked = undefined;
      this.lastPainted = undefined;
      this.services.highlights.removeWhere((id) => this.services.store.isLive(id));
      this.services.log.info('Live mode off');
    }
    void vscode.commands.executeCommand('setContext', ContextKeys.liveMode, this.on);
    this.changed.fire();
    return this.on;
  }

  dispose(): void {
    this.scheduler.cancel();
    for (const s of this.subscriptions) s.dispose();
    this.changed.dispose();
  }

  private onEdit(e: vscode.TextDocumentChangeEvent): void {
    if (!this.on || e.contentChanges.length === 0 || !isEditable(e.document)) return;
    const uri = e.document.uri.toString();
    if (this.tracked?.uri === uri) {
      const region = regionAfterEdits(this.tracked.region, e.contentChanges);
      // The selection was deleted: follow the line being edited from now on.
      this.tracked = region ? { uri, region } : undefined;
    }
    const active = vscode.window.activeTextEditor?.document;
    if (active === e.document) {
      this.scheduler.changed({ uri, document: e.document }, { refineDelayMs: readConfig().liveDebounceMs });
    } else if (this.scheduler.pending) {
      // An edit elsewhere (another editor, an extension): offsets of the work in flight may be stale.
      this.scheduler.cancel();
    }
  }

  /** The region to explain now: the tracked selection, or the line of the cursor in the job's editor. */
  private regionOf(job: LiveJob): OffsetRange | undefined {
    const document = job.document;
    if (document.isClosed) return undefined;
    if (this.tracked?.uri === job.uri) return this.tracked.region;
    const editor = [vscode.window.activeTextEditor, ...vscode.window.visibleTextEditors].find((e) => e?.document === document);
    if (!editor) return undefined;
    const line = document.lineAt(editor.selection.active.line);
    return { start: document.offsetAt(line.range.start), end: document.offsetAt(line.range.end) };
  }

  private async runStage(job: LiveJob, stage: LiveStage, signal: AbortSignal): Promise<void> {
    const region = this.regionOf(job);
    if (!region || signal.aborted) return;
    const { document } = job;
    const text = document.getText(new vscode.Range(document.positionAt(region.start), document.positionAt(region.end)));
    if (text.trim().length === 0) {
      this.services.highlights.clearRegion(job.uri, region);
      return;
    }
    const settings = this.services.runSettings.current;
    if (stage === 'refined' && settings.method === 'occlusion' && this.lastFirst?.text === text) return; // the first estimate is it
    const params: ExplainParams =
      stage === 'first' ? { ...explainParams(text, settings, 'occlusion'), faithfulness: false } : explainParams(text, settings);
    const record: LiveRequestRecord = { text, stage, method: params.method, outcome: 'running', started: false, partialsPainted: 0 };
    this.records.push(record);
    if (this.records.length > HISTORY_LIMIT) this.records.splice(0, this.records.length - HISTORY_LIMIT);
    const version = document.version;
    let coloured = 0;
    const paint = (result: ExplanationResult, final: boolean) => {
      if (signal.aborted || document.version !== version || document.isClosed) return false;
      const item = this.services.store.addLive({ uri: job.uri, offset: region.start, result, settings });
      this.services.highlights.showInRegion(item, region);
      coloured = highlightRanges(result, region.start).filter((r) => r.colorId).length;
      const top = result.fullOutput.candidates[0];
      // The status bar, the sidebar and the panel follow the last result of a text only: a first estimate
      // comes at each short pause in typing, and redrawing them then would compete with the typing.
      if (final && top && (stage === 'refined' || settings.method === 'occlusion')) {
        this.lastPainted = { text, label: top.label, probability: top.probability, stage };
        this.lastError = undefined;
        this.services.store.setPrediction(text, result.fullOutput);
        this.changed.fire();
      }
      return true;
    };
    const onProgress = (p: ProgressEvent) => {
      record.started = true;
      const partial = stage === 'refined' ? partialFeatures(p) : undefined;
      if (partial && this.lastFirst?.text === text && partial.length === this.lastFirst.features.length) {
        if (paint({ ...this.lastFirst, features: partial }, false)) record.partialsPainted++;
      }
    };
    try {
      const label = stage === 'first' ? 'Live estimate (occlusion)' : `Live explanation (${params.method}, budget ${settings.budget})`;
      const started = Date.now();
      const result = await this.services.engine.request('explain', params, { label, signal, onProgress, background: true });
      record.outcome = 'done';
      record.evaluations = result.evaluations;
      if (stage === 'first') this.lastFirst = result;
      if (!paint(result, true)) return;
      this.services.log.info(`Live ${stage === 'first' ? 'estimate' : 'explanation'} painted: ${text.length} characters, ${coloured} words coloured, "${snippet(text)}" → ${result.target.label} (${params.method}, ${result.evaluations} evaluations, ${Date.now() - started} ms)`);
      if ((stage === 'refined' || settings.method === 'occlusion') && this.services.panel.isOpen) {
        this.describe({ text, uri: job.uri, offset: region.start });
        this.services.panel.post({ type: 'prediction', prediction: result.fullOutput });
        this.services.panel.post({ type: 'explanation', primary: result });
      }
    } catch (error) {
      if (error instanceof EngineError && error.code === 'cancelled') {
        record.outcome = 'cancelled';
        return;
      }
      record.outcome = 'error';
      record.error = error instanceof Error ? error.message : String(error);
      // Typing on should not raise a notification per pause: the status bar and the sidebar show it.
      if (!signal.aborted && this.lastError !== record.error) {
        this.lastError = record.error;
        this.services.log.info(`Live ${stage === 'first' ? 'estimate' : 'explanation'} failed: ${record.error}`);
        this.changed.fire();
      }
    }
  }
}

/** The Toggle Live Mode command and its status bar switch (shown once a model is open, or while on). */
export function registerLiveMode(services: Services, live: LiveMode): vscode.Disposable {
  const item = vscode.window.createStatusBarItem('onnxLens.live', vscode.StatusBarAlignment.Right, 99);
  item.name = 'ONNX Lens Live Mode';
  item.command = Commands.toggleLiveMode;
  const update = () => {
    const s = live.status;
    item.text = s.on ? (s.error ? '$(warning) Live' : '$(zap) Live') : '$(circle-slash) Live';
    item.backgroundColor = s.on ? new vscode.ThemeColor(s.error ? 'statusBarItem.warningBackground' : 'statusBarItem.prominentBackground') : undefined;
    const tip = new vscode.MarkdownString();
    if (!s.on) tip.appendText('ONNX Lens live mode is off. Click to explain the line being edited as you type.');
    else {
      tip.appendText(`ONNX Lens live mode is on: ${s.region === 'selection' ? 'the selection it was switched on with' : 'the line being edited'} is explained as you type. Click to turn it off.`);
      if (s.last) tip.appendText(`\n\n${s.last.label} ${(s.last.probability * 100).toFixed(1)}% — "${snippet(s.last.text)}"`);
      if (s.error) tip.appendText(`\n\n${s.error}`);
    }
    item.tooltip = tip;
    item.accessibilityInformation = { label: `ONNX Lens live mode ${s.on ? 'on' : 'off'}`, role: 'checkbox' };
    if (s.on || services.engine.card) item.show();
    else item.hide();
  };
  update();
  return vscode.Disposable.from(
    item,
    live.onDidChange(update),
    services.engine.onDidChange(update),
    vscode.commands.registerCommand(Commands.toggleLiveMode, (on?: boolean) => live.toggle(typeof on === 'boolean' ? on : undefined)),
  );
}
