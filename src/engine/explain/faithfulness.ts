import { CoalitionCache, emptyCoalition, fullCoalition } from './coalitionCache';
import type { ValueFunction } from './estimate';

/** ERASER's AOPC bins: the top 1, 5, 10, 20 and 50 % of the features. */
export const AOPC_BINS = [0.01, 0.05, 0.1, 0.2, 0.5] as const;

export interface FaithfulnessOptions {
  /** Fractions of the features to remove / keep (default AOPC_BINS). */
  bins?: readonly number[];
  /** f(all present) and f(all removed) when the caller already has them (saves two evaluations). */
  fullValue?: number;
  baseValue?: number;
  isCancelled?: () => boolean;
}

export interface FaithfulnessBin {
  fraction: number;
  /** Features removed / kept: ceil(fraction · n), at least 1. */
  k: number;
  /** f(x) − f(x without the top k). */
  comprehensiveness: number;
  /** f(x) − f(only the top k). */
  sufficiency: number;
}

export interface Curve {
  /** f after each step: values[0] before any step, values[n] after all n. */
  values: Float64Array;
  /** Trapezoid area under f over the fraction of steps taken (x from 0 to 1). */
  area: number;
  /** The same area with f rescaled so f(all removed) = 0 and f(all present) = 1; NaN when they are equal. */
  normalizedArea: number;
}

export interface FaithfulnessReport {
  fullValue: number;
  baseValue: number;
  bins: FaithfulnessBin[];
  /** AOPC comprehensiveness: mean over the bins (higher = the top features matter more). */
  comprehensiveness: number;
  /** AOPC sufficiency: mean over the bins (lower = the top features alone suffice). */
  sufficiency: number;
  /** Remove features in order of decreasing value (a faithful ranking falls fast: low area). */
  deletion: Curve;
  /** Add features to the empty input in order of decreasing value (a faithful ranking rises fast: high area). */
  insertion: Curve;
  /** Distinct coalitions evaluated. */
  evaluations: number;
}

/**
 * Faithfulness of an attribution (ERASER, DeYoung et al. 2020): comprehensiveness and sufficiency of the
 * top-k% features by signed value for each bin and their averages (AOPC), plus deletion and insertion curves.
 * Features are ranked by decreasing value, ties by index. Every coalition needed goes to f in one call.
 */
export async function faithfulness(values: ArrayLike<number>, f: ValueFunction, options: FaithfulnessOptions = {}): Promise<FaithfulnessReport> {
  const n = values.length;
  if (n === 0) throw new Error('faithfulness needs at least one feature value');
  const bins = options.bins ?? AOPC_BINS;
  for (const b of bins) if (!(b > 0 && b <= 1)) throw new Error(`faithfulness bins must be fractions in (0, 1], got ${b}`);
  const order = rankByValue(values);

  const coalitions: Uint8Array[] = [];
  const deletion: Uint8Array[] = [];
  const insertion: Uint8Array[] = [];
  for (let step = 0; step <= n; step++) {
    const removed = fullCoalition(n);
    const added = emptyCoalition(n);
    for (let t = 0; t < step; t++) {
      removed[order[t]] = 0;
      added[order[t]] = 1;
    }
    deletion.push(removed);
    insertion.push(added);
  }
  const ks = bins.map((b) => Math.min(n, Math.max(1, Math.ceil(b * n - 1e-9))));
  // Removing the top k is step k of the deletion curve; keeping it is step k of the insertion curve.
  coalitions.push(...deletion, ...insertion);

  const known = new Map<number, number>();
  if (options.fullValue !== undefined) known.set(1, options.fullValue);
  if (options.baseValue !== undefined) known.set(0, options.baseValue);
  const wrapped: ValueFunction = async (cs) => {
    // Coalitions whose values the caller supplied are answered here and not sent to f.
    const out = new Float64Array(cs.length);
    const ask: number[] = [];
    cs.forEach((c, i) => {
      const isFull = c.every((v) => v === 1);
      const isEmpty = c.every((v) => v === 0);
      const v = isFull ? known.get(1) : isEmpty ? known.get(0) : undefined;
      if (v === undefined) ask.push(i);
      else out[i] = v;
    });
    if (ask.length > 0) {
      const got = await f(ask.map((i) => cs[i]));
      ask.forEach((i, t) => (out[i] = got[t]));
    }
    return out;
  };
  const cachedF = new CoalitionCache(n, known.size > 0 ? wrapped : f, options.isCancelled);
  const all = await cachedF.evaluate(coalitions);
  const deletionValues = all.slice(0, n + 1);
  const insertionValues = all.slice(n + 1);
  const fullValue = deletionValues[0];
  const baseValue = insertionValues[0];

  const binReports = bins.map((fraction, i) => ({
    fraction,
    k: ks[i],
    comprehensiveness: fullValue - deletionValues[ks[i]],
    sufficiency: fullValue - insertionValues[ks[i]],
  }));
  const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
  return {
    fullValue,
    baseValue,
    bins: binReports,
    comprehensiveness: mean(binReports.map((b) => b.comprehensiveness)),
    sufficiency: mean(binReports.map((b) => b.sufficiency)),
    deletion: curve(deletionValues, fullValue, baseValue),
    insertion: curve(insertionValues, fullValue, baseValue),
    evaluations: cachedF.evaluations,
  };
}

/** Feature indices by decreasing value, ties by increasing index. */
export function rankByValue(values: ArrayLike<number>): number[] {
  const idx = Array.from({ length: values.length }, (_, j) => j);
  return idx.sort((a, b) => values[b] - values[a] || a - b);
}

function curve(values: Float64Array, fullValue: number, baseValue: number): Curve {
  const n = values.length - 1;
  let area = 0;
  for (let t = 0; t < n; t++) area += (values[t] + values[t + 1]) / 2 / n;
  const span = fullValue - baseValue;
  const normalizedArea = span === 0 ? Number.NaN : (area - baseValue) / span;
  return { values, area, normalizedArea };
}
