/**
 * When live mode explains what: after each edit, a cheap first estimate once typing pauses briefly, and a
 * refined one once it pauses for the debounce time. A new edit aborts the work still running for older text
 * (the engine stops between two batches), so the engine only ever finishes work for the text on screen.
 * Pure: the clock is passed in, so the behaviour is tested without timers or VS Code.
 */

/** The two stages of a live explanation. */
export type LiveStage = 'first' | 'refined';

/** Runs one stage for a job; must stop (reject or resolve) soon after the signal aborts. */
export type LiveRunner<J> = (job: J, stage: LiveStage, signal: AbortSignal) => Promise<void>;

/** setTimeout / clearTimeout, or a fake in tests. */
export interface LiveClock {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface LiveSchedulerOptions {
  /** Pause after the last edit before the first estimate. */
  firstDelayMs: number;
  /** Pause after the last edit before the refinement (the debounce). */
  refineDelayMs: number;
  clock?: LiveClock;
}

const realClock: LiveClock = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export class LiveScheduler<J> {
  private controller: AbortController | undefined;
  private timers: unknown[] = [];
  private readonly clock: LiveClock;

  constructor(
    private readonly run: LiveRunner<J>,
    private readonly options: LiveSchedulerOptions,
  ) {
    this.clock = options.clock ?? realClock;
  }

  /** True while work (or a timer) is pending for the latest job. */
  get pending(): boolean {
    return this.controller !== undefined;
  }

  /**
   * The text changed: whatever runs or waits for older text is cancelled, and the two stages are scheduled
   * for `job`. The refinement starts after the first estimate has finished, never beside it.
   */
  changed(job: J, delays: Partial<Pick<LiveSchedulerOptions, 'firstDelayMs' | 'refineDelayMs'>> = {}): void {
    this.cancel();
    const controller = new AbortController();
    this.controller = controller;
    const { signal } = controller;
    let first: Promise<void> | undefined;
    const runStage = (stage: LiveStage) => (signal.aborted ? Promise.resolve() : this.run(job, stage, signal).catch(() => undefined));
    this.timers.push(
      this.clock.setTimeout(() => {
        first = runStage('first');
      }, delays.firstDelayMs ?? this.options.firstDelayMs),
      this.clock.setTimeout(() => {
        void (async () => {
          // The first timer fires no later than this one; its work may still be running.
          await first;
          await runStage('refined');
          if (this.controller === controller) this.controller = undefined;
        })();
      }, Math.max(delays.refineDelayMs ?? this.options.refineDelayMs, delays.firstDelayMs ?? this.options.firstDelayMs)),
    );
  }

  /** Cancels the work in flight and the stages still waiting. */
  cancel(): void {
    for (const t of this.timers) this.clock.clearTimeout(t);
    this.timers = [];
    this.controller?.abort();
    this.controller = undefined;
  }
}
