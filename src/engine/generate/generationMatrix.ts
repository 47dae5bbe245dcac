import type {
  GenerationExplainParams,
  GenerationExplanation,
  GenerationTarget,
  Level,
  MethodName,
  RemovalStrategy,
} from '../../protocol/engineApi';
import type { Estimate } from '../explain/estimate';
import { explain } from '../explain/explainer';
import { budgetClampNote, DEFAULT_BUDGET, isPerturbationMethod, PERTURBATION_METHODS, partitionHierarchy, refuseExactShapleyPastLimit } from '../explain/methodBudgets';
import { provenanceOf } from '../explain/provenance';
import { buildTextHierarchy } from '../explain/textHierarchy';
import type { LoadedModel } from '../model/loadedModel';
import { BadInputError } from '../process/engineErrors';
import type { RequestContext } from '../process/requestContext';
import { BatchedEvaluator, type BatchOutputs, type PaddedBatch, type RowExtractor } from '../run/batchedEvaluator';
import { applyRemoval, coalitionKeep, type BaseInput, type InputRow } from '../run/inputVariants';
import { argmax } from './sampling';
import { GATHERED_OUTPUT, GATHER_INPUT, LAST_LOGPROBS, TOP_K_INPUT, generationSession } from './generationGraph';
import { generationPositions } from './generationInside';
import { preparePrompt, type GenerationPrompt } from './generationPrompt';
import { SharedCoalitions } from './sharedCoalitions';

/** Memory allowed for one batch's logits, [batch, length, vocabulary] float32. */
const LOGITS_BUDGET_BYTES = 128 * 1024 * 1024;

interface Feature {
  text: string;
  start: number;
  end: number;
  tokenIndices: number[];
}

function featuresOf(prompt: GenerationPrompt, level: Level): Feature[] {
  if (level === 'token') {
    return prompt.promptTokens
      .map((t, i) => ({ t, i }))
      .filter(({ i }) => !prompt.locked[i])
      .map(({ t, i }) => ({ text: prompt.prompt.slice(t.start, t.end) || t.text, start: t.start, end: t.end, tokenIndices: [i] }));
  }
  return prompt.promptWords.map((w) => ({ text: w.text, start: w.start, end: w.end, tokenIndices: w.tokenIndices }));
}

/** The token a prompt-less row starts with, so the first generated token still has a position that predicts it. */
function startId(model: LoadedModel): number {
  const s = model.tokenizer.special;
  return s.bos ?? s.eos ?? s.unk ?? s.pad ?? 0;
}

/**
 * A perturbed row: the prompt with some features removed, then every generated token (never removed). When
 * removal leaves nothing before the first generated token, the start token goes in front.
 */
function generationRow(base: BaseInput, keep: Uint8Array, removal: RemovalStrategy, promptLength: number, start: number): InputRow {
  const row = applyRemoval(base, keep, removal);
  const first = row.positionOf[promptLength];
  const attendedBefore = row.attention.slice(0, first).some((a) => a === 1);
  if (first > 0 && attendedBefore) return row;
  return {
    ids: [start, ...row.ids],
    typeIds: [0, ...row.typeIds],
    attention: [1, ...row.attention],
    positionOf: row.positionOf.map((p) => (p >= 0 ? p + 1 : p)),
  };
}

/** The position whose logits predict the token at `at`: the last attended position before it. */
function predictor(row: InputRow, at: number): number {
  for (let i = at - 1; i >= 0; i--) if (row.attention[i] === 1) return i;
  return -1;
}

/**
 * The prompt-attribution matrix of a generation, as inseq's feature attribution: for each generated token,
 * how much each prompt word moved the log-probability the model gave that token, teacher forced on the tokens
 * generated before it. One perturbed row (prompt with words removed, followed by the whole continuation) gives
 * every token's log-probability at once, so all tokens share the same evaluations; the explanations (one per
 * token, one for the whole sequence's log-probability and optionally a contrastive one) run side by side
 * through the existing explainers, pooling their rounds into batched evaluations.
 */
export async function explainGeneration(model: LoadedModel, params: GenerationExplainParams, ctx: RequestContext): Promise<GenerationExplanation> {
  const method: MethodName = params.method ?? 'occlusion';
  if (!isPerturbationMethod(method)) {
    throw new BadInputError(
      `"${String(method)}" cannot attribute a generation; use one of ${PERTURBATION_METHODS.join(', ')} (attention rollout and flow explain one position, not a sequence of tokens).`,
    );
  }
  const level: Level = params.level ?? 'word';
  const removal: RemovalStrategy = params.removal ?? 'delete';
  if (removal !== 'delete' && removal !== 'attention') {
    throw new BadInputError(`A generation's prompt words are removed by "delete" (default) or "attention"; "${String(removal)}" needs a mask token decoders do not have.`);
  }
  const seed = Number.isFinite(params.seed) ? Math.trunc(params.seed as number) : 0;
  const prompt = preparePrompt(model, params.prompt, params.chat ?? false);
  const generated = params.generated;
  const vocab = model.card.vocabSize.value;
  if (!Array.isArray(generated) || generated.length === 0) throw new BadInputError('There are no generated tokens to explain. Generate a continuation first.');
  const bad = generated.find((id) => !Number.isInteger(id) || id < 0 || (vocab > 0 && id >= vocab));
  if (bad !== undefined) throw new BadInputError(`Generated token id ${bad} is outside the vocabulary (0–${vocab - 1}).`);
  const promptLength = prompt.encoding.ids.length;
  const ids = [...prompt.encoding.ids, ...generated];
  if (prompt.contextWindow > 0 && ids.length > prompt.contextWindow) {
    throw new BadInputError(`The prompt and the ${generated.length} generated tokens make ${ids.length} tokens, more than the context window of ${prompt.contextWindow}.`);
  }
  const features = featuresOf(prompt, level);
  if (features.length === 0) throw new BadInputError('The prompt has no words to attribute to (only special or template tokens). Select a longer prompt.');
  refuseExactShapleyPastLimit(method, features.length, "the prompt's", level === 'token' ? 'tokens' : 'words');
  const session = await generationSession(model, model.mainRole);
  const fusedWindowed = session.model.graph.nodes.some((n) => n.opType === 'GroupQueryAttention');
  if (removal === 'attention' && fusedWindowed) {
    throw new BadInputError('This model uses GroupQueryAttention, which reads the attention mask as a length: words cannot be hidden from it in the middle of a text. Use the "delete" removal.');
  }

  // Contrast: log p(token at step) − log p(alternative at step).
  let contrast: { step: number; tokenId: number; contrastId: number } | undefined;
  const tokenizer = model.tokenizer;
  if (params.contrast) {
    const step = params.contrast.step;
    if (!Number.isInteger(step) || step < 0 || step >= generated.length) {
      throw new BadInputError(`Step ${step} does not exist: ${generated.length} tokens were generated (steps 0–${generated.length - 1}).`);
    }
    contrast = { step, tokenId: generated[step], contrastId: -1 };
  }

  const base: BaseInput = {
    ids,
    typeIds: ids.map(() => 0),
    locked: [...prompt.locked, ...generated.map(() => true)],
    maskId: tokenizer.special.mask,
    emptyId: startId(model),
  };
  const start = startId(model);
  const m = generated.length;
  const targetCount = m + 1 + (contrast ? 1 : 0);
  const vocabWidth = Math.max(1, vocab) * 4;
  const batchOptions = {
    padId: tokenizer.special.pad ?? 0,
    maxBatchTokens: Math.max(64, Math.min(8192, Math.floor(LOGITS_BUDGET_BYTES / vocabWidth))),
    rowsDependOnBatch: model.rowsDependOnBatch,
    ...model.batchMemory(),
  };
  const fullRow = generationRow(base, new Uint8Array(ids.length).fill(1), removal, promptLength, start);
  if (contrast && params.contrast) {
    const named = params.contrast.token;
    if (named !== undefined && named !== '') {
      contrast.contrastId = resolveToken(model, named);
    } else {
      // The runner-up where the token was chosen, with the whole prompt: the row up to that position.
      const p = predictor(fullRow, fullRow.positionOf[promptLength + contrast.step]);
      const upTo = fullRow.ids.slice(0, p + 1);
      const out = await session.run(
        {
          input_ids: { dims: [1, upTo.length], data: BigInt64Array.from(upTo.map(BigInt)) },
          attention_mask: { dims: [1, upTo.length], data: BigInt64Array.from(fullRow.attention.slice(0, p + 1).map(BigInt)) },
          [GATHER_INPUT]: { dims: [1, upTo.length, 1], data: new BigInt64Array(upTo.length) },
          [TOP_K_INPUT]: { dims: [1], data: BigInt64Array.of(1n) },
        },
        { outputs: [LAST_LOGPROBS] },
      );
      const lp = Float64Array.from(out[LAST_LOGPROBS].data as Float32Array);
      lp[contrast.tokenId] = -Infinity;
      contrast.contrastId = argmax(lp);
    }
    if (contrast.contrastId === contrast.tokenId) throw new BadInputError('The contrast token is the generated token itself; name a different token.');
  }
  // Ids gathered per position: the generated token at the position that chose it, and at the contrast's
  // position also the alternative (k = 2 then; other positions repeat their id).
  const k = contrast ? 2 : 1;
  const evaluator = new BatchedEvaluator(async (b: PaddedBatch) => {
    const gather = new BigInt64Array(b.batch * b.seqLen * k);
    b.rows.forEach((row, r) => {
      for (let j = 0; j < m; j++) {
        const p = predictor(row, row.positionOf[promptLength + j]);
        const o = (r * b.seqLen + p) * k;
        gather[o] = BigInt(generated[j]);
        if (k === 2) gather[o + 1] = BigInt(contrast && j === contrast.step ? contrast.contrastId : generated[j]);
      }
    });
    const out = await session.run(
      {
        input_ids: { dims: [b.batch, b.seqLen], data: b.inputIds },
        attention_mask: { dims: [b.batch, b.seqLen], data: b.attentionMask },
        [GATHER_INPUT]: { dims: [b.batch, b.seqLen, k], data: gather },
        [TOP_K_INPUT]: { dims: [1], data: BigInt64Array.of(1n) },
      },
      { outputs: [GATHERED_OUTPUT] },
    );
    const g = out[GATHERED_OUTPUT];
    return { gathered: { dims: g.dims, data: g.data as Float32Array } } as BatchOutputs;
  }, batchOptions);
  const extractor: RowExtractor<Float64Array> = {
    key: `generation:${generated.join(',')}:${contrast ? `${contrast.step}/${contrast.contrastId}` : ''}`,
    extract(outputs, b, row) {
      const g = outputs.gathered;
      const s = g.dims[1];
      const at = (j: number, which: number) => g.data[(b * s + predictor(row, row.positionOf[promptLength + j])) * k + which];
      const out = new Float64Array(targetCount);
      let sum = 0;
      for (let j = 0; j < m; j++) {
        out[j] = at(j, 0);
        sum += out[j];
      }
      out[m] = sum;
      if (contrast) out[m + 1] = at(contrast.step, 0) - at(contrast.step, 1);
      return out;
    },
  };

  let batches = 0;
  const requested = params.budget ?? DEFAULT_BUDGET[method];
  const shared = new SharedCoalitions(async (coalitions) => {
    const rows = coalitions.map((c) => generationRow(base, coalitionKeep(ids.length, features, c), removal, promptLength, start));
    const r = await evaluator.evaluate(rows, extractor, { isCancelled: ctx.isCancelled });
    batches += r.batches;
    ctx.progress({
      done: shared.evaluations + r.distinctRuns,
      total: Math.max(requested, shared.evaluations + r.distinctRuns, 1),
      message: `${method}: ${shared.evaluations + r.distinctRuns} evaluations for ${m} token${m === 1 ? '' : 's'}`,
    });
    return r.values;
  }, targetCount);

  const { hierarchy, flatNote } = partitionHierarchy(method, features.length, requested, () => buildTextHierarchy(features, prompt.prompt));
  const finals = await Promise.all(
    Array.from({ length: targetCount }, (_, t) =>
      shared.run(async () => {
        let last: Estimate | undefined;
        for await (const e of explain(method, features.length, shared.valueFunction(t), { budget: requested, seed, isCancelled: ctx.isCancelled, hierarchy })) last = e;
        if (!last) throw new Error(`${method} produced no estimate`);
        return last;
      }),
    ),
  );
  const target = (e: Estimate): GenerationTarget => ({
    values: Array.from(e.values),
    baseValue: e.baseValue,
    outputValue: e.fullValue,
    convergence: { max: e.error?.max ?? 0, kind: e.error?.kind ?? 'exact', final: e.final },
  });
  const notes = [...prompt.notes];
  if (model.rowsDependOnBatch) {
    notes.push(
      'This int8 model quantizes each activation tensor by its own range: rows were run one at a time, and log-probabilities of a full pass differ from the ones generation saw step by step with its cache.',
    );
  }
  if (flatNote) notes.push(flatNote);
  const clampNote = budgetClampNote(method, params.budget, finals[0].budgetUsed, finals[0].budgetClamped);
  if (clampNote) notes.push(clampNote);

  let positions: GenerationExplanation['positions'];
  let positionsNote: string | undefined;
  if (params.inside !== false) {
    const inside = await generationPositions(model, ids, promptLength, generated);
    positions = inside.positions;
    positionsNote = inside.note;
  }

  const label = (id: number) => tokenizer.displayToken(id);
  return {
    kind: 'generation-explanation',
    prompt: prompt.prompt,
    chat: prompt.chat,
    features,
    tokens: generated.map((id, j) => ({ id, label: label(id), logprob: finals[j].fullValue })),
    value: 'log-probability',
    targets: finals.slice(0, m).map(target),
    sequence: target(finals[m]),
    ...(contrast
      ? { contrast: { ...target(finals[m + 1]), step: contrast.step, tokenId: contrast.tokenId, label: label(contrast.tokenId), contrastId: contrast.contrastId, contrastLabel: label(contrast.contrastId) } }
      : {}),
    method,
    evaluations: shared.evaluations,
    batches,
    positions,
    positionsNote,
    provenance: provenanceOf(model, { method, budget: finals[0].budgetUsed, budgetNote: clampNote, seed, removal, level }),
    notes,
  };
}

/** A token named by the user (id, vocabulary piece, or a word that is one token) → its id. */
function resolveToken(model: LoadedModel, name: string | number): number {
  const tok = model.tokenizer;
  const vocab = model.card.vocabSize.value;
  if (typeof name === 'number' || /^\d+$/.test(name)) {
    const id = Number(name);
    if (!Number.isInteger(id) || id < 0 || (vocab > 0 && id >= vocab)) throw new BadInputError(`Token id ${name} is outside the vocabulary (0–${vocab - 1}).`);
    return id;
  }
  const direct = tok.tokenToId(name);
  if (direct !== undefined) return direct;
  for (const candidate of [` ${name}`, name]) {
    const ids = tok.encode(candidate, { addSpecialTokens: false }).ids;
    if (ids.length === 1) return ids[0];
  }
  throw new BadInputError(`The contrast token "${name}" is not one token of the vocabulary. Name a single token (or its id).`);
}
