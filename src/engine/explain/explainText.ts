import type {
  ExplainParams,
  ExplanationResult,
  Faithfulness,
  FeatureValue,
  Level,
  MethodName,
  ProgressEvent,
  PunctuationMode,
  RemovalStrategy,
  Segment,
} from '../../protocol/engineApi';
import { BadInputError } from '../process/engineErrors';
import type { RequestContext } from '../process/requestContext';
import type { LoadedModel, PreparedInput } from '../model/loadedModel';
import { coalitionKeep } from '../run/inputVariants';
import { explanationBytes, refuseOverMemory } from '../run/memoryBudget';
import { predictPrepared, resolveTarget } from '../run/predict';
import { targetReading } from '../run/targetReading';
import { isPunctuationWord } from '../text/wordGrouping';
import { attentionFlow } from './attentionFlow';
import { attentionRollout } from './attentionRollout';
import { coalitionKey } from './coalitionCache';
import type { Estimate, MethodName as ExplainMethod, ValueFunction } from './estimate';
import { explain, plannedEvaluations } from './explainer';
import { faithfulness, faithfulnessCost, MAX_CURVE_STEPS } from './faithfulness';
import type { FeatureTree } from './featureTree';
import { budgetClampNote, DEFAULT_BUDGET, partitionHierarchy, refuseExactShapleyPastLimit } from './methodBudgets';
import { provenanceOf } from './provenance';
import { buildPairHierarchy, buildTextHierarchy } from './textHierarchy';
import { describeDuration, TimeEstimate } from './timeEstimate';

/** What each method's values are (Partition SHAP's are Owen values unless its hierarchy is flat). */
const VALUE_KIND: Record<ExplainMethod, NonNullable<ExplanationResult['valueKind']>> = {
  'exact-shapley': 'shapley',
  'kernel-shap': 'shapley',
  'partition-shap': 'shapley',
  lime: 'lime',
  occlusion: 'occlusion',
  'occlusion-window': 'occlusion',
};

/** Above this many words the Owen note does not offer 2^n evaluations as a budget. */
const MAX_FLAT_NOTE = 16;

/** A progress event of an explanation: model rows run against those planned, with the time estimate. */
function progressOf(method: MethodName, clock: TimeEstimate, rows: number): ProgressEvent {
  const left = Math.max(0, clock.estimatedMs - clock.elapsedMs);
  return {
    done: Math.min(rows, clock.plannedRows),
    total: clock.plannedRows,
    message: `${method}: ${rows.toLocaleString('en-US')} of up to ${clock.plannedRows.toLocaleString('en-US')} evaluations, about ${describeDuration(left)} left`,
    estimatedMs: clock.estimatedMs,
    elapsedMs: clock.elapsedMs,
  };
}

/** A feature: a word (or token) and the original tokens it stands for. */
interface Feature {
  text: string;
  start: number;
  end: number;
  tokenIndices: number[];
  /** Pair inputs: the text the feature is in (its offsets are into that text). */
  segment?: Segment;
}

/** The removal strategy used when the caller says nothing: what fits the family. */
export function defaultRemoval(model: LoadedModel): RemovalStrategy {
  if (model.tokenizer.special.mask !== undefined && (model.card.family === 'bert' || model.card.family === 'distilbert' || model.card.family === 'roberta')) {
    return 'mask';
  }
  // Decoders and T5 have no mask token they were trained with: take the word out instead.
  return 'delete';
}

function featuresOf(input: PreparedInput, level: Level, lockedTokens: Set<number>, punctuation: PunctuationMode = 'feature'): Feature[] {
  const { encoding } = input;
  // Left-out punctuation stays in every input row: its tokens are never removed.
  const kept = (text: string) => punctuation === 'feature' || !isPunctuationWord(text);
  const pair = input.textPair !== undefined;
  const segment = (sequence: number): { segment?: Segment } => (pair ? { segment: sequence === 1 ? 1 : 0 } : {});
  if (level === 'token') {
    return encoding.tokens
      .map((t, i) => ({ t, i }))
      .filter(({ t, i }) => !t.special && !lockedTokens.has(i))
      .map(({ t, i }) => {
        const source = t.sequence === 1 ? (input.textPair ?? '') : input.text;
        return { text: source.slice(t.start, t.end) || t.text, start: t.start, end: t.end, tokenIndices: [i], ...segment(t.sequence) };
      })
      .filter((f) => kept(f.text));
  }
  return encoding.words
    .map((w) => ({ ...w, tokenIndices: w.tokenIndices.filter((i) => !lockedTokens.has(i)) }))
    .filter((w) => w.tokenIndices.length > 0 && kept(w.text))
    .map((w) => ({ text: w.text, start: w.start, end: w.end, tokenIndices: w.tokenIndices, ...segment(w.sequence) }));
}

/** The text's structure for Partition SHAP: sentences and clauses; for a pair, the two texts first. */
function hierarchyOf(input: PreparedInput, features: Feature[]): FeatureTree {
  if (input.textPair === undefined) return buildTextHierarchy(features, input.text);
  return buildPairHierarchy(features.map((f) => ({ ...f, segment: f.segment ?? 0 })), input.text, input.textPair);
}

/** A feature as results carry it. */
function featureValue(feature: Feature, value: number): FeatureValue {
  return { text: feature.text, start: feature.start, end: feature.end, value, tokenIndices: feature.tokenIndices, ...(feature.segment !== undefined ? { segment: feature.segment } : {}) };
}

/**
 * Explains one output of the model for one text: which words pushed it where, how sure we are,
 * and how faithful the explanation is. Perturbation methods go through the batched evaluator.
 */
export async function explainText(model: LoadedModel, params: ExplainParams, ctx: RequestContext): Promise<ExplanationResult> {
  const method = params.method;
  if (!(method in DEFAULT_BUDGET)) {
    throw new BadInputError(`Unknown method "${String(method)}". Use one of: ${Object.keys(DEFAULT_BUDGET).join(', ')}.`);
  }
  const level: Level = params.level ?? 'word';
  const seed = Number.isFinite(params.seed) ? Math.trunc(params.seed as number) : 0;
  const removal: RemovalStrategy = params.removal ?? defaultRemoval(model);
  if (removal === 'mask' && model.tokenizer.special.mask === undefined) {
    throw new BadInputError('This tokenizer has no mask token, so words cannot be removed by masking. Use the "delete" or "attention" removal strategy.');
  }
  const input = await model.prepare(params.text, params.textPair);
  const prediction = await predictPrepared(model, input, 10, params);
  const target = resolveTarget(model, input, prediction, params, { severalTokens: true });
  const notes: string[] = [];
  if (input.encoding.truncation) notes.push(input.truncationMessage ?? '');
  if (target.note) notes.push(target.note);

  // What the target is read from: the [MASK]s and tokens it needs are locked, never removed.
  const reading = targetReading(model, input, target);
  const locked = reading.locked;
  const punctuation: PunctuationMode = params.punctuation === 'omit' ? 'omit' : 'feature';
  const features = featuresOf(input, level, locked, punctuation);
  if (features.length === 0) {
    throw new BadInputError(
      punctuation === 'omit' && featuresOf(input, level, locked).length > 0
        ? 'There is nothing to explain: the text is only punctuation, and punctuation is left out. Explain it with punctuation as features, or select some words.'
        : 'There is nothing to explain: the text has no words besides the special tokens. Select a longer passage.',
    );
  }

  refuseExactShapleyPastLimit(method, features.length, "the text's", `${level}s`);

  const { extractor, evaluator } = reading;
  const tokenCount = input.encoding.ids.length;
  const n = features.length;
  const full = new Uint8Array(n).fill(1);
  const empty = new Uint8Array(n);
  const attention = method === 'rollout' || method === 'flow';
  if (attention && model.card.task === 'seq2seq') {
    throw new BadInputError(
      'Attention rollout and flow follow one stack of self-attention to one output position; a text-to-text model reads the source through cross-attention. Use a Shapley method or LIME to attribute its output tokens, and the Attention tab for its cross-attention.',
    );
  }

  const requested = params.budget ?? DEFAULT_BUDGET[method];
  const { hierarchy, flatNote } = partitionHierarchy(method, n, requested, () => hierarchyOf(input, features));
  const options = { budget: requested, seed, isCancelled: ctx.isCancelled, hierarchy, window: params.window };

  // Every coalition the request asks for, by key: the method's count is the budget's; the faithfulness curves add theirs.
  const coalitions = new Set<string>();
  let modelRows = 0;
  let clock: TimeEstimate | undefined;
  const f: ValueFunction = async (asked) => {
    for (const c of asked) coalitions.add(coalitionKey(c));
    const rows = asked.map((c) => reading.row(coalitionKeep(tokenCount, features, c), removal));
    const r = await evaluator.evaluate(rows, extractor, {
      isCancelled: ctx.isCancelled,
      onProgress: (done) => {
        if (!clock) return;
        clock.rowsRun(modelRows + done);
        ctx.progress(progressOf(method, clock, modelRows + done));
      },
    });
    modelRows += r.distinctRuns;
    return Float64Array.from(r.values);
  };

  // Say how long this will take before it starts: the rows planned times this input's time for one row.
  const withFaithfulness = params.faithfulness !== false;
  const planned = attention ? 2 : plannedEvaluations(method as ExplainMethod, n, options) + (withFaithfulness ? faithfulnessCost(n) : 0);
  refuseOverMemory(
    `${method} with a budget of ${requested.toLocaleString('en-US')} over ${n} ${level}s (${input.encoding.ids.length} tokens)`,
    explanationBytes(planned, input.encoding.ids.length, n, evaluator.options.cacheEntries),
    model.memoryLimit,
    'Lower the budget or select a shorter passage.',
  );
  const firstRun = performance.now();
  await f([full]);
  const singleRowMs = modelRows > 0 ? performance.now() - firstRun : (evaluator.msPerRow ?? 0);
  clock = new TimeEstimate(planned, singleRowMs);
  clock.rowsRun(modelRows);
  ctx.progress({
    ...progressOf(method, clock, modelRows),
    estimatedMs: clock.initialMs,
    message: `${method}: about ${describeDuration(clock.initialMs)} for up to ${planned.toLocaleString('en-US')} model evaluations`,
  });

  let values: Float64Array;
  let baseValue: number;
  let outputValue: number;
  let convergence = { max: Number.NaN, kind: 'not-estimated', final: true };
  let fit: { r2: number; intercept: number } | undefined;
  let budgetUsed = 0;
  let budgetNote: string | undefined;
  let valueKind: ExplanationResult['valueKind'];

  if (attention) {
    const [fv, bv] = await f([full, empty]);
    outputValue = fv;
    baseValue = bv;
    const scores = await attentionScores(model, input, features, method, params.layer, target.position ?? readPositionForAttention(model, input));
    values = scores.words;
    convergence = { max: 0, kind: 'exact', final: true };
    valueKind = 'attention';
    const words = values.reduce((a, v) => a + v, 0);
    notes.push(
      `${method === 'rollout' ? 'Attention rollout' : 'Attention flow'} scores are shares of the attention reaching the output position, not contributions to the logit. ` +
        `Over all ${scores.tokens} tokens they sum to 1${method === 'flow' ? ' (each token\'s maximum flow, divided by the total, as Abnar & Zuidema\'s code does)' : ''}; ` +
        `these ${n} ${level}s hold ${words.toFixed(3)}, the special tokens the rest.`,
    );
  } else {
    if (flatNote) notes.push(flatNote);
    let last: Estimate | undefined;
    for await (const estimate of explain(method, n, f, options)) {
      last = estimate;
      clock.rowsRun(modelRows);
      ctx.progress({
        ...progressOf(method, clock, modelRows),
        partial: {
          features: features.map((feature, j) => featureValue(feature, estimate.values[j])),
          final: estimate.final,
        },
      });
    }
    if (!last) throw new Error(`${method} produced no estimate`);
    values = last.values;
    baseValue = last.baseValue;
    outputValue = last.fullValue;
    convergence = last.error ? { max: last.error.max, kind: last.error.kind, final: last.final } : { max: Number.NaN, kind: 'not-estimated', final: last.final };
    fit = last.fit;
    budgetUsed = last.budgetUsed;
    budgetNote = budgetClampNote(method, params.budget, last.budgetUsed, last.budgetClamped);
    if (budgetNote) notes.push(budgetNote);
    valueKind = VALUE_KIND[method as ExplainMethod];
    if (method === 'partition-shap' && !flatNote) {
      valueKind = 'owen';
      notes.push(
        `These are Owen values over the text's hierarchy (sentences, clauses, neighbouring words)${convergence.kind === 'exact-owen' ? ', computed exactly' : ''}: ` +
          `they equal Shapley values only where words do not interact across groups. A budget of ${(2 ** n).toLocaleString('en-US')} (every coalition) gives exact Shapley values${n > MAX_FLAT_NOTE ? ', too many here; Kernel SHAP estimates them' : ''}.`,
      );
    }
  }
  const methodEvaluations = coalitions.size;

  const faith = withFaithfulness ? await faithfulnessOf(values, f, { outputValue, baseValue, n, ctx }) : undefined;
  const faithfulnessEvaluations = coalitions.size - methodEvaluations;
  if (faith) faith.evaluations = faithfulnessEvaluations;
  if (faith && !attention && methodEvaluations + faithfulnessEvaluations > budgetUsed && faithfulnessEvaluations > 0) {
    notes.push(
      `The faithfulness scores took ${faithfulnessEvaluations.toLocaleString('en-US')} evaluations beyond the budget of ${budgetUsed.toLocaleString('en-US')} ` +
        `(their deletion and insertion curves remove and add the ${n} ${level}s ${n > MAX_CURVE_STEPS ? `${Math.ceil(n / MAX_CURVE_STEPS)} at a time` : 'one at a time'}): ${(methodEvaluations + faithfulnessEvaluations).toLocaleString('en-US')} in all, ` +
        `${methodEvaluations.toLocaleString('en-US')} of them for ${method}.`,
    );
  }

  const featureValues: FeatureValue[] = features.map((feature, j) => featureValue(feature, values[j]));

  return {
    kind: 'explanation',
    text: input.text,
    ...(input.textPair !== undefined ? { textPair: input.textPair } : {}),
    target,
    features: featureValues,
    baseValue,
    outputValue,
    fullOutput: prediction,
    evaluations: methodEvaluations,
    convergence,
    valueKind,
    timing: { estimatedMs: clock.initialMs, elapsedMs: clock.elapsedMs, modelRows },
    fit,
    ...(faith ? { faithfulness: faith } : {}),
    provenance: provenanceOf(model, { method, budget: budgetUsed, budgetNote, seed, removal, level, punctuation }),
    encoded: input.encoded,
    notes: notes.filter((n) => n.length > 0),
  };
}

/** ERASER comprehensiveness and sufficiency, and the deletion and insertion curves, of the values. */
async function faithfulnessOf(
  values: Float64Array,
  f: ValueFunction,
  o: { outputValue: number; baseValue: number; n: number; ctx: RequestContext },
): Promise<Faithfulness> {
  const report = await faithfulness(values, f, { fullValue: o.outputValue, baseValue: o.baseValue, isCancelled: o.ctx.isCancelled });
  const curve = (c: typeof report.deletion) => ({
    values: Array.from(c.values),
    ...(c.counts.length !== o.n + 1 ? { counts: Array.from(c.counts) } : {}),
    area: c.area,
    normalizedArea: c.normalizedArea,
  });
  return {
    comprehensiveness: report.comprehensiveness,
    sufficiency: report.sufficiency,
    bins: report.bins,
    deletion: curve(report.deletion),
    insertion: curve(report.insertion),
    evaluations: report.evaluations,
  };
}

/** The token whose representation the prediction is read from, for attention-based scores. */
function readPositionForAttention(model: LoadedModel, input: PreparedInput): number {
  if (model.card.task === 'causal-lm') return input.encoding.ids.length - 1;
  return 0; // [CLS] (or the first token), which classifier heads pool
}

async function attentionScores(
  model: LoadedModel,
  input: PreparedInput,
  features: Feature[],
  method: 'rollout' | 'flow',
  layer: number | undefined,
  position: number,
): Promise<{ words: Float64Array; tokens: number }> {
  const exposed = await model.runExposed(input);
  const selfAttention = exposed.attentions.filter((a) => a.kind === 'self');
  if (selfAttention.length === 0) {
    throw new BadInputError(
      exposed.note ??
        'This model exposes no encoder self-attention, so rollout and flow cannot be computed. Use a Shapley method or LIME instead.',
    );
  }
  const last = layer === undefined ? selfAttention.length - 1 : layer;
  if (!Number.isInteger(last) || last < 0 || last >= selfAttention.length) {
    throw new BadInputError(`Layer ${layer} does not exist: this model has layers 0–${selfAttention.length - 1}.`);
  }
  const layers = selfAttention.slice(0, last + 1).map((a) => ({ data: a.data, heads: a.shape[1], size: a.shape[2] }));
  const tokenScores = method === 'rollout' ? attentionRollout(layers, position).row : attentionFlow(layers, position).shares;
  return { words: Float64Array.from(features.map((f) => f.tokenIndices.reduce((s, t) => s + tokenScores[t], 0))), tokens: tokenScores.length };
}
