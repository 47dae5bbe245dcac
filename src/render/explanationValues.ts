/**
 * What the numbers of an explanation are, in words: Shapley values, Owen values, LIME weights, occlusion
 * differences or attention shares; how far they may still move; and how long they took. Shared by the panel,
 * the hover, the sidebar and the reports, so that none of them calls Owen values Shapley values.
 */
import type { ExplanationResult, MethodName } from '../protocol/engineApi';
import { durationText } from './durationText';

export type ValueKind = NonNullable<ExplanationResult['valueKind']>;

/** The parts of an explanation that say what its values are. */
export type DescribedValues = Pick<ExplanationResult, 'valueKind' | 'convergence'> & { provenance: Pick<ExplanationResult['provenance'], 'method'> };

/**
 * What the values are. Results that do not say (saved before the engine named them) are read from their
 * method: Partition SHAP gives Shapley values only when its hierarchy was flat, which its convergence then
 * calls exact; otherwise Owen values.
 */
export function valueKindOf(r: DescribedValues): ValueKind {
  if (r.valueKind) return r.valueKind;
  switch (r.provenance.method) {
    case 'exact-shapley':
    case 'kernel-shap':
      return 'shapley';
    case 'partition-shap':
      return r.convergence.kind === 'exact' ? 'shapley' : 'owen';
    case 'lime':
      return 'lime';
    case 'rollout':
    case 'flow':
      return 'attention';
    default:
      return 'occlusion';
  }
}

const NAMES: Record<ValueKind, { one: string; many: string }> = {
  shapley: { one: 'Shapley value', many: 'Shapley values' },
  owen: { one: 'Owen value', many: 'Owen values' },
  lime: { one: 'LIME weight', many: 'LIME weights' },
  occlusion: { one: 'occlusion difference', many: 'occlusion differences' },
  attention: { one: 'attention share', many: 'attention shares' },
};

/** "Owen values", "Shapley values", "LIME weights", …; `one` gives the singular ("Owen value"). */
export function valuesName(r: DescribedValues, count: 'one' | 'many' = 'many'): string {
  return NAMES[valueKindOf(r)][count];
}

/** The values' name with capital initial, for headings: "Owen values", "LIME weights", "Occlusion differences". */
export function valuesHeading(r: DescribedValues): string {
  const name = valuesName(r);
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/** One sentence on what the values are, for a reader who has not met the term. */
export function valuesMeaning(r: DescribedValues): string {
  switch (valueKindOf(r)) {
    case 'shapley':
      return 'Shapley values: each word’s contribution averaged over every order in which the words could be added; they add up to the output minus the base value.';
    case 'owen':
      return 'Owen values over the text’s hierarchy (sentences, clauses, neighbouring words): Shapley values within each group and between groups, equal to Shapley values only where words do not interact across groups. They add up to the output minus the base value.';
    case 'lime':
      return 'LIME weights: the coefficients of a linear surrogate fitted to the model on perturbed texts.';
    case 'occlusion':
      return 'Occlusion differences: how much the output drops when the word (or window) alone is removed.';
    case 'attention':
      return 'Attention shares: how much of the attention reaching the output position comes from each word; not contributions to the output.';
  }
}

/**
 * What a cell of the generation matrix (prompt word × generated token) is, by method. Only the Shapley-family
 * methods add up along a row; occlusion and LIME values do not, and the text must not say they do.
 */
export function generationCellMeaning(method: MethodName): string {
  switch (method) {
    case 'exact-shapley':
    case 'kernel-shap':
    case 'partition-shap':
      return 'Each cell: how much the prompt word moved the log-probability of the generated token (teacher forced on the tokens before it); red raises it, blue lowers it. Per row the values add up to log p with the whole prompt minus log p with none of it.';
    case 'lime':
      return 'Each cell: the LIME weight of the prompt word for the log-probability of the generated token (a linear fit over perturbed prompts); red raises it, blue lowers it. The weights need not add up to anything.';
    default:
      return 'Each cell: log p of the generated token with the whole prompt minus log p without that word alone (occlusion); red raises it, blue lowers it. Words that act together can each look small, so a row need not add up to anything.';
  }
}

/** A number of the convergence estimate: three significant digits, a minus sign as in the charts. */
function small(v: number): string {
  return (Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(2)).replace('-', '−');
}

/**
 * How far the values may still move, in words: "exact", "exact Owen values (not Shapley values)",
 * "standard error up to 0.012", "moved up to 0.03 in the last round", "not estimated"; ", not final" when
 * the budget ran out before the method converged.
 */
export function convergenceText(c: ExplanationResult['convergence']): string {
  let text: string;
  switch (c.kind) {
    case 'exact':
      text = 'exact';
      break;
    case 'exact-owen':
      text = 'exact Owen values of the text’s hierarchy (not Shapley values)';
      break;
    case 'std-error':
      text = Number.isFinite(c.max) ? `standard error up to ${small(c.max)}` : 'standard error not known';
      break;
    case 'change-between-rounds':
      text = Number.isFinite(c.max) ? `moved up to ${small(c.max)} in the last round` : 'change between rounds not known';
      break;
    case 'not-estimated':
      text = 'not estimated';
      break;
    default:
      text = Number.isFinite(c.max) ? `${c.kind} ${small(c.max)}` : c.kind;
  }
  return c.final ? text : `${text}, not final (a larger budget gives a closer estimate)`;
}

/** "1.3 s (estimated 1.1 s), 266 model rows": the time an explanation took against the engine's estimate. */
export function timingText(t: NonNullable<ExplanationResult['timing']>): string {
  const rows = `${t.modelRows.toLocaleString('en-US')} model row${t.modelRows === 1 ? '' : 's'}`;
  const estimate = Number.isFinite(t.estimatedMs) && t.estimatedMs > 0 ? ` (estimated ${durationText(t.estimatedMs)})` : '';
  return `${durationText(t.elapsedMs)}${estimate}, ${rows}`;
}
