/**
 * How much two attributions of the same text agree, measured on the order of importance: two
 * methods that disagree without saying so are a main source of misleading explanations.
 */
import type { RankAgreement } from '../../protocol/webviewMessages';

/** Average ranks (1-based), ties sharing the mean of their positions. */
export function averageRanks(values: readonly number[]): number[] {
  const order = values.map((v, i) => i).sort((a, b) => values[a] - values[b]);
  const ranks = new Array<number>(values.length);
  let i = 0;
  while (i < order.length) {
    let j = i;
    while (j + 1 < order.length && values[order[j + 1]] === values[order[i]]) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]] = r;
    i = j + 1;
  }
  return ranks;
}

function pearson(a: readonly number[], b: readonly number[]): number {
  const n = a.length;
  if (n < 2) return NaN;
  const ma = a.reduce((s, x) => s + x, 0) / n;
  const mb = b.reduce((s, x) => s + x, 0) / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return saa === 0 || sbb === 0 ? NaN : sab / Math.sqrt(saa * sbb);
}

/** Spearman's rho: Pearson correlation of average ranks (correct with ties). */
export function spearman(a: readonly number[], b: readonly number[]): number {
  return pearson(averageRanks(a), averageRanks(b));
}

/** Kendall's tau-b (tie-corrected), O(n²): feature counts are words of one selection. */
export function kendallTauB(a: readonly number[], b: readonly number[]): number {
  const n = a.length;
  let concordant = 0;
  let discordant = 0;
  let tiesA = 0;
  let tiesB = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const da = Math.sign(a[i] - a[j]);
      const db = Math.sign(b[i] - b[j]);
      if (da === 0 && db === 0) continue;
      if (da === 0) tiesA++;
      else if (db === 0) tiesB++;
      else if (da === db) concordant++;
      else discordant++;
    }
  }
  const denom = Math.sqrt((concordant + discordant + tiesA) * (concordant + discordant + tiesB));
  return denom === 0 ? NaN : (concordant - discordant) / denom;
}

/** Indices of the k largest |values|, ties by position. */
export function topIndices(values: readonly number[], k: number): number[] {
  return values
    .map((v, i) => i)
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
  return {
    spearman: spearman(a, b),
    kendall: kendallTauB(a, b),
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
  const byspan = new Map(b.map((f) => [`${f.start}:${f.end}`, f.value]));
  const out = { a: [] as number[], b: [] as number[], spans: [] as { start: number; end: number }[] };
  for (const f of a) {
    const v = byspan.get(`${f.start}:${f.end}`);
    if (v === undefined) continue;
    out.a.push(f.value);
    out.b.push(v);
    out.spans.push({ start: f.start, end: f.end });
  }
  return out;
}
