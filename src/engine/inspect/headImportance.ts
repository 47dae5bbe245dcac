import type { HeadImportanceParams, HeadImportanceResult, ResolvedTarget } from '../../protocol/engineApi';
import { addHeadMask } from '../model/graphSurgery';
import type { LoadedModel, PreparedInput } from '../model/loadedModel';
import { ModelSession, type TensorData } from '../model/modelSession';
import { parseOnnxModel } from '../model/onnxProto';
import { BadInputError } from '../process/engineErrors';
import type { RequestContext } from '../process/requestContext';
import { BatchedEvaluator, padRows, type BatchOutputs, type BatchRunner, type RowExtractor } from '../run/batchedEvaluator';
import { unperturbedRow, type InputRow } from '../run/inputVariants';
import { readPosition, type ReadSpec } from '../run/outputReaders';
import { predictPrepared, resolveTarget } from '../run/predict';
import { argmax } from '../generate/sampling';
import { mainGraph } from './modelGraph';
import { throttledProgress } from './progress';

/** Most texts averaged in one request. */
export const MAX_HEAD_IMPORTANCE_TEXTS = 256;
/** Upper bound on batch × padded length of one masked run. */
const MAX_BATCH_TOKENS = 8192;

/** A session of the model's graph with a `head_mask` [layers, heads] input (Hugging Face semantics). */
interface HeadMaskSession {
  session: ModelSession;
  inputName: string;
  layers: number;
  heads: number;
}


function headMaskSession(model: LoadedModel): Promise<HeadMaskSession> {
  return model.derivedSession('head mask', async () => {
    const heads = model.card.heads.value;
    if (!heads) throw new BadInputError('The number of attention heads of this model is unknown (neither config.json nor the graph gives it), so heads cannot be ablated.');
    const { graph } = mainGraph(model);
    const masked = addHeadMask(graph.bytes, graph.model, { heads, kind: 'self' });
    const session = await ModelSession.create(masked.bytes, parseOnnxModel(masked.bytes, 'head-masked model'), {
      modelFile: graph.file,
      expose: false,
      executionProviders: model.options.executionProviders,
      intraOpNumThreads: model.options.threads,
    });
    return { session, inputName: masked.inputName, layers: masked.layers, heads };
  });
}

/** One text with its target and the row the model reads. */
interface TextCase {
  text: string;
  input: PreparedInput;
  row: InputRow;
  spec: ReadSpec;
  target: ResolvedTarget;
}

/** What one masked run gives per text: the target value and the top prediction. */
interface MaskOutcome {
  values: number[];
  predicted: number[];
}

/** The cost, in masked runs, of a full single-head grid plus the unmasked model: L·H + 1. */
export function gridEvaluations(layers: number, heads: number): number {
  return layers * heads + 1;
}

/** Runs padded batches through the head-masked graph, one [layers, heads] mask for the whole batch. */
function maskedRunner(hm: HeadMaskSession, mask: Float32Array): BatchRunner {
  return async (batch) => {
    const feeds: Record<string, TensorData> = {
      input_ids: { dims: [batch.batch, batch.seqLen], data: batch.inputIds },
      attention_mask: { dims: [batch.batch, batch.seqLen], data: batch.attentionMask },
      [hm.inputName]: { dims: [hm.layers, hm.heads], data: mask },
    };
    if (hm.session.inputNames.includes('token_type_ids')) feeds.token_type_ids = { dims: [batch.batch, batch.seqLen], data: batch.tokenTypeIds };
    const out = await hm.session.run(feeds);
    return { logits: { dims: out.logits.dims, data: out.logits.data as Float32Array } };
  };
}

/**
 * Runs masks over all texts through the batched evaluator: each distinct mask once, its texts together (one
 * session run per mask and chunk of texts, since a [layers, heads] mask applies to the whole batch; however
 * different their lengths), identical masks cached for the request, cancel checked between runs.
 */
class MaskRunner {
  private readonly cache = new Map<string, MaskOutcome>();
  readonly stats = { masks: 0, rows: 0, batches: 0 };
  private readonly caseOf = new Map<InputRow, TextCase>();

  constructor(
    private readonly hm: HeadMaskSession,
    private readonly cases: TextCase[],
    private readonly model: LoadedModel,
    private readonly ctx: RequestContext,
  ) {
    for (const c of cases) this.caseOf.set(c.row, c);
  }

  async run(mask: Float32Array): Promise<MaskOutcome> {
    const key = Array.from(mask, (v) => (v === 1 ? '1' : v === 0 ? '0' : String(v))).join('');
    const hit = this.cache.get(key);
    if (hit) return hit;
    const evaluator = new BatchedEvaluator(maskedRunner(this.hm, mask), {
      padId: this.model.tokenizer.special.pad ?? 0,
      maxBatchTokens: MAX_BATCH_TOKENS,
      maxBatchRows: MAX_HEAD_IMPORTANCE_TEXTS,
      rowsDependOnBatch: this.model.rowsDependOnBatch,
      minFill: 0,
    });
    const extractor: RowExtractor<{ value: number; predicted: number }> = {
      key: 'head-mask',
      extract: (outputs, b, row) => {
        const c = this.caseOf.get(row) as TextCase;
        const logits = rowLogitsOf(outputs, b, c);
        return { value: c.target.contrastId === undefined ? logits[c.target.id] : logits[c.target.id] - logits[c.target.contrastId], predicted: argmax(logits) };
      },
    };
    const r = await evaluator.evaluate(
      this.cases.map((c) => c.row),
      extractor,
      { isCancelled: this.ctx.isCancelled },
    );
    this.stats.masks++;
    this.stats.rows += r.distinctRuns;
    this.stats.batches += r.batches;
    const outcome = { values: r.values.map((v) => v.value), predicted: r.values.map((v) => v.predicted) };
    this.cache.set(key, outcome);
    return outcome;
  }
}

function rowLogitsOf(outputs: BatchOutputs, b: number, c: TextCase): Float32Array {
  const l = outputs.logits;
  if (l.dims.length === 2) return l.data.subarray(b * l.dims[1], (b + 1) * l.dims[1]);
  const [, s, v] = l.dims;
  const p = readPosition(c.spec, c.row);
  return l.data.subarray((b * s + p) * v, (b * s + p + 1) * v);
}

function mean(values: number[]): number {
  return values.reduce((a, x) => a + x, 0) / Math.max(1, values.length);
}

/**
 * Attention-head importance by ablation, with Hugging Face's head-mask semantics (a head's attention
 * probabilities multiplied by 0): for each head, the change of the explained output (class logit, masked
 * token, next token — the same target as explanations) when that head alone is removed, as a layers × heads
 * grid for one text or averaged over several; the change with every head of a layer removed; and the cost
 * of pruning a chosen set of heads together. Costs L·H + L + 1 masked runs for the grid (each run covers
 * all texts), plus one for the prune set.
 */
export async function headImportance(model: LoadedModel, params: HeadImportanceParams, ctx: RequestContext): Promise<HeadImportanceResult> {
  if (model.isSeq2seq) {
    throw new BadInputError('Head ablation is available for encoder and decoder-only models; for a text-to-text model it would need the encoder and decoder masked together, which is not supported yet.');
  }
  const texts = params.texts && params.texts.length > 0 ? params.texts : params.text !== undefined ? [params.text] : [];
  if (texts.length === 0) throw new BadInputError('No text given. Select a text (or give a list of texts) to measure head importance on.');
  if (texts.length > MAX_HEAD_IMPORTANCE_TEXTS) {
    throw new BadInputError(`${texts.length} texts are more than the ${MAX_HEAD_IMPORTANCE_TEXTS} head importance averages over; use a dataset run for more.`);
  }
  const hm = await headMaskSession(model);
  const { layers, heads } = hm;
  const prune = params.prune ?? [];
  for (const [l, h] of prune) {
    if (!Number.isInteger(l) || !Number.isInteger(h) || l < 0 || l >= layers || h < 0 || h >= heads) {
      throw new BadInputError(`Head [${l}, ${h}] does not exist: this model has layers 0–${layers - 1} and heads 0–${heads - 1}.`);
    }
  }

  const cases: TextCase[] = [];
  for (const text of texts) {
    const input = await model.prepare(text);
    const prediction = await predictPrepared(model, input, 10, params);
    const target = resolveTarget(model, input, prediction, params);
    const base = input.baseInput(new Set());
    const row = unperturbedRow(base);
    cases.push({ text, input, row, spec: input.readSpec(target), target });
  }
  const runner = new MaskRunner(hm, cases, model, ctx);
  const maskOf = (off: [number, number][]): Float32Array => {
    const m = new Float32Array(layers * heads).fill(1);
    for (const [l, h] of off) m[l * heads + h] = 0;
    return m;
  };
  const total = (params.gridOff ? 0 : layers * heads + layers) + 1 + (prune.length ? 1 : 0);
  let done = 0;
  const progress = throttledProgress(ctx);
  const step = async (off: [number, number][]): Promise<MaskOutcome> => {
    const r = await runner.run(maskOf(off));
    progress({ done: ++done, total, message: `${done} of ${total} masks` });
    return r;
  };

  const base = await step([]);
  const result: HeadImportanceResult = {
    layers,
    heads,
    targets: cases.map((c, i) => ({ text: c.text, target: c.target, baseValue: base.values[i] })),
    evaluations: runner.stats,
    method: `Hugging Face head-mask semantics: a head is removed by multiplying its attention probabilities by 0; change = target logit with the head(s) removed − with every head (mean over ${cases.length} text${cases.length === 1 ? '' : 's'}).`,
  };
  const change = (o: MaskOutcome): number[] => o.values.map((v, i) => v - base.values[i]);
  if (!params.gridOff) {
    const grid: number[][] = [];
    const absGrid: number[][] = [];
    for (let l = 0; l < layers; l++) {
      const row: number[] = [];
      const absRow: number[] = [];
      for (let h = 0; h < heads; h++) {
        const d = change(await step([[l, h]]));
        row.push(mean(d));
        absRow.push(mean(d.map(Math.abs)));
      }
      grid.push(row);
      absGrid.push(absRow);
    }
    const layerAblation: number[] = [];
    for (let l = 0; l < layers; l++) {
      layerAblation.push(mean(change(await step(Array.from({ length: heads }, (_, h) => [l, h] as [number, number])))));
    }
    Object.assign(result, { grid, absGrid, layerAblation });
  }
  if (prune.length) {
    const o = await step(prune);
    const d = change(o);
    const perText = cases.map((c, i) => {
      const flipped = o.predicted[i] !== base.predicted[i];
      const label = model.card.task === 'sequence-classification' ? (model.card.labels?.[o.predicted[i]] ?? `LABEL_${o.predicted[i]}`) : model.tokenizer.displayToken(o.predicted[i]);
      return { value: o.values[i], change: d[i], predicted: label, flipped };
    });
    result.prune = { heads: prune, change: mean(d), flipRate: mean(perText.map((p) => (p.flipped ? 1 : 0))), perText };
  }
  result.evaluations = { ...runner.stats };
  return result;
}

/**
 * The model's logits at the read position of one text with the given heads removed ([layer, head] pairs),
 * through the same head-mask session the grid uses.
 */
export async function maskedLogits(model: LoadedModel, text: string, off: [number, number][]): Promise<Float32Array> {
  const hm = await headMaskSession(model);
  const input = await model.prepare(text);
  const prediction = await predictPrepared(model, input, 1);
  const target = resolveTarget(model, input, prediction, {});
  const base = input.baseInput(new Set());
  const row = unperturbedRow(base);
  const c: TextCase = { text, input, row, spec: input.readSpec(target), target };
  const mask = new Float32Array(hm.layers * hm.heads).fill(1);
  for (const [l, h] of off) mask[l * hm.heads + h] = 0;
  const outputs = await maskedRunner(hm, mask)(padRows([row], model.tokenizer.special.pad ?? 0));
  return Float32Array.from(rowLogitsOf(outputs, 0, c));
}
