import { CancelledError } from './cancellation';
import { InputRow, rowKey } from './inputVariants';

/** Rows padded on the right into one batch, as the model's int64 inputs. */
export interface PaddedBatch {
  batch: number;
  seqLen: number;
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  tokenTypeIds: BigInt64Array;
  rows: InputRow[];
  /**
   * For each row, the one position whose outputs will be read, when the extractor says so: the runner may then
   * compute per-position outputs (logits over a vocabulary) at those positions only, shaped [batch, 1, …].
   */
  readPositions?: number[];
}

/** A tensor as it comes back from the runtime. */
export interface OutputTensor {
  dims: readonly number[];
  data: Float32Array;
}

export type BatchOutputs = Record<string, OutputTensor>;

/** Runs one padded batch through the model. */
export type BatchRunner = (batch: PaddedBatch) => Promise<BatchOutputs>;

/**
 * Reads what the caller needs for one row out of a batch's outputs (for example the logits at the
 * row's last real token), so large outputs like [batch, seq, vocab] are never kept.
 */
export interface RowExtractor<T> {
  /** Identifies what is extracted: cached values are shared only between equal keys. */
  key: string;
  extract(outputs: BatchOutputs, rowInBatch: number, row: InputRow): T;
  /** The one position of a row whose per-position outputs `extract` reads, when it reads only one. */
  readPosition?(row: InputRow): number;
}

export interface EvaluatorOptions {
  padId: number;
  /** Upper bound on batch × padded length, the memory budget of one run. */
  maxBatchTokens: number;
  /** Upper bound on rows per batch. */
  maxBatchRows: number;
  /**
   * The model's output for a row depends on the other rows of its run: dynamic int8 quantization
   * (`DynamicQuantizeLinear`) scales each activation tensor by its range over the whole batch, padding included
   * (the same text gave 0.5749–0.5926 in batches and 0.5936 alone). Such rows run one at a time, so every value
   * is the one the row has alone, as a prediction sees it.
   */
  rowsDependOnBatch: boolean;
  /**
   * A row joins a batch only while it fills at least this share of the batch's padded length: padding a 108-token
   * row to 256 costs more than a separate run (attention grows with the square of the length). 0 lets every row
   * within the memory budget join, for callers whose runs cost per batch (one head mask per run).
   */
  minFill: number;
  /**
   * Activation bytes one row of a padded length holds while it runs (attention grows with the square of the length);
   * with `maxBatchBytes` it bounds the rows of a batch of long rows, where `maxBatchTokens` alone would not.
   */
  rowBytes?: (paddedLength: number) => number;
  /** Upper bound on rows × rowBytes(padded length) of one batch. */
  maxBatchBytes?: number;
  /** Number of extracted values kept across calls (LRU). */
  cacheEntries: number;
}

export interface EvaluateControl {
  onProgress?: (done: number, total: number) => void;
  isCancelled?: () => boolean;
}

export interface EvaluateResult<T> {
  values: T[];
  /** Distinct rows actually run by the model in this call (after de-duplication and the cache). */
  distinctRuns: number;
  batches: number;
}


export const DEFAULT_EVALUATOR_OPTIONS: EvaluatorOptions = {
  padId: 0,
  maxBatchTokens: 16384,
  maxBatchRows: 128,
  rowsDependOnBatch: false,
  minFill: 0.8,
  cacheEntries: 50000,
};

/**
 * The batched evaluator: many variants of one input → padded batches → one value per variant.
 * Identical variants (and variants already seen, through an LRU cache) run once; rows are grouped
 * by length so padding stays small; cancel is honoured between batches.
 */
export class BatchedEvaluator {
  private readonly cache = new Map<string, unknown>();
  readonly options: EvaluatorOptions;
  /** Totals since creation, for logs and benchmarks. */
  readonly stats = { rowsRequested: 0, rowsRun: 0, batches: 0, runMs: 0 };

  constructor(
    private readonly runner: BatchRunner,
    options: Partial<EvaluatorOptions> = {},
  ) {
    this.options = { ...DEFAULT_EVALUATOR_OPTIONS, ...options };
  }

  async evaluate<T>(rows: InputRow[], extractor: RowExtractor<T>, control: EvaluateControl = {}): Promise<EvaluateResult<T>> {
    const values: T[] = new Array(rows.length);
    // Distinct rows still to run: key → indices of the requests waiting for it.
    const pending = new Map<string, { row: InputRow; waiting: number[] }>();
    for (let i = 0; i < rows.length; i++) {
      const key = `${extractor.key}#${rowKey(rows[i])}`;
      if (this.cache.has(key)) {
        const v = this.cache.get(key) as T;
        // Refresh recency.
        this.cache.delete(key);
        this.cache.set(key, v);
        values[i] = v;
        continue;
      }
      const entry = pending.get(key);
      if (entry) entry.waiting.push(i);
      else pending.set(key, { row: rows[i], waiting: [i] });
    }
    this.stats.rowsRequested += rows.length;

    const work = [...pending.entries()];
    // Longest first keeps padding small and surfaces out-of-memory early.
    work.sort((a, b) => b[1].row.ids.length - a[1].row.ids.length);
    const batches = this.planBatches(work.map(([, w]) => w.row.ids.length));
    let done = 0;
    control.onProgress?.(0, work.length);
    for (const [from, to] of batches) {
      // Let queued messages (a cancel) be handled: session.run blocks the event loop while it runs.
      await new Promise((resolve) => setImmediate(resolve));
      if (control.isCancelled?.()) throw new CancelledError();
      const slice = work.slice(from, to);
      const padded = padRows(slice.map(([, w]) => w.row), this.options.padId);
      if (extractor.readPosition) padded.readPositions = slice.map(([, w]) => extractor.readPosition!(w.row));
      const started = performance.now();
      const outputs = await this.runner(padded);
      this.stats.runMs += performance.now() - started;
      for (let r = 0; r < slice.length; r++) {
        const [key, w] = slice[r];
        const v = extractor.extract(outputs, r, w.row);
        for (const i of w.waiting) values[i] = v;
        this.remember(key, v);
      }
      done += slice.length;
      this.stats.batches++;
      this.stats.rowsRun += slice.length;
      control.onProgress?.(done, work.length);
    }
    return { values, distinctRuns: work.length, batches: batches.length };
  }

  /** Mean model time per row run so far (ms), or undefined before the first run. */
  get msPerRow(): number | undefined {
    return this.stats.rowsRun > 0 ? this.stats.runMs / this.stats.rowsRun : undefined;
  }

  clearCache(): void {
    this.cache.clear();
  }

  /**
   * Cuts rows (sorted longest first) into [from, to) ranges within the memory budget (tokens, and activation bytes
   * when the model's shape is known). A batch also ends where rows get much shorter than its first one (see
   * `minFill`).
   */
  private planBatches(lengths: number[]): [number, number][] {
    const out: [number, number][] = [];
    let from = 0;
    while (from < lengths.length) {
      const width = Math.max(1, lengths[from]);
      const byTokens = Math.max(1, Math.floor(this.options.maxBatchTokens / width));
      const rows = this.options.rowsDependOnBatch ? 1 : this.options.maxBatchRows;
      const { rowBytes, maxBatchBytes } = this.options;
      const byBytes = rowBytes && maxBatchBytes ? Math.max(1, Math.floor(maxBatchBytes / rowBytes(width))) : Infinity;
      const limit = Math.min(lengths.length, from + Math.min(byTokens, byBytes, rows));
      let to = from + 1;
      while (to < limit && lengths[to] >= width * this.options.minFill) to++;
      out.push([from, to]);
      from = to;
    }
    return out;
  }

  private remember(key: string, value: unknown): void {
    this.cache.set(key, value);
    while (this.cache.size > this.options.cacheEntries) {
      const oldest = this.cache.keys().next().value as string;
      this.cache.delete(oldest);
    }
  }
}

/** Pads rows on the right to the longest one; padding has attention 0. */
export function padRows(rows: InputRow[], padId: number): PaddedBatch {
  const batch = rows.length;
  const seqLen = Math.max(1, ...rows.map((r) => r.ids.length));
  const inputIds = new BigInt64Array(batch * seqLen).fill(BigInt(padId));
  const attentionMask = new BigInt64Array(batch * seqLen);
  const tokenTypeIds = new BigInt64Array(batch * seqLen);
  rows.forEach((row, b) => {
    const o = b * seqLen;
    for (let i = 0; i < row.ids.length; i++) {
      inputIds[o + i] = BigInt(row.ids[i]);
      attentionMask[o + i] = BigInt(row.attention[i]);
      tokenTypeIds[o + i] = BigInt(row.typeIds[i]);
    }
  });
  return { batch, seqLen, inputIds, attentionMask, tokenTypeIds, rows };
}
