import type { AttentionKind, CompareParams, CompareResult, ModelSide, Prediction } from '../../protocol/engineApi';
import { alignBySpan, defaultTopK, rankAgreement } from '../explain/agreement';
import { explainText } from '../explain/explainText';
import { LoadedModel, type PreparedInput } from '../model/loadedModel';
import { BadInputError } from '../process/engineErrors';
import type { RequestContext } from '../process/requestContext';
import { unperturbedRow } from '../run/inputVariants';
import { logitsExtractor, softmax } from '../run/outputReaders';
import { predictPrepared, resolveTarget } from '../run/predict';

const DEFAULT_TIMING_RUNS = 5;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The full output vector at the prediction's read position (classes, or the vocabulary at the mask / next token). */
async function fullLogits(model: LoadedModel, input: PreparedInput, prediction: Prediction): Promise<Float32Array> {
  const target = resolveTarget(model, input, prediction, {});
  const base = input.baseInput(new Set());
  const row = unperturbedRow(base);
  return (await model.evaluatorFor(input).evaluate([row], logitsExtractor(input.readSpec(target)))).values[0];
}

/** Median time of one uncached forward pass of the text (the evaluator's cache is cleared before each). */
async function timePredict(model: LoadedModel, input: PreparedInput, runs: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    model.evaluatorFor(input).clearCache();
    const t0 = process.hrtime.bigint();
    await predictPrepared(model, input, 10);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(times);
}

/** KL(p ‖ q) in nats. */
export function klDivergence(p: ArrayLike<number>, q: ArrayLike<number>): number {
  let kl = 0;
  for (let i = 0; i < p.length; i++) if (p[i] > 0) kl += p[i] * (Math.log(p[i]) - Math.log(Math.max(q[i], 1e-300)));
  return Math.max(0, kl);
}

/** Mean |A_b − A_a| per head, for [1, H, Q, K] tensors of the same shape. */
export function meanAbsDiffPerHead(a: Float32Array, b: Float32Array, shape: [number, number, number, number]): number[] {
  const [, h, q, k] = shape;
  const per = q * k;
  return Array.from({ length: h }, (_, i) => {
    let s = 0;
    for (let j = i * per; j < (i + 1) * per; j++) s += Math.abs(a[j] - b[j]);
    return s / per;
  });
}

/**
 * Compares this model with another on one text: prediction drift (per label probabilities, top-1 agreement,
 * KL divergence), agreement of the same explanation method and seed on words matched by character offsets,
 * attention difference per head where the shapes match, and file size and speed. The other model is opened
 * beside the current one for the request and closed after it.
 */
export async function compareModels(model: LoadedModel, params: CompareParams, ctx: RequestContext): Promise<CompareResult> {
  const otherPath = params.otherPath ?? model.card.path;
  let otherVariant = params.otherVariant;
  if (!params.otherPath && otherVariant === undefined) {
    otherVariant = model.card.availableVariants.find((v) => v !== model.card.variant);
    if (!otherVariant) {
      throw new BadInputError(`This model folder has one variant (${model.card.variant}); choose another model folder or .onnx file to compare with.`);
    }
  }
  const other = await LoadedModel.open(otherPath, otherVariant, model.options);
  try {
    return await compareOpen(model, other, params, ctx);
  } finally {
    other.dispose();
  }
}

/** {@link compareModels} with both models open. */
export async function compareOpen(a: LoadedModel, b: LoadedModel, params: CompareParams, ctx: RequestContext): Promise<CompareResult> {
  if (a.card.task !== b.card.task) {
    throw new BadInputError(`The two models do different tasks (${a.card.task} and ${b.card.task}); only models with the same kind of output can be compared.`);
  }
  const notes: string[] = [];
  const inA = await a.prepare(params.text);
  const inB = await b.prepare(params.text);
  const predA = await predictPrepared(a, inA, 10, params);
  const predB = await predictPrepared(b, inB, 10, params);
  const sameTokenizer = a.card.tokenizerSha256 === b.card.tokenizerSha256 || inA.encoding.ids.join(',') === inB.encoding.ids.join(',');
  const task = a.card.task;

  // Prediction drift.
  const logitsA = await fullLogits(a, inA, predA);
  const logitsB = await fullLogits(b, inB, predB);
  const pA = softmax(logitsA);
  const pB = softmax(logitsB);
  const labelOf = (m: LoadedModel, id: number) => (task === 'sequence-classification' ? (m.card.labels?.[id] ?? `LABEL_${id}`) : m.tokenizer.displayToken(id));
  const sameOutputs = task === 'sequence-classification'
    ? logitsA.length === logitsB.length && (a.card.labels ?? []).every((l, i) => l.toLowerCase() === (b.card.labels?.[i] ?? '').toLowerCase())
    : sameTokenizer && logitsA.length === logitsB.length;
  const perLabel: CompareResult['drift']['perLabel'] = [];
  if (sameOutputs) {
    const ids = task === 'sequence-classification' ? Array.from(pA.keys()) : [...new Set([...predA.candidates, ...predB.candidates].map((c) => c.id))];
    for (const id of ids) perLabel.push({ label: labelOf(a, id), pA: pA[id], pB: pB[id], diff: pB[id] - pA[id] });
  } else {
    // Different output spaces: match the listed candidates by their text.
    const idsB = new Map<string, number>();
    for (let i = 0; i < logitsB.length && task === 'sequence-classification'; i++) idsB.set(labelOf(b, i).toLowerCase(), i);
    for (const c of predB.candidates) idsB.set(c.label.toLowerCase(), c.id);
    const ids = task === 'sequence-classification' ? Array.from(pA.keys()) : predA.candidates.map((c) => c.id);
    for (const id of ids) {
      const j = idsB.get(labelOf(a, id).toLowerCase());
      if (j !== undefined) perLabel.push({ label: labelOf(a, id), pA: pA[id], pB: pB[j], diff: pB[j] - pA[id] });
    }
    notes.push('The two models have different outputs (labels or vocabularies); probabilities are compared on the labels and tokens both name, and the KL divergence is not computed.');
  }
  const drift: CompareResult['drift'] = {
    perLabel,
    maxAbsProbabilityDiff: perLabel.reduce((m, x) => Math.max(m, Math.abs(x.diff)), 0),
    top1Agree: predA.candidates[0].label.toLowerCase() === predB.candidates[0].label.toLowerCase(),
  };
  if (sameOutputs) {
    let m = 0;
    for (let i = 0; i < logitsA.length; i++) m = Math.max(m, Math.abs(logitsA[i] - logitsB[i]));
    drift.maxAbsLogitDiff = m;
    drift.klDivergence = klDivergence(pA, pB);
  }

  // Attention per head, where both models tokenized the text the same way and the shapes match.
  let attention: CompareResult['attention'];
  let attentionNote: string | undefined;
  if (sameTokenizer && task !== 'seq2seq') {
    const [xa, xb] = [await a.runExposed(inA), await b.runExposed(inB)];
    attention = [];
    for (const t of xa.attentions) {
      const u = xb.attentions.find((x) => x.kind === t.kind && x.layer === t.layer);
      if (!u || u.shape.join(',') !== t.shape.join(',')) continue;
      attention.push({ layer: t.layer, kind: t.kind as AttentionKind, meanAbsDiff: meanAbsDiffPerHead(t.data, u.data, t.shape) });
    }
    if (attention.length === 0) attentionNote = 'No attention layer has the same shape in both models.';
  } else {
    attentionNote = task === 'seq2seq' ? 'Attention is not compared for text-to-text models.' : 'The two models tokenize the text differently, so their attention matrices do not line up.';
  }

  // Speed of the same predict (uncached), and of the same explanation.
  const runs = Math.max(1, params.timingRuns ?? DEFAULT_TIMING_RUNS);
  const predictMsA = await timePredict(a, inA, runs);
  const predictMsB = await timePredict(b, inB, runs);

  const side = (m: LoadedModel, prediction: Prediction, predictMs: number): ModelSide => ({
    name: m.card.name, path: m.card.path, variant: m.card.variant, bytes: m.card.bytes, sha256: m.card.sha256, prediction, predictMs,
  });
  const result: CompareResult = {
    a: side(a, predA, predictMsA),
    b: side(b, predB, predictMsB),
    sameTokenizer,
    drift,
    attention,
    attentionNote,
    sizeRatio: b.card.bytes / Math.max(1, a.card.bytes),
    speedRatio: predictMsB / Math.max(1e-9, predictMsA),
    notes,
  };

  if (params.explain !== false) {
    const method = params.method ?? 'occlusion';
    const seed = params.seed ?? 0;
    // Both explain the same output: the first model's prediction (by label or token text), unless one is given.
    const target = params.target ?? (task === 'sequence-classification' ? predA.candidates[0].label : predA.candidates[0].id);
    const explainParams = { ...params, text: params.text, method, seed, budget: params.budget, target: sameOutputs || typeof target === 'string' ? target : predA.candidates[0].label };
    const t0 = Date.now();
    const ea = await explainText(a, explainParams, ctx);
    const t1 = Date.now();
    const eb = await explainText(b, explainParams, ctx);
    const t2 = Date.now();
    result.a.explainMs = t1 - t0;
    result.b.explainMs = t2 - t1;
    if (eb.target.tokenIds && !ea.target.tokenIds) {
      notes.push(`The second model's vocabulary spells "${eb.target.label}" as ${eb.target.tokenIds.length} tokens: its attributions explain their summed log-probability, not one token's logit.`);
    }
    const aligned = alignBySpan(ea.features, eb.features);
    const words = aligned.words.map((w, i) => ({ ...w, a: aligned.a[i], b: aligned.b[i] }));
    const agreement = rankAgreement(aligned.a, aligned.b, params.topK ?? defaultTopK(words.length));
    result.attribution = {
      method,
      seed,
      matchedWords: words.length,
      words,
      spearman: agreement.spearman,
      kendallTau: agreement.kendall,
      topK: agreement.topK.k,
      topKOverlap: agreement.topK.overlap,
    };
    if (words.length < ea.features.length || words.length < eb.features.length) {
      notes.push(`${words.length} words are matched by their place in the text (${ea.features.length} and ${eb.features.length} words in the two explanations).`);
    }
  }
  return result;
}
