/**
 * Where each attributed word of an explanation lies in the document and how it is painted: pure
 * data, so the bucket and rank logic is tested without VS Code.
 */
import type { ExplanationResult } from '../../protocol/engineApi';
import { ATTRIBUTION_BUCKETS, attributionColorId } from '../ids';
import { bucketOf, maxAbs, ranksByMagnitude } from '../../render/attributionScale';

export interface HighlightRange {
  /** Document offsets. */
  start: number;
  end: number;
  text: string;
  value: number;
  /** 1 = most important word of the explanation. */
  rank: number;
  /** Index into the explanation's features. */
  feature: number;
  /** Theme colour id, or undefined for a word too weak to paint. */
  colorId?: string;
  /** Signed bucket: −5 … −1, 1 … 5; 0 when not painted. */
  bucket: number;
}

/**
 * The ranges to paint for an explanation whose text starts at `offset` in the document (a sentence pair's
 * second text at `pairOffset`).
 */
export function highlightRanges(result: Pick<ExplanationResult, 'features'>, offset: number, buckets = ATTRIBUTION_BUCKETS, pairOffset = offset): HighlightRange[] {
  const values = result.features.map((f) => f.value);
  const scale = maxAbs(values);
  const ranks = ranksByMagnitude(values);
  return result.features
    .map((f, i) => {
      const b = bucketOf(f.value, scale, buckets);
      const at = f.segment === 1 ? pairOffset : offset;
      return {
        start: at + f.start,
        end: at + f.end,
        text: f.text,
        value: f.value,
        rank: ranks[i],
        feature: i,
        colorId: b ? attributionColorId(b.sign, b.level) : undefined,
        bucket: b ? (b.sign === 'positive' ? b.level : -b.level) : 0,
      };
    })
    .filter((r) => r.end > r.start);
}

/** The range under a document offset, if any. */
export function rangeAt<T extends { start: number; end: number }>(ranges: readonly T[], offset: number): T | undefined {
  return ranges.find((r) => r.start <= offset && offset < r.end) ?? ranges.find((r) => r.end === offset);
}
