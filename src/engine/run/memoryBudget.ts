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
