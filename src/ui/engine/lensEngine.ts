import * as path from 'node:path';
import * as vscode from 'vscode';
import type { EngineApi, EngineMethod, ModelCard, ProgressEvent } from '../../protocol/engineApi';
import type { EngineStatus } from '../../protocol/webviewMessages';
import { EngineClient, EngineError, EngineState } from '../../engine/process/engineClient';
import { readConfig } from '../config';
import { notices } from '../notices';
import { OutputLog } from '../outputLog';

/** The user declined to run a model from an untrusted workspace. */
export class ConsentDeclinedError extends Error {
  constructor(readonly modelPath: string) {
    super(`The model in ${path.basename(modelPath)} was not run: the workspace is not trusted and running it was declined.`);
    this.name = 'ConsentDeclinedError';
  }
}

export interface LensRequestOptions {
  /** Shown in the sidebar and the log while the request runs. */
  label: string;
  signal?: AbortSignal;
  onProgress?: (progress: ProgressEvent) => void;
  /** Work the user did not start by hand (live mode): not shown as busy in the status bar and sidebar, and logged by the caller. */
  background?: boolean;
}

/**
 * What makes two opened models the same model: the folder, the export and the bytes. Results (a
 * prediction, attention, an explanation) belong to the model whose key they were made with.
 */
export function modelKey(card: Pick<ModelCard, 'path' | 'variant' | 'sha256'>): string {
  return `${card.path}\u0000${card.variant}\u0000${card.sha256}`;
}

/** True when `child` is `parent` or inside it. */
export function isInsideFolder(parent: string, child: string): boolean {
  const rel = path.relative(path.resolve(parent), path.resolve(child));
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * The extension's one engine: started on first use (nothing heavy at activation), restarted by the
 * client after a crash, stopped when settings that shape the runtime change. Keeps the model card
 * and the status the sidebar shows, and logs every request with its duration.
 */
export class LensEngine implements vscode.Disposable {
  private client: EngineClient | undefined;
  private cardValue: ModelCard | undefined;
  private statusValue: EngineStatus = { state: 'stopped' };
  private lastErrorValue: string | undefined;
  private readonly consented = new Set<string>();
  private readonly changed = new vscode.EventEmitter<void>();
  private readonly modelChanged = new vscode.EventEmitter<ModelCard | undefined>();
  /** Key of the model the results on screen belong to; a restart reopening it keeps it. */
  private openedKey: string | undefined;
  private lastProgressEmit = 0;
  /** The status and error the views were last told about. */
  private shownStatus = '';
  /** Fires when the model, the engine status or the last error changes. */
  readonly onDidChange = this.changed.event;
  /**
   * Fires when another model (or another export of it) replaces the open one, or when a failed open
   * leaves none: whatever was computed with the previous model no longer describes the open one.
   */
  readonly onDidChangeModel = this.modelChanged.event;

  constructor(
    private readonly entry: string,
    private readonly log: OutputLog,
  ) {}

  get pid(): number | undefined {
    return this.client?.pid;
  }

  get state(): EngineState {
    return this.client?.state ?? 'stopped';
  }

  /** Engines started so far (1 + restarts). */
  get starts(): number {
    return this.client?.starts ?? 0;
  }

  get card(): ModelCard | undefined {
    return this.cardValue;
  }

  get status(): EngineStatus {
    return this.statusValue;
  }

  get lastError(): string | undefined {
    return this.lastErrorValue;
  }

  /**
   * Opens a model. In an untrusted workspace a model file inside the workspace runs only after the
   * user agrees: an ONNX graph is code-like input to a native runtime.
   */
  async open(modelPath: string, variant?: string, signal?: AbortSignal): Promise<ModelCard> {
    await this.confirmTrust(modelPath);
    const config = readConfig();
    const params: EngineApi['open']['params'] = {
      modelPath,
      // A variant picked for this model wins; otherwise the setting is a preference: fp32 when the
      // folder has it (the engine's default), the quantized export when asked for.
      variant: variant ?? (config.modelVariant === 'quantized' ? 'quantized' : undefined),
      options: { executionProviders: config.executionProviders, threads: config.threads || undefined, maxTokens: config.maxTokens, memoryLimitMb: config.memoryLimitMb || undefined },
    };
    try {
      const card = await this.request('open', params, { label: `Opening ${path.basename(modelPath)}`, signal });
      this.cardValue = card;
      this.lastErrorValue = undefined;
      this.setOpenedKey(modelKey(card), card);
      this.log.info(`Model ${card.name}: ${card.family} ${card.task}, ${card.layers.value} layers × ${card.heads.value} heads, ${card.variant}${card.quantized ? ' (quantized)' : ''}, ${(card.bytes / 1e6).toFixed(1)} MB`);
      for (const w of card.warnings) this.log.info(`  warning: ${w}`);
      this.changed.fire();
      return card;
    } catch (error) {
      if (!(error instanceof EngineError && error.code === 'cancelled')) {
        this.cardValue = undefined;
        this.setOpenedKey(undefined, undefined);
      }
      this.syncStatus();
      throw error;
    }
  }

  /** The open model, opening the configured `onnxLens.modelPath` first if none is open yet. */
  async ensureModel(signal?: AbortSignal): Promise<ModelCard | undefined> {
    if (this.cardValue) return this.cardValue;
    const configured = readConfig().modelPath;
    if (!configured) return undefined;
    const resolved = path.isAbsolute(configured) ? configured : path.resolve(vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '', configured);
    return this.open(resolved, undefined, signal);
  }

  /** Sends one request to the engine, logging it and reflecting it in the status. */
  async request<M extends EngineMethod>(method: M, params: EngineApi[M]['params'], options: LensRequestOptions): Promise<EngineApi[M]['result']> {
    const client = this.ensureClient();
    if (!options.background) this.setStatus({ state: 'busy', label: options.label });
    try {
      const send = () =>
        client.request(method, params, {
          signal: options.signal,
          onProgress: (p) => {
            options.onProgress?.(p);
            const now = Date.now();
            if (!options.background && now - this.lastProgressEmit > 250) {
              this.lastProgressEmit = now;
              this.setStatus({ state: 'busy', label: options.label, done: p.done, total: p.total });
            }
          },
        });
      // Background work (one request per pause in typing) is logged by its caller, once, with what it showed.
      const result = options.background ? await send() : await this.log.timed(options.label, send);
      this.lastErrorValue = undefined;
      return result;
    } catch (error) {
      const e = error instanceof EngineError ? error : new EngineError('internal', error instanceof Error ? error.message : String(error));
      if (e.code !== 'cancelled') this.lastErrorValue = e.message;
      throw e;
    } finally {
      this.syncStatus();
    }
  }

  /** Stops the engine; the next request starts a fresh one and reopens the model. */
  restart(reason: string): void {
    if (!this.client) return;
    this.log.info(`Stopping the engine: ${reason}`);
    const reopen = this.cardValue;
    this.client.dispose();
    this.client = undefined;
    this.cardValue = undefined;
    this.setStatus({ state: 'stopped' });
    if (reopen) void this.open(reopen.path, reopen.variant).catch(() => undefined);
  }

  dispose(): void {
    this.client?.dispose();
    this.client = undefined;
    this.changed.dispose();
    this.modelChanged.dispose();
  }

  private setOpenedKey(key: string | undefined, card: ModelCard | undefined): void {
    if (key === this.openedKey) return;
    this.openedKey = key;
    this.modelChanged.fire(card);
  }

  private ensureClient(): EngineClient {
    if (this.client) return this.client;
    const seconds = readConfig().requestTimeoutSeconds;
    this.client = new EngineClient({
      entry: this.entry,
      requestTimeoutMs: seconds > 0 ? seconds * 1000 : 0,
      onLog: (message) => this.log.info(`engine: ${message}`),
      onStateChange: (state, detail) => {
        if (state === 'crashed' || (state === 'stopped' && detail)) {
          this.lastErrorValue = detail;
          this.setStatus({ state: 'crashed', message: detail ?? 'The engine stopped.' });
        } else if (state !== 'busy') {
          this.setStatus({ state });
        }
      },
    });
    return this.client;
  }

  private syncStatus(): void {
    const state = this.client?.state ?? 'stopped';
    if (state === 'busy') return;
    // A crash or forced stop keeps its message until the next request succeeds.
    if ((state === 'crashed' || state === 'stopped') && this.statusValue.state === 'crashed') return;
    if (this.lastErrorValue && !this.cardValue) {
      this.setStatus({ state: 'error', message: this.lastErrorValue });
      return;
    }
    this.setStatus({ state: state === 'crashed' ? 'stopped' : state });
  }

  private setStatus(status: EngineStatus): void {
    // Live mode sends a request per pause in typing: an unchanged status (and error) does not redraw the views.
    const key = JSON.stringify([status, this.lastErrorValue]);
    if (key === this.shownStatus) return;
    this.shownStatus = key;
    this.statusValue = status;
    this.changed.fire();
  }

  private async confirmTrust(modelPath: string): Promise<void> {
    if (vscode.workspace.isTrusted) return;
    const inWorkspace = (vscode.workspace.workspaceFolders ?? []).some((f) => f.uri.scheme === 'file' && isInsideFolder(f.uri.fsPath, modelPath));
    if (!inWorkspace || this.consented.has(path.resolve(modelPath))) return;
    const run = 'Run Model';
    const answer = await notices.ask(
      'Run a model from an untrusted workspace?',
      `${modelPath}\n\nThis workspace is not trusted. The ONNX file will be parsed and run by ONNX Runtime on this machine. Run it only if you trust where it came from.`,
      run,
    );
    if (answer !== run) throw new ConsentDeclinedError(modelPath);
    this.consented.add(path.resolve(modelPath));
  }
}
