/**
 * Turns the engine's attention tensors into what the views draw: per-word or per-token matrices,
 * small thumbnails of every head for the model view, and 8-bit copies for the webview. A 512-token
 * input with 12 × 12 heads is 150 MB of float32; the webview gets thumbnails first (a few hundred
 * kB) and full matrices of one layer only when it opens them.
 */
import type { AttentionKind, AttentionResult, AttentionTensor, EncodedText, Level, TokenView } from '../protocol/engineApi';
import type { AttentionMatrixView, AttentionOverview, HeadGridThumbnails, UnitLabel } from '../protocol/webviewMessages';

/** One row/column of a displayed matrix: a word (its sub-words grouped) or a token. */
export interface AttentionUnit {
  label: string;
  start: number;
  end: number;
  tokenIndices: number[];
  special: boolean;
}

/**
 * Rows/columns for a level. Special tokens ([CLS], [SEP], </s>) stay units of their own at word
 * level: heads park much of their attention on them, and hiding that would distort the picture.
 */
export function attentionUnits(tokens: readonly TokenView[], words: EncodedText['words'] | undefined, level: Level): AttentionUnit[] {
  const units: AttentionUnit[] = [];
  if (level === 'token' || !words) {
    tokens.forEach((t, i) => units.push({ label: t.text, start: t.start, end: t.end, tokenIndices: [i], special: t.special }));
    return units;
  }
  let current: AttentionUnit | undefined;
  let currentWord = -1;
  tokens.forEach((t, i) => {
    if (t.special || t.wordIndex < 0) {
      current = undefined;
      currentWord = -1;
      units.push({ label: t.text, start: t.start, end: t.end, tokenIndices: [i], special: true });
      return;
    }
    if (current && t.wordIndex === currentWord) {
      current.tokenIndices.push(i);
      current.end = Math.max(current.end, t.end);
      return;
    }
    const w = words[t.wordIndex];
    current = { label: w ? w.text : t.text, start: w ? w.start : t.start, end: w ? w.end : t.end, tokenIndices: [i], special: false };
    currentWord = t.wordIndex;
    units.push(current);
  });
  return units;
}

/** The tokens a tensor's queries and keys refer to, by attention kind. */
export function sidesOf(kind: AttentionKind, encoded: EncodedText): { queries: readonly TokenView[]; keys: readonly TokenView[] } {
  const decoder = encoded.decoder?.tokens ?? [];
  if (kind === 'decoder') return { queries: decoder, keys: decoder };
  if (kind === 'cross') return { queries: decoder, keys: encoded.tokens };
  return { queries: encoded.tokens, keys: encoded.tokens };
}

/** Units of both sides of a tensor kind. Decoder tokens have no word grouping, so they stay tokens. */
export function unitsFor(kind: AttentionKind, encoded: EncodedText, level: Level): { rows: AttentionUnit[]; cols: AttentionUnit[] } {
  const encoderUnits = attentionUnits(encoded.tokens, encoded.words, level);
  const decoderUnits = attentionUnits(encoded.decoder?.tokens ?? [], undefined, 'token');
  if (kind === 'decoder') return { rows: decoderUnits, cols: decoderUnits };
  if (kind === 'cross') return { rows: decoderUnits, cols: encoderUnits };
  return { rows: encoderUnits, cols: encoderUnits };
}

/** The [queries × keys] slice of one head (a view, no copy). */
export function headSlice(tensor: AttentionTensor, head: number): Float32Array {
  const [, , q, k] = tensor.shape;
  return tensor.data.subarray(head * q * k, (head + 1) * q * k);
}

/** Mean over heads of one tensor: [queries × keys]. */
export function meanOverHeads(tensor: AttentionTensor): Float32Array {
  const [, heads, q, k] = tensor.shape;
  const out = new Float32Array(q * k);
  for (let h = 0; h < heads; h++) {
    const s = headSlice(tensor, h);
    for (let i = 0; i < out.length; i++) out[i] += s[i];
  }
  for (let i = 0; i < out.length; i++) out[i] /= heads;
  return out;
}

/**
 * Groups a [queries × keys] matrix into units: the attention from a word is the mean over its
 * tokens (each query row sums to 1, so grouped rows still do) and the attention to a word is the
 * sum over its tokens.
 */
export function groupMatrix(matrix: Float32Array, keyCount: number, rows: readonly AttentionUnit[], cols: readonly AttentionUnit[]): Float32Array {
  const out = new Float32Array(rows.length * cols.length);
  rows.forEach((r, ri) => {
    const rowScale = 1 / r.tokenIndices.length;
    cols.forEach((c, ci) => {
      let s = 0;
      for (const q of r.tokenIndices) {
        const base = q * keyCount;
        for (const k of c.tokenIndices) s += matrix[base + k];
      }
      out[ri * cols.length + ci] = s * rowScale;
    });
  });
  return out;
}

/** True when every unit is one token in order, so grouping would be a copy. */
function isIdentity(units: readonly AttentionUnit[], count: number): boolean {
  return units.length === count && units.every((u, i) => u.tokenIndices.length === 1 && u.tokenIndices[0] === i);
}

/** One head (or the mean of all heads when head < 0), grouped into units. */
export function unitMatrix(tensor: AttentionTensor, head: number, rows: readonly AttentionUnit[], cols: readonly AttentionUnit[]): Float32Array {
  const [, , q, k] = tensor.shape;
  const m = head < 0 ? meanOverHeads(tensor) : headSlice(tensor, head);
  if (isIdentity(rows, q) && isIdentity(cols, k)) return m;
  return groupMatrix(m, k, rows, cols);
}

/** 8-bit copy scaled to the largest value, so weak heads stay visible; `scale` maps 255 back. */
export function quantise(values: Float32Array, out?: Uint8Array, offset = 0): { data: Uint8Array; scale: number } {
  let max = 0;
  for (let i = 0; i < values.length; i++) if (values[i] > max) max = values[i];
  const data = out ?? new Uint8Array(values.length);
  const f = max > 0 ? 255 / max : 0;
  for (let i = 0; i < values.length; i++) data[offset + i] = Math.round(Math.max(0, values[i]) * f);
  return { data, scale: max };
}

/**
 * Max-pools a [rows × cols] matrix to at most size × size, so sharp single-token patterns (a head
 * that looks at the previous token) survive at thumbnail size.
 */
export function maxPool(m: Float32Array, rows: number, cols: number, size: number): { data: Float32Array; rows: number; cols: number } {
  const r = Math.min(rows, size);
  const c = Math.min(cols, size);
  if (r === rows && c === cols) return { data: m, rows, cols };
  const out = new Float32Array(r * c);
  for (let i = 0; i < rows; i++) {
    const oi = Math.floor((i * r) / rows);
    for (let j = 0; j < cols; j++) {
      const oj = Math.floor((j * c) / cols);
      const v = m[i * cols + j];
      if (v > out[oi * c + oj]) out[oi * c + oj] = v;
    }
  }
  return { data: out, rows: r, cols: c };
}

/**
 * Cells per side of a model-view thumbnail: up to 64 words every word keeps its own row and column
 * (a 60-word sentence reads word by word); longer inputs are max-pooled to 64 × 64.
 */
export const THUMBNAIL_CELLS = 64;

/** Thumbnails of every head of every layer of one kind, for the model view. */
export function headThumbnails(result: AttentionResult, kind: AttentionKind, level: Level, size = THUMBNAIL_CELLS): HeadGridThumbnails | undefined {
  const tensors = result.attentions.filter((t) => t.kind === kind).sort((a, b) => a.layer - b.layer);
  if (tensors.length === 0) return undefined;
  const { rows, cols } = unitsFor(kind, result.encoded, level);
  const heads = tensors[0].shape[1];
  const tr = Math.min(rows.length, size);
  const tc = Math.min(cols.length, size);
  const data = new Uint8Array(tensors.length * heads * tr * tc);
  const scales = new Float32Array(tensors.length * heads);
  tensors.forEach((t, li) => {
    for (let h = 0; h < heads; h++) {
      const m = unitMatrix(t, h, rows, cols);
      const pooled = maxPool(m, rows.length, cols.length, size);
      const index = li * heads + h;
      scales[index] = quantise(pooled.data, data, index * tr * tc).scale;
    }
  });
  return { kind, layers: tensors.map((t) => t.layer), heads, rows: tr, cols: tc, data, scales };
}

/** Kinds present in a result, in display order. */
export function attentionKinds(result: AttentionResult): AttentionKind[] {
  const order: AttentionKind[] = ['self', 'decoder', 'cross'];
  return order.filter((k) => result.attentions.some((t) => t.kind === k));
}

/**
 * The units a unit attends to most in the last layer (mean over heads), leaving out itself and
 * special tokens: what the hover shows for a word.
 */
export function topAttendedUnits(result: AttentionResult, unitIndex: number, level: Level, count = 3): { unit: AttentionUnit; weight: number }[] {
  const selfTensors = result.attentions.filter((t) => t.kind === 'self');
  if (selfTensors.length === 0) return [];
  const last = selfTensors.reduce((a, b) => (b.layer > a.layer ? b : a));
  const { rows, cols } = unitsFor('self', result.encoded, level);
  if (unitIndex < 0 || unitIndex >= rows.length) return [];
  const m = unitMatrix(last, -1, rows, cols);
  const row = Array.from(m.subarray(unitIndex * cols.length, (unitIndex + 1) * cols.length));
  return row
    .map((weight, i) => ({ unit: cols[i], weight, i }))
    .filter((x) => x.i !== unitIndex && !x.unit.special)
    .sort((a, b) => b.weight - a.weight)
    .slice(0, count)
    .map(({ unit, weight }) => ({ unit, weight }));
}

/** Index of the unit covering a character span, by overlap. */
export function unitAt(units: readonly AttentionUnit[], start: number, end: number): number {
  return units.findIndex((u) => !u.special && u.start < end && start < u.end);
}

/** Everything the model view needs for one level: thumbnails of all heads of all kinds, and labels. */
export function attentionOverview(result: AttentionResult, text: string, level: Level): AttentionOverview {
  const kinds = attentionKinds(result);
  const label = (u: AttentionUnit): UnitLabel => ({ label: u.label, start: u.start, end: u.end, special: u.special });
  return {
    text,
    level,
    grids: kinds.map((k) => headThumbnails(result, k, level)).filter((g): g is HeadGridThumbnails => g !== undefined),
    units: kinds.map((kind) => {
      const u = unitsFor(kind, result.encoded, level);
      return { kind, rows: u.rows.map(label), cols: u.cols.map(label) };
    }),
    note: result.note,
    truncation: result.encoded.truncation,
  };
}

/** Full matrices of some heads of one layer (−1 = mean over heads), 8-bit, for the matrix and head views. */
export function attentionMatrixView(result: AttentionResult, params: { kind: AttentionKind; layer: number; heads: number[]; level: Level }): AttentionMatrixView {
  const tensor = result.attentions.find((t) => t.kind === params.kind && t.layer === params.layer);
  if (!tensor) throw new RangeError(`No ${params.kind} attention for layer ${params.layer + 1}.`);
  const { rows, cols } = unitsFor(params.kind, result.encoded, params.level);
  const heads = params.heads.filter((h) => h >= -1 && h < tensor.shape[1]);
  const size = rows.length * cols.length;
  const data = new Uint8Array(heads.length * size);
  const scales = heads.map((h, i) => quantise(unitMatrix(tensor, h, rows, cols), data, i * size).scale);
  return { kind: params.kind, layer: params.layer, heads, rows: rows.length, cols: cols.length, data, scales };
}
