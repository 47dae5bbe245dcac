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
  /** Most steps per curve (default MAX_CURVE_STEPS): longer inputs remove or add several features a step. */
  maxSteps?: number;
}

/**
 * Most steps of a deletion or insertion curve. Each step is an evaluation, so a 500-word text would otherwise
 * spend 1,000 on its curves alone; past 100 features a step takes ⌈n / 100⌉ of them.
 */
export const MAX_CURVE_STEPS = 100;

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
  /** f after each step: values[0] before any step, the last after all n features. */
  values: Float64Array;
  /** Features removed (deletion) or added (insertion) at each value: 0, 1, …, n, or every ⌈n / maxSteps⌉-th and n. */
  counts: Int32Array;
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
  const { counts, ks, asked } = curvePoints(n, bins, options.maxSteps);
  const at = new Map(asked.map((t, i) => [t, i]));
  const deletion: Uint8Array[] = [];
  const insertion: Uint8Array[] = [];
  for (const t of asked) {
    const removed = fullCoalition(n);
    const added = emptyCoalition(n);
    for (let r = 0; r < t; r++) {
      removed[order[r]] = 0;
      added[order[r]] = 1;
    }
    deletion.push(removed);
    insertion.push(added);
  }
  const coalitions: Uint8Array[] = [...deletion, ...insertion];

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
  const deletionAt = all.slice(0, asked.length);
  const insertionAt = all.slice(asked.length);
  const fullValue = deletionAt[0];
  const baseValue = insertionAt[0];
  const deletionValues = Float64Array.from(counts, (t) => deletionAt[at.get(t)!]);
  const insertionValues = Float64Array.from(counts, (t) => insertionAt[at.get(t)!]);

  const binReports = bins.map((fraction, i) => ({
    fraction,
    k: ks[i],
    comprehensiveness: fullValue - deletionAt[at.get(ks[i])!],
    sufficiency: fullValue - insertionAt[at.get(ks[i])!],
  }));
  const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
  return {
    fullValue,
    baseValue,
    bins: binReports,
    comprehensiveness: mean(binReports.map((b) => b.comprehensiveness)),
    sufficiency: mean(binReports.map((b) => b.sufficiency)),
    deletion: curve(deletionValues, counts, fullValue, baseValue),
    insertion: curve(insertionValues, counts, fullValue, baseValue),
    evaluations: cachedF.evaluations,
  };
}

/**
 * How many of the top-ranked features each point of the curves removes or adds (`counts`: 0, a stride, …, n), the
 * bins' k, and every count evaluated (both, sorted): removing the top k is a point of the deletion curve, keeping
 * it one of the insertion curve, and a bin's k is added where the curve steps over it.
 */
function curvePoints(n: number, bins: readonly number[], maxSteps = MAX_CURVE_STEPS): { counts: number[]; ks: number[]; asked: number[] } {
  const stride = Math.ceil(n / Math.max(1, Math.floor(maxSteps)));
  const counts: number[] = [];
  for (let t = 0; t < n; t += stride) counts.push(t);
  counts.push(n);
  const ks = bins.map((b) => Math.min(n, Math.max(1, Math.ceil(b * n - 1e-9))));
  return { counts, ks, asked: [...new Set([...counts, ...ks])].sort((a, b) => a - b) };
}

/** The most evaluations `faithfulness` makes over n features, f(∅) and f(full) not counted (callers have them). */
export function faithfulnessCost(n: number, bins: readonly number[] = AOPC_BINS): number {
  return 2 * curvePoints(n, bins).asked.length - 2;
}

/** Feature indices by decreasing value, ties by increasing index. */
export function rankByValue(values: ArrayLike<number>): number[] {
  const idx = Array.from({ length: values.length }, (_, j) => j);
  return idx.sort((a, b) => values[b] - values[a] || a - b);
}

function curve(values: Float64Array, counts: number[], fullValue: number, baseValue: number): Curve {
  const n = counts[counts.length - 1];
  let area = 0;
  for (let i = 0; i + 1 < counts.length; i++) area += ((values[i] + values[i + 1]) / 2) * ((counts[i + 1] - counts[i]) / n);
  const span = fullValue - baseValue;
  const normalizedArea = span === 0 ? Number.NaN : (area - baseValue) / span;
  return { values, counts: Int32Array.from(counts), area, normalizedArea };
}
