/**
 * The texts an explanation covers: one text, or the two texts of a sentence pair, each with the features
 * whose offsets point into it. Views draw each part on its own (offsets of segment B are into the second
 * text, not into the first).
 */
import type { FeatureValue, Segment } from '../protocol/engineApi';

export interface TextPart<F extends Pick<FeatureValue, 'start' | 'end' | 'value'> & { segment?: Segment }> {
  /** Undefined for a single text; 0 or 1 for the texts of a pair. */
  segment?: Segment;
  /** "A" / "B" for the texts of a pair. */
  label?: string;
  text: string;
  features: F[];
  /** Index of each feature of the part in the full feature list. */
  indices: number[];
}

/** One part per text: the text alone, or segment A then segment B of a pair. */
export function textParts<F extends Pick<FeatureValue, 'start' | 'end' | 'value'> & { segment?: Segment }>(
  r: { text: string; textPair?: string; features: readonly F[] },
): TextPart<F>[] {
  if (r.textPair === undefined) return [{ text: r.text, features: [...r.features], indices: r.features.map((_, i) => i) }];
  return ([0, 1] as const).map((segment) => {
    const indices = r.features.flatMap((f, i) => ((f.segment ?? 0) === segment ? [i] : []));
    return { segment, label: segment === 0 ? 'A' : 'B', text: segment === 0 ? r.text : (r.textPair as string), features: indices.map((i) => r.features[i]), indices };
  });
}
