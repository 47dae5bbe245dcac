/**
 * Ranks 1..n with ties given the average of the ranks they span (the "fractional" ranking Spearman needs).
 */
export function averageRanks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a] - values[b]);
  const ranks = new Float64Array(n);
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && values[idx[j + 1]] === values[idx[i]]) j++;
    const r = (i + j) / 2 + 1;
    for (let t = i; t <= j; t++) ranks[idx[t]] = r;
    i = j + 1;
  }
  return ranks;
}

/** Spearman's rank correlation: Pearson correlation of the average ranks. NaN when either vector is constant. */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  checkPair(a, b);
  return pearson(averageRanks(a), averageRanks(b));
}

/** Pearson correlation; NaN when either vector has zero variance. */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  checkPair(a, b);
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i] - ma;
    const db = b[i] - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return saa === 0 || sbb === 0 ? Number.NaN : sab / Math.sqrt(saa * sbb);
}

/**
 * Kendall's tau-b: (concordant − discordant) / √((n₀ − n₁)(n₀ − n₂)), with n₀ = n(n−1)/2 and n₁, n₂ the
 * pairs tied in a and in b. O(n²), fine for the word counts of one explanation. NaN when either is constant.
 */
export function kendallTauB(a: ArrayLike<number>, b: ArrayLike<number>): number {
  checkPair(a, b);
  const n = a.length;
  let concordant = 0;
  let discordant = 0;
  let tiesA = 0;
  let tiesB = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const da = Math.sign(a[i] - a[j]);
      const db = Math.sign(b[i] - b[j]);
      if (da === 0) tiesA++;
      if (db === 0) tiesB++;
      if (da !== 0 && db !== 0) {
        if (da === db) concordant++;
        else discordant++;
      }
    }
  }
  const n0 = (n * (n - 1)) / 2;
  const denom = Math.sqrt((n0 - tiesA) * (n0 - tiesB));
  return denom === 0 ? Number.NaN : (concordant - discordant) / denom;
}

/**
 * |topk(a) ∩ topk(b)| / k. 'absolute' ranks by |value| (which features matter), 'signed' by value (which push
 * the output up). Ties are broken by feature index so the result is deterministic.
 */
export function topKOverlap(a: ArrayLike<number>, b: ArrayLike<number>, k: number, by: 'absolute' | 'signed' = 'absolute'): number {
  checkPair(a, b);
  if (!Number.isInteger(k) || k < 1 || k > a.length) throw new Error(`k must be a whole number in 1..${a.length}, got ${k}`);
  const top = (v: ArrayLike<number>): Set<number> => {
    const key = (i: number): number => (by === 'absolute' ? Math.abs(v[i]) : v[i]);
    const idx = Array.from({ length: v.length }, (_, i) => i).sort((x, y) => key(y) - key(x) || x - y);
    return new Set(idx.slice(0, k));
  };
  const ta = top(a);
  let common = 0;
  for (const i of top(b)) if (ta.has(i)) common++;
  return common / k;
}

function checkPair(a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length !== b.length) throw new Error(`the two value vectors differ in length (${a.length} and ${b.length})`);
  if (a.length === 0) throw new Error('the value vectors are empty');
}

/** A feature's place in the text and its value (a word of an explanation). */
export interface SpanValue {
  text?: string;
  start: number;
  end: number;
  value: number;
}

/**
 * The values of two attributions of the same text on the features both have, matched by character span: the
 * same word wherever each tokenizer (or level, or truncation) put it. Features only one side has are left out.
 */
export function alignBySpan(a: readonly SpanValue[], b: readonly SpanValue[]): { a: number[]; b: number[]; words: { text: string; start: number; end: number }[] } {
  const bySpan = new Map(b.map((f) => [`${f.start}:${f.end}`, f.value]));
  const out = { a: [] as number[], b: [] as number[], words: [] as { text: string; start: number; end: number }[] };
  for (const f of a) {
    const v = bySpan.get(`${f.start}:${f.end}`);
    if (v === undefined) continue;
    out.a.push(f.value);
    out.b.push(v);
    out.words.push({ text: f.text ?? '', start: f.start, end: f.end });
  }
  return out;
}

/** How far two value lists over the same features agree: on the order, on the top k by |value|, on the signs. */
export interface RankAgreementSummary {
  /** NaN when either list is constant or has fewer than two features. */
  spearman: number;
  kendall: number;
  /** The top k of each by |value| (ties by position), the share they have in common and which those are. */
  topK: { k: number; overlap: number; shared: number[] };
  /** Share of the features where both are non-zero that have the same sign (NaN when there are none). */
  signAgreement: number;
  features: number;
}

/** The default k of the top-k overlap: half the features, between 1 and 5. */
export function defaultTopK(n: number): number {
  return Math.min(5, Math.max(1, Math.ceil(n / 2)));
}

/**
 * The one comparison of two attributions, for two methods on one model (Compare Methods) and for one method on
 * two models (Compare Models, `onnx-lens compare`).
 */
export function rankAgreement(a: readonly number[], b: readonly number[], k = defaultTopK(a.length)): RankAgreementSummary {
  if (a.length !== b.length) throw new RangeError(`the two attributions cover different features (${a.length} vs ${b.length})`);
  const kk = Math.max(0, Math.min(k, a.length));
  const top = (v: readonly number[]) => v.map((_x, i) => i).sort((x, y) => Math.abs(v[y]) - Math.abs(v[x]) || x - y).slice(0, kk);
  const tb = new Set(top(b));
  const shared = top(a).filter((i) => tb.has(i));
  let sameSign = 0;
  let signed = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === 0 || b[i] === 0) continue;
    signed++;
    if (Math.sign(a[i]) === Math.sign(b[i])) sameSign++;
  }
  return {
    spearman: a.length < 2 ? Number.NaN : spearman(a, b),
    kendall: a.length < 2 ? Number.NaN : kendallTauB(a, b),
    topK: { k: kk, overlap: kk === 0 ? Number.NaN : shared.length / kk, shared },
    signAgreement: signed === 0 ? Number.NaN : sameSign / signed,
    features: a.length,
  };
}
