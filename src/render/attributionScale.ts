import type { ResolvedTarget } from '../protocol/engineApi';

/**
 * The diverging scale shared by editor highlights, the panel and the HTML report: a value is placed
 * in one of N buckets per sign by its size relative to the largest absolute value of the result,
 * so the strongest word always gets the strongest colour whatever the units of the output.
 */

export interface Bucket {
  sign: 'positive' | 'negative';
  /** 1 (weak) … buckets (strong). */
  level: number;
}

/** Largest absolute value, 0 for an empty or all-zero list. */
export function maxAbs(values: readonly number[]): number {
  let m = 0;
  for (const v of values) if (Number.isFinite(v) && Math.abs(v) > m) m = Math.abs(v);
  return m;
}

/**
 * Bucket of one value, or undefined when it is too small to colour (below half of the first
 * bucket), so near-zero words stay unpainted instead of all getting the faintest colour.
 */
export function bucketOf(value: number, scale: number, buckets = 5): Bucket | undefined {
  if (!Number.isFinite(value) || scale <= 0) return undefined;
  const r = Math.min(1, Math.abs(value) / scale);
  if (r < 0.5 / buckets) return undefined;
  const level = Math.max(1, Math.min(buckets, Math.ceil(r * buckets)));
  return { sign: value >= 0 ? 'positive' : 'negative', level };
}

/** Ranks by absolute value, 1 = most important; ties keep input order. */
export function ranksByMagnitude(values: readonly number[]): number[] {
  const order = values.map((v, i) => i).sort((a, b) => Math.abs(values[b]) - Math.abs(values[a]) || a - b);
  const ranks = new Array<number>(values.length);
  order.forEach((index, rank) => (ranks[index] = rank + 1));
  return ranks;
}

/** RGB of the scale at t ∈ [-1, 1]: blue (−) through transparent to red (+). Alpha grows with |t|. */
export function divergingRgba(t: number, maxAlpha = 0.8): string {
  const c = Math.max(-1, Math.min(1, Number.isFinite(t) ? t : 0));
  const [r, g, b] = c >= 0 ? [239, 68, 68] : [59, 130, 246];
  const a = Math.round(Math.abs(c) * maxAlpha * 1000) / 1000;
  return `rgba(${r}, ${g}, ${b}, ${a})`;
}

/**
 * What the two colours of an explanation mean for its target, in words: a positive value (red)
 * pushes toward the explained output, a negative one (blue) against it — toward the contrast when
 * there is one, or toward the runner-up of a two-way choice.
 */
export function attributionDirections(target: Pick<ResolvedTarget, 'label' | 'contrastLabel'>, runnerUp?: string): { positive: string; negative: string } {
  if (target.contrastLabel) {
    return { positive: `toward ${target.label} rather than ${target.contrastLabel}`, negative: `toward ${target.contrastLabel} rather than ${target.label}` };
  }
  return { positive: `toward ${target.label}`, negative: `away from ${target.label}${runnerUp ? ` (toward ${runnerUp})` : ''}` };
}

/** The value an explanation attributes, in words: the target's logit, or the difference of two. */
export function explainedQuantity(target: Pick<ResolvedTarget, 'label' | 'contrastLabel'>): string {
  return target.contrastLabel ? `logit(${target.label}) − logit(${target.contrastLabel})` : `the logit of ${target.label}`;
}
