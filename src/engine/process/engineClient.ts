import { ChildProcess, fork } from 'node:child_process';
import type {
  EngineApi,
  EngineErrorInfo,
  EngineMethod,
  EngineReply,
  EngineRequestMessage,
  ProgressEvent,
} from '../../protocol/engineApi';

/** An error from the engine, with a code the UI maps to a message and an action. */
export class EngineError extends Error {
  constructor(
    readonly code: EngineErrorInfo['code'],
    message: string,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

export type EngineState = 'stopped' | 'starting' | 'ready' | 'busy' | 'crashed';

export interface EngineClientOptions {
  /** The engine's entry script (bundled `dist/engine.js` or compiled `engineMain.js`). */
  entry: string;
  /** Time a request may take before the engine is killed (ms); 0 = none. */
  requestTimeoutMs?: number;
  /** After a soft cancel, time before the engine is killed if it has not stopped (ms). */
  cancelGraceMs?: number;
  env?: NodeJS.ProcessEnv;
  execArgv?: string[];
  onLog?: (message: string) => void;
  onStateChange?: (state: EngineState, detail?: string) => void;
}

export interface RequestOptions {
  onProgress?: (progress: ProgressEvent) => void;
  /** Aborting sends a soft cancel; the engine is killed if it does not stop within the grace time. */
  signal?: AbortSignal;
  timeoutMs?: number;
}

interface Pending {
  method: EngineMethod;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  onProgress?: (progress: ProgressEvent) => void;
  timers: NodeJS.Timeout[];
  cleanup: () => void;
}

/**
 * The caller's side of the engine process. Inference never runs on the caller's thread: a native
 * crash or out-of-memory kills the engine, not the editor. A crash rejects the requests in flight
 * with a clear error; the next request forks a fresh engine and reopens the last model.
 */
export class EngineClient {
  private child: ChildProcess | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private lastOpen: EngineApi['open']['params'] | undefined;
  private opening: Promise<unknown> | undefined;
  private stateValue: EngineState = 'stopped';
  private expectedExit = false;
  private stderrTail = '';
  /** How many engines have been started (1 + restarts). */
  starts = 0;

  constructor(private readonly options: EngineClientOptions) {}

  get state(): EngineState {
    return this.stateValue;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Sends a request; resolves with its result or rejects with an EngineError. */
  async request<M extends EngineMethod>(
    method: M,
    params: EngineApi[M]['params'],
    options: RequestOptions = {},
  ): Promise<EngineApi[M]['result']> {
    if (method === 'open') {
      this.lastOpen = params as EngineApi['open']['params'];
    } else if (!this.child && this.lastOpen) {
      // A fresh engine after a crash: reopen the model first, so the caller does not have to.
      await this.send('open', this.lastOpen, {});
    }
    return this.send(method, params, options);
  }

  private send<M extends EngineMethod>(
    method: M,
    params: EngineApi[M]['params'],
    options: RequestOptions,
  ): Promise<EngineApi[M]['result']> {
    const child = this.ensureStarted();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (options.signal?.aborted) {
        reject(new EngineError('cancelled', 'Cancelled.'));
        return;
      }
      const timers: NodeJS.Timeout[] = [];
      const onAbort = () => {
        child.send({ type: 'cancel', id });
        const grace = this.options.cancelGraceMs ?? 5000;
        timers.push(
          setTimeout(() => {
            if (this.pending.has(id)) this.kill('cancelled', 'The engine did not stop in time after Cancel and was restarted.');
          }, grace),
        );
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const entry: Pending = {
        method,
        resolve: resolve as (v: unknown) => void,
        reject,
        onProgress: options.onProgress,
        timers,
        cleanup: () => {
          options.signal?.removeEventListener('abort', onAbort);
          for (const t of timers) clearTimeout(t);
        },
      };
      this.pending.set(id, entry);
      const timeout = options.timeoutMs ?? this.options.requestTimeoutMs ?? 0;
      if (timeout > 0) {
        timers.push(
          setTimeout(() => {
            this.kill('timeout', `The engine took longer than ${Math.round(timeout / 1000)} s for "${method}" and was stopped. Lower the budget or the text length, or raise the timeout.`);
          }, timeout),
        );
      }
      this.setState('busy');
      const message: EngineRequestMessage<M> = { type: 'request', id, method, params };
      child.send(message);
    });
  }

  /** Stops the engine; requests in flight are rejected. */
  dispose(): void {
    this.expectedExit = true;
    this.child?.kill('SIGKILL');
    this.child = undefined;
    this.rejectAll(new EngineError('cancelled', 'The engine was stopped.'));
    this.setState('stopped');
  }

  private ensureStarted(): ChildProcess {
    if (this.child) return this.child;
    this.expectedExit = false;
    this.setState('starting');
    const child = fork(this.options.entry, [], {
      serialization: 'advanced',
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: this.options.env ?? process.env,
      // --expose-gc: the engine frees a model-sized buffer as soon as it is dead (see collectGarbage).
      execArgv: ['--expose-gc', ...(this.options.execArgv ?? [])],
    });
    this.starts++;
    child.stdout?.on('data', (d: Buffer) => this.options.onLog?.(d.toString().trimEnd()));
    child.stderr?.on('data', (d: Buffer) => {
      const text = d.toString().trimEnd();
      this.stderrTail = (this.stderrTail + '\n' + text).slice(-2000);
      this.options.onLog?.(text);
    });
    child.on('message', (m: EngineReply) => this.onMessage(m));
    child.on('exit', (code, signal) => {
      if (this.child !== child) return;
      this.child = undefined;
      if (this.expectedExit) return;
      const how = signal ? `was killed (${signal})` : `exited with code ${code}`;
      const lastError = this.stderrTail.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('at ')).pop();
      this.stderrTail = '';
      const message = `The engine process ${how} — often a native crash or running out of memory. It restarts on the next request and reopens the model.${lastError ? ` Last message: ${lastError}` : ''}`;
      this.options.onLog?.(message);
      this.rejectAll(new EngineError('crash', message));
      this.setState('crashed', message);
    });
    this.child = child;
    return child;
  }

  private onMessage(m: EngineReply): void {
    if (m.type === 'log') {
      this.options.onLog?.(m.message);
      return;
    }
    const p = this.pending.get(m.id);
    if (!p) return;
    if (m.type === 'progress') {
      p.onProgress?.(m.progress);
      return;
    }
    this.pending.delete(m.id);
    p.cleanup();
    if (m.ok) p.resolve(m.result);
    else p.reject(new EngineError(m.error.code, m.error.message));
    if (this.pending.size === 0) this.setState('ready');
  }

  /** Hard stop: kill the process and reject what was in flight with the given reason. */
  private kill(code: EngineErrorInfo['code'], message: string): void {
    const child = this.child;
    if (!child) return;
    this.expectedExit = true;
    this.child = undefined;
    child.kill('SIGKILL');
    this.options.onLog?.(message);
    this.rejectAll(new EngineError(code, message));
    this.setState('stopped', message);
  }

  private rejectAll(error: EngineError): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) {
      p.cleanup();
      p.reject(error);
    }
  }

  private setState(state: EngineState, detail?: string): void {
    this.stateValue = state;
    this.options.onStateChange?.(state, detail);
  }
}
