import type { Candidate, LogitLensLayer, LogitLensParams, LogitLensResult } from '../../protocol/engineApi';
import { analyzeGraph } from '../model/graphSurgery';
import type { LoadedModel, PreparedInput } from '../model/loadedModel';
import { ModelSession, type TensorData } from '../model/modelSession';
import { cutBranchesAt, cutGraphAt } from '../model/graphCut';
import { DataType, parseOnnxModel } from '../model/onnxProto';
import { logSumExp } from '../generate/sampling';
import { BadInputError } from '../process/engineErrors';
import { unperturbedRow } from '../run/inputVariants';
import type { RowExtractor } from '../run/batchedEvaluator';
import { mainGraph, predictionPosition, prepareTextOrIds, stackStates } from './modelGraph';

/** Name of the graph input that replaces the last layer's output in the lens graph. */
export const LENS_INPUT = 'onnxLens/lens_hidden';
/** Memory allowed for one lens run's logits (rows × vocabulary × 4 bytes). */
const LENS_LOGITS_BUDGET_BYTES = 64 * 1024 * 1024;
const DEFAULT_TOP_K = 10;

/** A session that maps any hidden state to the model's output through the model's own head. */
export interface LensSession {
  session: ModelSession;
  /** The tensor the lens input stands in for: the residual stream leaving the last layer. */
  replaced: string;
}


/**
 * Builds the lens graph: the model's graph cut (`cutGraphAt`) at the output of its last layer (the hidden
 * state that feeds the final norm — GPT-2's ln_f, a Llama-style RMSNorm — and then the output head), which is
 * fed from a new graph input instead. The renamed producer output is left dangling.
 *
 * Why this approach: it is exact by construction. The lens then runs the graph's own final-norm and head
 * nodes (decomposed or fused LayerNorm, tied wte or separate lm_head, float or quantized, bias or not)
 * rather than a re-implementation from initializers that would have to recognise each of those
 * variants. Every operator after the last layer acts on each position on its own, so hidden states are fed
 * as rows of length 1 (input_ids shaped the same only to satisfy shape computations), which batches
 * (layer, position) pairs freely.
 */
export function buildLensGraph(bytes: Uint8Array, causal: boolean): { bytes: Uint8Array; replaced: string } {
  const parsed = parseOnnxModel(bytes, 'model');
  const analysis = analyzeGraph(parsed, causal ? { stack: 'decoder' } : {});
  const states = analysis.hiddenStates;
  if (states.length === 0) {
    throw new BadInputError(`The logit lens needs the model's hidden states, and none were found in this graph. ${analysis.notes.join(' ')}`.trim());
  }
  const last = states.reduce((a, b) => (b.index > a.index ? b : a));
  const inputs = [{ name: LENS_INPUT, elemType: DataType.FLOAT, shape: ['lens_rows', 'lens_positions', 'hidden'] }];
  // A merged decoder's last layer sits in both branches of its If: each is cut, and the one that runs reads the input.
  const out = analysis.branches
    ? cutBranchesAt(bytes, parsed, analysis.branches, last.output, {
        nodes: (tensor, branch) => [{ opType: 'Identity', inputs: [LENS_INPUT], outputs: [tensor], name: `onnxLens/lens_identity/${branch}` }],
        inputs,
      })
    : cutGraphAt(bytes, parsed, last.output, {
        nodes: [{ opType: 'Identity', inputs: [LENS_INPUT], outputs: [last.output], name: 'onnxLens/lens_identity' }],
        inputs,
      });
  if (!out) throw new BadInputError('The logit lens could not find the node that produces the last hidden state.');
  return { bytes: out, replaced: last.output };
}

function lensSession(model: LoadedModel): Promise<LensSession> {
  return model.derivedSession('logit lens', async () => {
    const { graph } = mainGraph(model);
    const lens = buildLensGraph(graph.bytes, model.card.task === 'causal-lm');
    const session = await ModelSession.create(lens.bytes, parseOnnxModel(lens.bytes, 'logit lens'), {
      modelFile: graph.file,
      expose: false,
      executionProviders: model.options.executionProviders,
      intraOpNumThreads: model.options.threads,
    });
    return { session, replaced: lens.replaced };
  });
}

/**
 * Runs hidden-state vectors through the lens graph; calls `visit(row, logits)` for each (the logits are a
 * view valid during the call). Rows are batched within a memory budget.
 * @param vectors flat [n, D]; @param tokenIds the token id per row (for shape computations only).
 */
export async function lensLogits(
  model: LoadedModel,
  vectors: Float32Array,
  dim: number,
  tokenIds: number[],
  visit: (row: number, logits: Float32Array) => void,
): Promise<void> {
  const { session } = await lensSession(model);
  const n = tokenIds.length;
  const width = Math.max(1, model.card.vocabSize.value, model.card.labels?.length ?? 0);
  const chunk = Math.max(1, Math.floor(LENS_LOGITS_BUDGET_BYTES / (width * 4)));
  for (let from = 0; from < n; from += chunk) {
    const to = Math.min(n, from + chunk);
    const rows = to - from;
    const feeds: Record<string, TensorData> = {
      input_ids: { dims: [rows, 1], data: BigInt64Array.from(tokenIds.slice(from, to).map(BigInt)) },
      attention_mask: { dims: [rows, 1], data: new BigInt64Array(rows).fill(1n) },
      [LENS_INPUT]: { dims: [rows, 1, dim], data: vectors.subarray(from * dim, to * dim) },
    };
    const out = (await session.run(feeds)).logits;
    if (!out) throw new Error('the lens graph returned no "logits" output');
    const v = out.dims[out.dims.length - 1];
    const data = out.data as Float32Array;
    for (let r = 0; r < rows; r++) visit(from + r, data.subarray(r * v, (r + 1) * v));
  }
}

/** The model's own logits at one token position, from the plain session (independent of the lens graph). */
async function modelLogitsAt(model: LoadedModel, input: PreparedInput, position: number): Promise<Float32Array> {
  const base = input.baseInput(new Set());
  const row = unperturbedRow(base);
  const extractor: RowExtractor<Float32Array> = {
    key: `logits-at:${position}`,
    extract(outputs, b) {
      const l = outputs.logits;
      if (l.dims.length === 2) return Float32Array.from(l.data.subarray(b * l.dims[1], (b + 1) * l.dims[1]));
      const [, s, v] = l.dims;
      return Float32Array.from(l.data.subarray((b * s + position) * v, (b * s + position + 1) * v));
    },
  };
  return (await model.evaluatorFor(input).evaluate([row], extractor)).values[0];
}

/** Indices of the k largest entries (ties: lower index first). */
export function topIndices(x: ArrayLike<number>, k: number): number[] {
  const best: number[] = [];
  for (let i = 0; i < x.length; i++) {
    if (best.length < k || x[i] > x[best[best.length - 1]]) {
      let at = best.length;
      while (at > 0 && x[best[at - 1]] < x[i]) at--;
      best.splice(at, 0, i);
      if (best.length > k) best.pop();
    }
  }
  return best;
}

/**
 * The logit lens (nostalgebraist 2020): each hidden state, read as if it were the last layer's output,
 * through the model's final norm and output head. Shows per layer the top candidates at one position and
 * the rank of the model's final prediction there, and the top token of every layer at every position.
 * For classifiers the head reads the first token, so only position 0 is meaningful.
 */
export async function logitLens(model: LoadedModel, params: LogitLensParams): Promise<LogitLensResult> {
  if (model.isSeq2seq) {
    throw new BadInputError('The logit lens is available for decoder-only and encoder models; a text-to-text model’s decoder also needs the encoder’s output, which the lens does not feed.');
  }
  const input = await prepareTextOrIds(model, params);
  const position = params.position ?? predictionPosition(model, input);
  const seq = input.encoding.ids.length;
  if (!Number.isInteger(position) || position < 0 || position >= seq) {
    throw new BadInputError(`Position ${position} does not exist: the input has tokens 0–${seq - 1}.`);
  }
  const exposed = await model.runExposed(input);
  const states = stackStates(exposed.hiddenStates);
  if (states.length === 0) throw new BadInputError(exposed.note ?? 'This model exposes no hidden states, so the logit lens cannot be computed.');
  const dim = states[0].shape[2];
  const label = (id: number): string =>
    model.card.task === 'sequence-classification' ? (model.card.labels?.[id] ?? `LABEL_${id}`) : model.tokenizer.displayToken(id);

  const own = await modelLogitsAt(model, input, position);
  let predicted = 0;
  for (let i = 1; i < own.length; i++) if (own[i] > own[predicted]) predicted = i;

  // Rows: every (hidden state, position) pair.
  const rows = states.length * seq;
  const vectors = new Float32Array(rows * dim);
  const tokenIds: number[] = [];
  states.forEach((s, i) => {
    vectors.set(s.data.subarray(0, seq * dim), i * seq * dim);
    for (let t = 0; t < seq; t++) tokenIds.push(input.encoding.ids[t]);
  });
  const topK = Math.max(1, params.topK ?? DEFAULT_TOP_K);
  const grid = states.map(() => new Array<{ id: number; label: string; probability: number }>(seq));
  const layers: LogitLensLayer[] = states.map((s) => ({ index: s.index, top: [], predictedRank: -1, predictedProbability: 0 }));
  let finalDiff = 0;
  await lensLogits(model, vectors, dim, tokenIds, (row, logits) => {
    const i = Math.floor(row / seq);
    const t = row % seq;
    const lse = logSumExp(logits);
    const [best] = topIndices(logits, 1);
    grid[i][t] = { id: best, label: label(best), probability: Math.exp(logits[best] - lse) };
    if (t !== position) return;
    const top: Candidate[] = topIndices(logits, topK).map((id) => ({ id, label: label(id), probability: Math.exp(logits[id] - lse), logit: logits[id] }));
    let rank = 0;
    for (let j = 0; j < logits.length; j++) if (logits[j] > logits[predicted]) rank++;
    layers[i] = { index: states[i].index, top, predictedRank: rank, predictedProbability: Math.exp(logits[predicted] - lse) };
    if (i === states.length - 1) {
      for (let j = 0; j < logits.length; j++) finalDiff = Math.max(finalDiff, Math.abs(logits[j] - own[j]));
    }
  });
  return {
    encoded: input.encoded,
    position,
    prediction: { id: predicted, label: label(predicted) },
    layers,
    grid,
    finalLayerMaxAbsDiff: finalDiff,
    method:
      'Each hidden state replaces the last layer’s output in the model’s own graph, so it passes through the model’s final norm and output head exactly as the last layer’s output does.',
  };
}
