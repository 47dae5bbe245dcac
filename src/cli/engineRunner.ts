import * as path from 'node:path';
import type { EngineApi, EngineMethod, ModelCard, ProgressEvent } from '../protocol/engineApi';
import { EngineClient, EngineError } from '../engine/process/engineClient';
import { CliError, ExitCode, ExitCodeValue } from './exitCodes';
import { ProgressLine } from './progressLine';

/** Maps an engine failure to the exit code scripts see. */
export function exitCodeForEngineError(error: EngineError, interrupted: boolean): ExitCodeValue {
  if (interrupted || error.code === 'cancelled') return ExitCode.interrupted;
  if (error.code === 'bad-input') return ExitCode.badInput;
  return ExitCode.model;
}

/** What every engine-backed command shares: where the engine is, how to report, how to stop. */
export interface RunnerOptions {
  /** Aborted on Ctrl-C: the request in flight is cancelled and the command exits with 130. */
  signal: AbortSignal;
  progress: ProgressLine;
  /** Engine log lines (model opened, timings); shown with --verbose. */
  onLog?: (message: string) => void;
  /** The engine bundle; default `engine.js` beside this bundle (both live in dist/). */
  entry?: string;
}

/**
 * One engine process for one command. Inference runs in the engine process, never in the CLI's
 * own event loop, so Ctrl-C is handled at once: the engine process is killed right away (a command
 * has nothing to wait for; what it wants to keep of an interrupted run came with the progress events).
 */
export class EngineRunner {
  private readonly client: EngineClient;

  constructor(private readonly options: RunnerOptions) {
    this.client = new EngineClient({
      entry: options.entry ?? path.join(__dirname, 'engine.js'),
      // A cancelled CLI run has nothing to wait for: the engine is killed at once, so Ctrl-C exits within moments.
      cancelGraceMs: 0,
      onLog: options.onLog,
    });
  }

  /** Opens a model; failures are model errors (exit 2) unless the engine calls them bad input. */
  async open(modelPath: string, variant: string | undefined, label = 'Opening model'): Promise<ModelCard> {
    return this.request('open', { modelPath, variant }, label);
  }

  /**
   * Sends one request, showing its progress, and turns engine failures into CliErrors. `on.progress` takes
   * over the progress display and sees every event (a generation's streamed tokens); `on.partial` gets the
   * partial results that progress events carry (a dataset run's figures so far).
   */
  async request<M extends EngineMethod>(
    method: M,
    params: EngineApi[M]['params'],
    label: string,
    on: { progress?: (p: ProgressEvent) => void; partial?: (partial: unknown) => void } = {},
  ): Promise<EngineApi[M]['result']> {
    const { signal, progress } = this.options;
    if (signal.aborted) throw new CliError('Interrupted.', ExitCode.interrupted);
    progress.update(`${label}…`);
    try {
      return await this.client.request(method, params, {
        signal,
        onProgress: (p: ProgressEvent) => {
          if (p.partial !== undefined) on.partial?.(p.partial);
          if (on.progress) on.progress(p);
          else progress.update(`${label}: ${p.message ?? `${p.done}/${p.total}`}`, p.done, p.total);
        },
      });
    } catch (err) {
      if (signal.aborted) throw new CliError('Interrupted.', ExitCode.interrupted);
      if (err instanceof EngineError) throw new CliError(err.message, exitCodeForEngineError(err, false));
      throw err;
    } finally {
      progress.clear();
    }
  }

  /** Stops the engine process. */
  dispose(): void {
    this.client.dispose();
  }
}
