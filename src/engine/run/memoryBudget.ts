import * as os from 'node:os';
import { BadInputError } from '../process/engineErrors';

/** Bytes a request may plan to hold: the engine's `memoryLimitMb` option, or half of the machine's memory. */
export function memoryLimitBytes(limitMb?: number): number {
  if (limitMb !== undefined && Number.isFinite(limitMb) && limitMb > 0) return limitMb * 1024 * 1024;
  return Math.floor(os.totalmem() / 2);
}

/** "412 MB", "3.1 GB". */
export function describeBytes(bytes: number): string {
  const mb = bytes / (1024 * 1024);
  return mb < 1024 ? `${Math.max(1, Math.round(mb))} MB` : `${(mb / 1024).toFixed(1)} GB`;
}

/**
 * Refuses a request whose estimated memory exceeds the limit, before it allocates anything large: a request that
 * runs the engine out of memory kills it (and whatever else it held), so it is cheaper to say so up front.
 * @throws BadInputError naming the estimate, the limit and `fix`.
 */
export function refuseOverMemory(what: string, estimateBytes: number, limitBytes: number, fix: string): void {
  if (estimateBytes <= limitBytes) return;
  throw new BadInputError(
    `${what} would need about ${describeBytes(estimateBytes)} of memory, more than the engine's limit of ${describeBytes(limitBytes)}. ${fix}`,
  );
}

/**
 * What an explanation holds at most, besides the model: each coalition (its bits, key and value), the evaluator's
 * cached rows (a key of about 6 characters per token, at most `cacheEntries` of them), and the rows of the largest
 * single call (four arrays of the row's length each) — a quarter of the plan is an upper bound on one round.
 */
export function explanationBytes(plannedRows: number, tokens: number, features: number, cacheEntries: number): number {
  const perCoalition = features + 120;
  const perCachedRow = 6 * tokens + 120;
  const perRowInFlight = 40 * tokens + 200;
  return plannedRows * perCoalition + Math.min(plannedRows, cacheEntries) * perCachedRow + Math.ceil(plannedRows / 4) * perRowInFlight;
}

/**
 * Activation bytes one batch of model rows may take, by {@link rowActivationBytes}: that estimate counts every layer's
 * attention scores at once where the runtime holds a layer's or two, so the batch's real working set is a fraction
 * of it. Short texts keep their batches (a GPT-2-sized row of 30 tokens is 1.7 MB: 128 rows), long ones get fewer
 * rows (200 tokens: 31 MB, 17 rows instead of the 40 that 8,192 tokens allowed; 500 tokens: 3 rows instead of 16).
 */
export const BATCH_ACTIVATION_BYTES = 512 * 1024 * 1024;

/** The shape that sets a transformer's activation memory. */
export interface ActivationShape {
  layers: number;
  heads: number;
  hidden: number;
}

/**
 * Bytes of float32 activations one row of `tokens` tokens holds while it runs, at most: the attention scores of every
 * layer and head (layers × heads × tokens² × 4 bytes: they grow with the square of the length) and the hidden states
 * entering and leaving every layer ((layers + 1) × tokens × hidden × 4 bytes). `crossTokens` adds a text-to-text
 * decoder's scores over the encoder's tokens.
 */
export function rowActivationBytes(shape: ActivationShape, tokens: number, crossTokens = 0): number {
  return 4 * (shape.layers * shape.heads * tokens * (tokens + crossTokens) + (shape.layers + 1) * tokens * shape.hidden);
}

/**
 * Runs a full garbage collection where the process allows it (the engine is started with --expose-gc; elsewhere this
 * does nothing). A model file read into memory, or a rewritten copy of it, is as large as the model; once a runtime
 * session holds the weights it is dead, but V8 collects it only at its next full collection, and the runtime's own
 * allocations — invisible to V8 — never prompt one: a GPT-2-sized model's dead copies kept 1.3 GB for seconds.
 */
export function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}
