/**
 * Bars for a prediction's candidates that can be compared whatever the vocabulary: a classifier's
 * few classes share all the probability, so a bar is the probability itself; a language model's
 * top candidates may hold a fraction of a percent between them (GPT-2 spreads its mass over 50,257
 * tokens), so each bar is the candidate's share among the candidates shown, and the caption says so.
 */
import type { Candidate } from '../protocol/engineApi';
import { visibleToken } from './tokenText';

export interface CandidateBar {
  /** The label as the model names it. */
  label: string;
  /** The label with invisible characters made visible. */
  shown: string;
  probability: number;
  /** "93.1%", "0.0042%", "3.1e-7%": always enough digits to tell candidates apart. */
  probabilityText: string;
  /** Bar length in [0, 1]. */
  fraction: number;
}

export interface CandidateBars {
  bars: CandidateBar[];
  /** What a bar's length means. */
  scale: 'probability' | 'share of those shown';
  caption: string;
}

/** A probability as a percentage with at least two significant digits. */
export function formatProbability(p: number): string {
  if (!Number.isFinite(p)) return '—';
  const percent = p * 100;
  if (percent >= 1 || percent === 0) return `${percent.toFixed(1)}%`;
  return `${percent.toPrecision(2)}%`;
}

/** The candidates' bars and what their lengths mean. */
export function candidateBars(candidates: readonly Candidate[]): CandidateBars {
  const total = candidates.reduce((s, c) => s + (Number.isFinite(c.probability) ? c.probability : 0), 0);
  const whole = total >= 0.995;
  const bars = candidates.map((c) => ({
    label: c.label,
    shown: visibleToken(c.label),
    probability: c.probability,
    probabilityText: formatProbability(c.probability),
    fraction: whole || total <= 0 ? Math.max(0, Math.min(1, c.probability)) : c.probability / total,
  }));
  if (whole) return { bars, scale: 'probability', caption: 'Bar length: probability.' };
  return {
    bars,
    scale: 'share of those shown',
    caption: `Bar length: share among these ${candidates.length} candidates (renormalised: together they hold ${formatProbability(total)} of the probability). Numbers: probability.`,
  };
}
