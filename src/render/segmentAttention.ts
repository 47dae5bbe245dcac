/**
 * Attention between the two texts of a sentence pair (segment A, segment B): how much each head sends across
 * the pair, and the A→B and B→A blocks of its attention matrix. Special tokens ([CLS], [SEP]) belong to
 * neither text here: heads park much attention on them, which says nothing about how the texts relate.
 */
import type { AttentionResult, AttentionTensor, EncodedText, Level, Segment } from '../protocol/engineApi';
import type { PairAttentionOverview, SegmentBlockView, UnitLabel } from '../protocol/webviewMessages';
import { attentionUnits, AttentionUnit, headSlice, meanOverHeads, quantise } from './attentionViews';

/** How much attention crosses the pair in one layer, per head. */
export interface SegmentShares {
  layer: number;
  /**
   * Per head: the attention A's tokens pay to B's tokens, as the mean over A's tokens of the sum of their
   * attention to B (each row sums to 1, so 0.3 means 30 % of an A token's attention goes to B).
   */
  aToB: number[];
  /** The same from B's tokens to A's. */
  bToA: number[];
  /** Attention that stays inside A (from A's tokens to A's), and inside B. */
  aToA: number[];
  bToB: number[];
}

/** One block of a head's matrix between the texts, grouped into units (words or tokens). */
export interface SegmentBlock {
  from: Segment;
  rows: AttentionUnit[];
  cols: AttentionUnit[];
  /** [rows × cols]: row r's attention to column c (a word's rows are the mean of its tokens, columns the sum). */
  data: Float32Array;
}

/** Token indices of each text, special tokens left out. */
export function segmentTokens(encoded: EncodedText): [number[], number[]] {
  const out: [number[], number[]] = [[], []];
  encoded.tokens.forEach((t, i) => {
    if (!t.special && t.segment !== undefined) out[t.segment].push(i);
  });
  return out;
}

/** True when the result is a sentence pair with words in both texts. */
export function isPairResult(result: AttentionResult): boolean {
  const [a, b] = segmentTokens(result.encoded);
  return result.encoded.textPair !== undefined && a.length > 0 && b.length > 0;
}

/** Mean over `rows` of the attention each sends to `cols`, in one [queries × keys] matrix. */
function meanMass(m: Float32Array, keys: number, rows: readonly number[], cols: readonly number[]): number {
  if (rows.length === 0) return 0;
  let sum = 0;
  for (const q of rows) {
    const base = q * keys;
    for (const k of cols) sum += m[base + k];
  }
  return sum / rows.length;
}

/**
 * Per layer and head of the (encoder) self-attention, how much attention crosses between the texts of a
 * pair. Empty when the result is not a pair or exposes no self-attention.
 */
export function segmentShares(result: AttentionResult): SegmentShares[] {
  if (!isPairResult(result)) return [];
  const [a, b] = segmentTokens(result.encoded);
  return result.attentions
    .filter((t) => t.kind === 'self')
    .sort((x, y) => x.layer - y.layer)
    .map((t) => {
      const [, heads, , keys] = t.shape;
      const shares: SegmentShares = { layer: t.layer, aToB: [], bToA: [], aToA: [], bToB: [] };
      for (let h = 0; h < heads; h++) {
        const m = headSlice(t, h);
        shares.aToB.push(meanMass(m, keys, a, b));
        shares.bToA.push(meanMass(m, keys, b, a));
        shares.aToA.push(meanMass(m, keys, a, a));
        shares.bToB.push(meanMass(m, keys, b, b));
      }
      return shares;
    });
}

/** Units (words or tokens) of one text of the pair, special tokens left out. */
export function segmentUnits(encoded: EncodedText, level: Level, segment: Segment): AttentionUnit[] {
  return attentionUnits(encoded.tokens, encoded.words, level).filter((u) => !u.special && encoded.tokens[u.tokenIndices[0]].segment === segment);
}

/** The block of one head (or the mean of the heads when head < 0) from one text's units to the other's. */
export function segmentBlock(tensor: AttentionTensor, encoded: EncodedText, head: number, level: Level, from: Segment): SegmentBlock {
  const [, , , keys] = tensor.shape;
  const m = head < 0 ? meanOverHeads(tensor) : headSlice(tensor, head);
  const rows = segmentUnits(encoded, level, from);
  const cols = segmentUnits(encoded, level, from === 0 ? 1 : 0);
  const data = new Float32Array(rows.length * cols.length);
  rows.forEach((r, ri) => {
    cols.forEach((c, ci) => {
      let s = 0;
      for (const q of r.tokenIndices) for (const k of c.tokenIndices) s += m[q * keys + k];
      data[ri * cols.length + ci] = s / r.tokenIndices.length;
    });
  });
  return { from, rows, cols, data };
}

const label = (u: AttentionUnit): UnitLabel => ({ label: u.label, start: u.start, end: u.end, special: u.special });

/** What the attention overview adds for a sentence pair: `{ pair }`, or nothing for a single text. */
export function pairAttentionView(result: AttentionResult, level: Level): { pair?: PairAttentionOverview } {
  if (!isPairResult(result)) return {};
  const shares = segmentShares(result);
  if (shares.length === 0) return {};
  return {
    pair: {
      a: segmentUnits(result.encoded, level, 0).map(label),
      b: segmentUnits(result.encoded, level, 1).map(label),
      layers: shares.map((s) => ({ layer: s.layer, aToB: s.aToB, bToA: s.bToA })),
    },
  };
}

/** One head's block between the texts (head −1: mean of the heads), 8-bit, for the webview. */
export function segmentBlockView(result: AttentionResult, params: { layer: number; head: number; from: Segment; level: Level }): SegmentBlockView {
  const tensor = result.attentions.find((t) => t.kind === 'self' && t.layer === params.layer);
  if (!tensor) throw new RangeError(`No self-attention for layer ${params.layer + 1}.`);
  if (!isPairResult(result)) throw new RangeError('This attention is not of a sentence pair.');
  const head = params.head >= -1 && params.head < tensor.shape[1] ? params.head : -1;
  const from: Segment = params.from === 1 ? 1 : 0;
  const block = segmentBlock(tensor, result.encoded, head, params.level, from);
  const q = quantise(block.data);
  return { layer: params.layer, head, from, rows: block.rows.length, cols: block.cols.length, data: q.data, scale: q.scale };
}
