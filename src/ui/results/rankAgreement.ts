/**
 * How much two attributions of the same text agree, measured on the order of importance: two
 * methods that disagree without saying so are a main source of misleading explanations. The
 * statistics are the engine's (one implementation, tested against hand computations).
 */
import { kendallTauB, spearman } from '../../engine/explain/agreement';
import type { RankAgreement } from '../../protocol/webviewMessages';

/** Indices of the k largest |values|, ties by position. */
export function topIndices(values: readonly number[], k: number): number[] {
  return values
    .map((_v, i) => i)
    .sort((x, y) => Math.abs(values[y]) - Math.abs(values[x]) || x - y)
    .slice(0, Math.max(0, Math.min(k, values.length)));
}

/** Agreement of two value lists over the same features, in the same order. */
export function rankAgreement(a: readonly number[], b: readonly number[], k = Math.min(5, a.length)): RankAgreement {
  if (a.length !== b.length) throw new RangeError(`the two attributions cover different features (${a.length} vs ${b.length})`);
  const ta = topIndices(a, k);
  const tb = new Set(topIndices(b, k));
  const shared = ta.filter((i) => tb.has(i));
  let sameSign = 0;
  let signed = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === 0 || b[i] === 0) continue;
    signed++;
    if (Math.sign(a[i]) === Math.sign(b[i])) sameSign++;
  }
  const safe = (f: () => number) => {
    try {
      return f();
    } catch {
      return NaN;
    }
  };
  return {
    spearman: a.length < 2 ? NaN : safe(() => spearman(a, b)),
    kendall: a.length < 2 ? NaN : safe(() => kendallTauB(a, b)),
    topK: { k, overlap: k === 0 ? NaN : shared.length / k, shared },
    signAgreement: signed === 0 ? NaN : sameSign / signed,
    features: a.length,
  };
}

/**
 * Aligns the features of two results by character span (they may come from different levels or
 * truncations) and returns the values of the spans both have.
 */
export function alignFeatures(
  a: readonly { start: number; end: number; value: number }[],
  b: readonly { start: number; end: number; value: number }[],
): { a: number[]; b: number[]; spans: { start: number; end: number }[] } {
  const bySpan = new Map(b.map((f) => [`${f.start}:${f.end}`, f.value]));
  const out = { a: [] as number[], b: [] as number[], spans: [] as { start: number; end: number }[] };
  for (const f of a) {
    const v = bySpan.get(`${f.start}:${f.end}`);
    if (v === undefined) continue;
    out.a.push(f.value);
    out.b.push(v);
    out.spans.push({ start: f.start, end: f.end });
  }
  return out;
}
