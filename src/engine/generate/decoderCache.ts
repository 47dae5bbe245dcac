import type { GenerationResult } from '../../protocol/engineApi';
import { halfToFloat32 } from '../model/float16';
import type { LoadedModel } from '../model/loadedModel';
import { ModelError } from '../model/modelError';
import type { GraphRole } from '../model/modelFolder';
import { DataType } from '../model/onnxProto';
import type { ModelSession, TensorData } from '../model/modelSession';
import { GATHER_INPUT, LAST_LOGPROBS, TOP_IDS, TOP_K_INPUT, TOP_LOGPROBS, generationSession } from './generationGraph';

/** How past keys and values travel from one step to the next. */
export type CacheMode = GenerationResult['cache'];

const PAST_INPUT = /^(?:past_key_values|past)\.(\d+)\.(key|value)$/;

/** One past key/value input and the output that holds its next value. */
interface PastSlot {
  input: string;
  output: string;
  heads: number;
  headDim: number;
  half: boolean;
}

/** What one step hands back about the next token. */
export interface StepResult {
  /** The most probable next tokens, most probable first, and their log-probabilities. */
  topIds: number[];
  topLogprobs: number[];
  /** The whole next-token log-distribution, when asked for (sampling). */
  logprobs?: Float32Array;
  /** The graph's own logits at the last position, when asked for. */
  logits?: Float32Array;
}

/** What a step returns besides the top tokens. */
export interface StepOptions {
  /** How many of the most probable tokens (default 1). */
  top?: number;
  /** Also the whole log-distribution. */
  logprobs?: boolean;
  /** Also the raw logits of the last position. */
  logits?: boolean;
}

function hasPast(session: ModelSession): boolean {
  return session.inputNames.some((n) => PAST_INPUT.test(n));
}

/**
 * The past inputs of a graph, each matched with its present output (`present.N.key`, or
 * `present_key_values.N.key`). Head counts come from the declared input shapes, else from config.json.
 */
function pastSlots(session: ModelSession, config: Record<string, unknown>): PastSlot[] {
  const slots: PastSlot[] = [];
  for (const input of session.inputNames) {
    const m = PAST_INPUT.exec(input);
    if (!m) continue;
    const [, layer, kind] = m;
    const output = [`present.${layer}.${kind}`, `present_key_values.${layer}.${kind}`].find((o) => session.outputNames.includes(o));
    if (!output) {
      throw new ModelError('unsupported-graph', `The graph takes ${input} but has no output present.${layer}.${kind} to carry the cache forward.`);
    }
    const info = session.input(input);
    const shape = info?.shape ?? [];
    const configHeads = [config.num_key_value_heads, config.num_attention_heads, config.n_head].find((v) => typeof v === 'number') as number | undefined;
    const hidden = [config.hidden_size, config.n_embd].find((v) => typeof v === 'number') as number | undefined;
    const heads = typeof shape[1] === 'number' ? shape[1] : configHeads;
    const attentionHeads = [config.num_attention_heads, config.n_head].find((v) => typeof v === 'number') as number | undefined;
    const headDim =
      typeof shape[3] === 'number'
        ? shape[3]
        : typeof config.head_dim === 'number'
          ? config.head_dim
          : hidden && attentionHeads
            ? hidden / attentionHeads
            : undefined;
    if (!heads || !headDim) {
      throw new ModelError('unsupported-graph', `${input} has no fixed head count and head size, and config.json does not give them.`);
    }
    slots.push({ input, output, heads, headDim, half: info?.elemType === DataType.FLOAT16 });
  }
  return slots;
}

/**
 * Runs a decoder one step at a time. With a cache, the first step feeds the prompt with an empty past and
 * every later step feeds only the new token with the previous step's present keys and values as its past:
 * a graph with past inputs (`model.onnx` of transformers.js, `decoder_model.onnx` with past), Optimum's
 * merged decoder (its `If` runs the no-past branch first, `use_cache_branch` false, then the cache branch),
 * or the older pair `decoder_model.onnx` + `decoder_with_past_model.onnx`. Without a cache every step feeds
 * the whole sequence (past inputs, if any, empty). float16 caches stay as they are between steps.
 */
export class DecoderStepper {
  private past: Record<string, TensorData> | undefined;
  private steps = 0;

  private constructor(
    readonly mode: CacheMode,
    private readonly first: ModelSession,
    private readonly next: ModelSession,
    private readonly slots: PastSlot[],
    private readonly nextSlots: PastSlot[],
  ) {}

  /** Picks the graphs for generating with (or without) a cache (each with the next-token heads of generationGraph.ts). */
  static async create(model: LoadedModel, useCache: boolean): Promise<DecoderStepper> {
    const g = model.files.graphs;
    const open = (role: GraphRole) => generationSession(model, role);
    if (useCache) {
      for (const role of ['model', 'decoder'] as GraphRole[]) {
        if (!g[role]) continue;
        const s = await open(role);
        if (hasPast(s)) return DecoderStepper.single('kv', s, model.config);
      }
      if (g.decoderMerged) return DecoderStepper.single('kv-merged', await open('decoderMerged'), model.config);
      if (g.decoder && g.decoderWithPast) {
        const first = await open('decoder');
        const next = await open('decoderWithPast');
        return new DecoderStepper('kv-two-graphs', first, next, pastSlots(first, model.config), pastSlots(next, model.config));
      }
    }
    const plain = await open(model.mainRole);
    return DecoderStepper.single('none', plain, model.config);
  }

  private static single(mode: CacheMode, session: ModelSession, config: Record<string, unknown>): DecoderStepper {
    const slots = pastSlots(session, config);
    return new DecoderStepper(mode, session, session, slots, slots);
  }

  /**
   * Feeds the next step and returns what it says about the next token. `sequence` is every token so far
   * (prompt and generated); with a cache only the tokens not fed yet go in.
   */
  async step(sequence: number[], options: StepOptions = {}): Promise<StepResult> {
    const total = sequence.length;
    const cached = this.mode !== 'none' && this.past !== undefined;
    const fed = cached ? sequence.slice(this.fedLength) : sequence;
    const session = cached ? this.next : this.first;
    const slots = cached ? this.nextSlots : this.slots;
    const k = fed.length;
    const feeds: Record<string, TensorData> = {
      input_ids: { dims: [1, k], data: BigInt64Array.from(fed.map(BigInt)) },
      attention_mask: { dims: [1, total], data: new BigInt64Array(total).fill(1n) },
    };
    if (session.inputNames.includes('position_ids')) {
      feeds.position_ids = { dims: [1, k], data: BigInt64Array.from({ length: k }, (_, i) => BigInt(total - k + i)) };
    }
    for (const slot of slots) {
      feeds[slot.input] = cached
        ? (this.past as Record<string, TensorData>)[slot.input]
        : { dims: [1, slot.heads, 0, slot.headDim], data: slot.half ? new Uint16Array(0) : new Float32Array(0) };
    }
    if (session.inputNames.includes('use_cache_branch')) feeds.use_cache_branch = { dims: [1], data: Uint8Array.of(cached ? 1 : 0) };
    const top = Math.max(1, options.top ?? 1);
    feeds[GATHER_INPUT] = { dims: [1, k, 1], data: new BigInt64Array(k) };
    feeds[TOP_K_INPUT] = { dims: [1], data: BigInt64Array.of(BigInt(top)) };
    const fetch = [TOP_IDS, TOP_LOGPROBS, ...(this.mode !== 'none' ? this.nextSlots.map((slot) => slot.output) : [])];
    if (options.logprobs) fetch.push(LAST_LOGPROBS);
    if (options.logits) fetch.push('logits');
    const out = await session.run(feeds, { float16: 'keep', outputs: fetch });
    if (this.mode !== 'none') {
      const past: Record<string, TensorData> = {};
      for (const slot of this.nextSlots) {
        const present = out[slot.output];
        if (!present) throw new ModelError('unsupported-graph', `The graph returned no ${slot.output}.`);
        past[slot.input] = present;
      }
      this.past = past;
      this.fedLength = total;
    }
    this.steps++;
    const result: StepResult = {
      topIds: Array.from(out[TOP_IDS].data as BigInt64Array, Number),
      topLogprobs: Array.from(out[TOP_LOGPROBS].data as Float32Array),
    };
    if (options.logprobs) result.logprobs = out[LAST_LOGPROBS].data as Float32Array;
    if (options.logits) {
      const logits = out.logits;
      const v = logits.dims[logits.dims.length - 1];
      const rows = logits.dims.length === 3 ? logits.dims[1] : 1;
      const row = logits.data.subarray((rows - 1) * v, rows * v);
      result.logits = row instanceof Uint16Array ? halfToFloat32(row) : (row as Float32Array);
    }
    return result;
  }

  private fedLength = 0;

  /** Steps run so far. */
  get stepCount(): number {
    return this.steps;
  }
}
