import type { MethodName, RemovalStrategy, ResolvedTarget } from '../../protocol/engineApi';
import type { ValueFunction } from '../explain/estimate';
import { explain } from '../explain/explainer';
import { isPerturbationMethod, MANY_EXPLANATIONS_BUDGET } from '../explain/methodBudgets';
import { defaultRemoval } from '../explain/explainText';
import type { LoadedModel, PreparedInput } from '../model/loadedModel';
import { BadInputError } from '../process/engineErrors';
import { coalitionRow } from '../run/inputVariants';
import { scalarExtractor } from '../run/outputReaders';

/** Methods usable for the many small explanations of robustness and dataset runs. */
export type PerturbationMethod = Exclude<MethodName, 'rollout' | 'flow'>;

/** A word of the input with the original tokens it stands for. */
export interface WordFeature {
  text: string;
  start: number;
  end: number;
  tokenIndices: number[];
}

/** The words of an input that can be removed (the [MASK] being read is locked). */
export function wordFeatures(input: PreparedInput, locked: Set<number>): WordFeature[] {
  return input.encoding.words
    .map((w) => ({ text: w.text, start: w.start, end: w.end, tokenIndices: w.tokenIndices.filter((i) => !locked.has(i)) }))
    .filter((w) => w.tokenIndices.length > 0);
}

export interface WordAttributionOptions {
  method: PerturbationMethod;
  budget?: number;
  seed: number;
  removal?: RemovalStrategy;
  isCancelled?: () => boolean;
}

/**
 * Per-word attributions of one target for one input, without the faithfulness curves a full explanation
 * adds: the cheap form robustness checks and dataset runs need, through the same batched evaluator and
 * removal strategies as explanations.
 */
export async function wordAttributions(
  model: LoadedModel,
  input: PreparedInput,
  target: ResolvedTarget,
  options: WordAttributionOptions,
): Promise<{ words: WordFeature[]; values: Float64Array; evaluations: number }> {
  if (!isPerturbationMethod(options.method)) {
    throw new BadInputError('Attention rollout and flow are not perturbation methods; use occlusion, LIME or a Shapley method here.');
  }
  const locked = new Set<number>();
  if (target.kind === 'masked-token' && target.position !== undefined) locked.add(target.position);
  const words = wordFeatures(input, locked);
  if (words.length === 0) return { words, values: new Float64Array(0), evaluations: 0 };
  const removal = options.removal ?? defaultRemoval(model);
  const base = input.baseInput(locked);
  const extractor = scalarExtractor(input.readSpec(target), target.id, target.contrastId);
  const evaluator = model.evaluatorFor(input);
  let evaluations = 0;
  const f: ValueFunction = async (coalitions) => {
    const rows = coalitions.map((c) => coalitionRow(base, words, c, removal));
    const r = await evaluator.evaluate(rows, extractor, { isCancelled: options.isCancelled });
    evaluations += r.distinctRuns;
    return Float64Array.from(r.values);
  };
  let values: Float64Array | undefined;
  for await (const estimate of explain(options.method, words.length, f, { budget: options.budget ?? MANY_EXPLANATIONS_BUDGET[options.method], seed: options.seed, isCancelled: options.isCancelled })) {
    values = estimate.values;
  }
  return { words, values: values ?? new Float64Array(words.length), evaluations };
}
