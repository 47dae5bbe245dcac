/** Rows that must have run before their measured pace replaces the first estimate. */
const MIN_ROWS_FOR_PACE = 8;

/**
 * How long a request will take, said before its work starts and refined as it runs. The first figure is the
 * rows planned times the time one row of this input took on its own; rows run in batches cost less, so it
 * errs long. Once enough rows have run, their measured pace replaces the single-row time.
 */
export class TimeEstimate {
  private readonly started = performance.now();
  private rows = 0;
  private msPerRow: number;
  /** The estimate made before any work, in ms. */
  readonly initialMs: number;

  constructor(
    /** Model rows the request plans to run at most. */
    readonly plannedRows: number,
    singleRowMs: number,
  ) {
    this.msPerRow = Math.max(0, singleRowMs);
    this.initialMs = this.plannedRows * this.msPerRow;
  }

  /** Records that `rows` model rows have run in all so far. */
  rowsRun(rows: number): void {
    this.rows = rows;
    if (rows >= MIN_ROWS_FOR_PACE) this.msPerRow = this.elapsedMs / rows;
  }

  get elapsedMs(): number {
    return performance.now() - this.started;
  }

  /** The whole request's expected time, in ms: what has passed plus the rows still planned at the current pace. */
  get estimatedMs(): number {
    return this.elapsedMs + Math.max(0, this.plannedRows - this.rows) * this.msPerRow;
  }
}

/** "850 ms", "12 s", "6 min 40 s", "1 h 5 min": a duration for a progress message. */
export function describeDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return 'unknown';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  const h = Math.floor(m / 60);
  return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
}
