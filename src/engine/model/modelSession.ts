import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { AnalyzeOptions, ExposedModel, exposeInternals } from './graphSurgery';
import { float32ToHalf, halfToFloat32 } from './float16';
import { ModelError } from './modelError';
import { DataType, OnnxModel, OnnxValueInfo, withoutPayloads } from './onnxProto';

/** Typed array payloads a tensor can carry across processes. */
export type TensorArray = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array | Int8Array | Uint16Array;

/** A tensor as plain data: dims and a flat typed array (row-major). */
export interface TensorData {
  dims: number[];
  data: TensorArray;
}

/** Options of one {@link ModelSession.run}. */
export interface RunOptions {
  /**
   * float16 outputs (fp16 exports: logits, present key/values) come back as float32 by default; 'keep' returns
   * their 16-bit patterns untouched (a Uint16Array), for callers that feed them straight back (a KV cache).
   */
  float16?: 'float32' | 'keep';
  /** Only these outputs are returned (the others stay inside the runtime); default all. */
  outputs?: string[];
}

/** Options for {@link ModelSession.create}. */
export interface ModelSessionOptions {
  /** onnxruntime execution providers, in preference order (default ['cpu']). */
  executionProviders?: string[];
  /** Threads inside one operator (default: the runtime's choice). */
  intraOpNumThreads?: number;
  /** Add attention probabilities and hidden states as outputs (default true). */
  expose?: boolean;
  /** Passed to the graph analysis (e.g. which stack a decoder-only graph is). */
  analyze?: AnalyzeOptions;
  /**
   * The graph file the bytes come from (or were derived from). Its folder is where external-data files
   * are read from — not the process's working directory — and errors name it.
   */
  modelFile?: string;
}

const ORT_TYPE: Record<number, ort.Tensor.Type> = {
  [DataType.FLOAT]: 'float32',
  [DataType.INT64]: 'int64',
  [DataType.INT32]: 'int32',
  [DataType.BOOL]: 'bool',
  [DataType.UINT8]: 'uint8',
  [DataType.INT8]: 'int8',
  [DataType.DOUBLE]: 'float64',
  [DataType.FLOAT16]: 'float16',
};

/**
 * One graph loaded in onnxruntime, with attention and hidden states exposed, and a `run` that fills the
 * inputs exporters add but callers rarely have (position ids, token types, empty past state, cache flags).
 * Usable from any Node process; `run` blocks the thread it runs on while the native call works.
 */
export class ModelSession {
  private constructor(
    private readonly session: ort.InferenceSession,
    /** The graph's parse without tensor values ({@link withoutPayloads}): the runtime holds the weights. */
    readonly model: OnnxModel,
    /** What was exposed; undefined when exposure was turned off. */
    readonly exposed: Omit<ExposedModel, 'bytes'> | undefined,
    /** How errors name the graph. */
    private readonly label: string,
  ) {}

  /**
   * Creates a session for a parsed graph.
   * @param bytes the serialized model; @param parsed its parse.
   */
  static async create(bytes: Uint8Array, parsed: OnnxModel, options: ModelSessionOptions = {}): Promise<ModelSession> {
    const exposed = options.expose === false ? undefined : exposeInternals(bytes, parsed, options.analyze);
    const sessionOptions: ort.InferenceSession.SessionOptions = {
      executionProviders: options.executionProviders ?? ['cpu'],
      graphOptimizationLevel: 'all',
    };
    if (options.intraOpNumThreads) sessionOptions.intraOpNumThreads = options.intraOpNumThreads;
    if (options.modelFile) {
      // A model given as bytes has no folder of its own: without this ONNX Runtime looks for external
      // data in the working directory (session option "session.model_external_initializers_file_folder_path").
      sessionOptions.extra = { session: { model_external_initializers_file_folder_path: path.dirname(path.resolve(options.modelFile)) } };
    }
    const label = options.modelFile ?? 'The model';
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(exposed?.bytes ?? bytes, sessionOptions);
    } catch (err) {
      throw new ModelError('runtime-error', `ONNX Runtime cannot load ${label}: ${runtimeMessage(err)}. The file may be damaged or use operators this runtime lacks; re-export or re-download it.`);
    }
    // Neither the file's bytes nor the rewritten ones are kept: as large as the model, they would double what the
    // session holds (a GPT-2-sized model: 650 MB more per session).
    const kept = exposed && { attentions: exposed.attentions, hiddenStates: exposed.hiddenStates, notes: exposed.notes };
    return new ModelSession(session, withoutPayloads(parsed), kept, label);
  }

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  /** Declared graph input, by name. */
  input(name: string): OnnxValueInfo | undefined {
    return this.model.graph.inputs.find((i) => i.name === name);
  }

  /**
   * Runs the graph. Inputs the caller leaves out are filled when the graph wants them: `position_ids`
   * (0..S-1 per row, counting only attended tokens so left padding is respected), `token_type_ids` (zeros),
   * `past_key_values.N.key/value` (empty [B, heads, 0, head_dim]), `use_cache_branch` (false),
   * `encoder_attention_mask` (from `attention_mask`), decoder `input_ids` (from `decoder_input_ids`).
   * Float inputs of a float16 graph may be given as float32 (they are converted) or as 16-bit patterns.
   * @returns every model output and exposed tensor, as plain typed arrays (float16 ones as float32 unless
   *   `options.float16` is 'keep').
   * @throws ModelError when a required input is missing and cannot be derived.
   */
  async run(feeds: Record<string, TensorData>, options: RunOptions = {}): Promise<Record<string, TensorData>> {
    if (this.released) throw new ModelError('unsupported-graph', 'This model session was released with its model: open the model again.');
    const filled = this.fillInputs(feeds);
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const name of this.session.inputNames) {
      const t = filled[name];
      const type = ORT_TYPE[this.input(name)?.elemType ?? DataType.FLOAT] ?? 'float32';
      ortFeeds[name] = new ort.Tensor(type, convert(t.data, type) as ort.Tensor.DataType, t.dims);
    }
    let results: ort.InferenceSession.OnnxValueMapType;
    try {
      results = options.outputs ? await this.session.run(ortFeeds, options.outputs) : await this.session.run(ortFeeds);
    } catch (err) {
      throw new ModelError('runtime-error', `ONNX Runtime could not run ${this.label}: ${runtimeMessage(err)}.`);
    }
    const out: Record<string, TensorData> = {};
    for (const [name, value] of Object.entries(results)) {
      out[name] = { dims: [...value.dims], data: value.type === 'float16' && options.float16 === 'keep' ? (value.data as TensorArray) : asFloat32(value) };
    }
    return out;
  }

  private fillInputs(given: Record<string, TensorData>): Record<string, TensorData> {
    const feeds: Record<string, TensorData> = { ...given };
    const names = this.session.inputNames;
    if (names.includes('encoder_attention_mask') && !feeds.encoder_attention_mask && feeds.attention_mask && !names.includes('attention_mask')) {
      feeds.encoder_attention_mask = feeds.attention_mask;
    }
    if (names.includes('input_ids') && feeds.decoder_input_ids && names.includes('encoder_hidden_states')) {
      feeds.input_ids = feeds.decoder_input_ids;
    }
    const ids = feeds.input_ids;
    const batch = ids?.dims[0] ?? 1;
    const seq = ids?.dims[1] ?? 0;
    let pastLength = 0;
    for (const name of names) {
      if (feeds[name]) continue;
      const info = this.input(name);
      const past = /^past_key_values\.(\d+)\.(key|value)$/.exec(name) ?? /^past\.(\d+)\.(key|value)$/.exec(name);
      if (past) {
        const shape = info?.shape ?? [];
        const heads = shape[1];
        const headDim = shape[3];
        if (typeof heads !== 'number' || typeof headDim !== 'number') {
          throw new ModelError('unsupported-graph', `Input ${name} has no fixed head count and head size; give it explicitly.`);
        }
        feeds[name] = { dims: [batch, heads, 0, headDim], data: info?.elemType === DataType.FLOAT16 ? new Uint16Array(0) : new Float32Array(0) };
      } else if (name === 'use_cache_branch') {
        feeds[name] = { dims: [1], data: new Uint8Array([0]) };
      } else if (name === 'token_type_ids') {
        feeds[name] = { dims: [batch, seq], data: new BigInt64Array(batch * seq) };
      } else if (name === 'attention_mask' && ids) {
        feeds[name] = { dims: [batch, seq], data: new BigInt64Array(batch * seq).fill(1n) };
      }
    }
    for (const name of names) {
      const past = /^past_key_values\.\d+\.key$/.exec(name);
      if (past && feeds[name]) pastLength = feeds[name].dims[2];
    }
    if (names.includes('position_ids') && !feeds.position_ids && ids) {
      feeds.position_ids = { dims: [batch, seq], data: positionIds(feeds.attention_mask, batch, seq, pastLength) };
    }
    const missing = names.filter((n) => !feeds[n]);
    if (missing.length) {
      throw new ModelError('unsupported-graph', `The model needs input${missing.length > 1 ? 's' : ''} ${missing.join(', ')}, which ${missing.length > 1 ? 'were' : 'was'} not given and cannot be derived.`);
    }
    return feeds;
  }

  private released = false;

  /** Frees the native session; a later run is refused in words instead of reaching a freed session. */
  async release(): Promise<void> {
    this.released = true;
    await this.session.release();
  }
}

/** float16 and float64 outputs (an fp16 export's logits, say) as float32, which every reader expects; others as they are. */
function asFloat32(value: ort.Tensor): TensorArray {
  if (value.type === 'float16') {
    const bits = value.data as unknown as ArrayLike<number>;
    // Where the runtime hands out a Float16Array the values are numbers already; a Uint16Array holds bits.
    if (bits instanceof Uint16Array) return halfToFloat32(bits);
    return Float32Array.from(bits);
  }
  if (value.type === 'float64') return Float32Array.from(value.data as Float64Array);
  return value.data as TensorArray;
}

/** The first line of a runtime error, without a trailing period. */
function runtimeMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return (text.split('\n')[0] ?? '').trim().replace(/\.$/, '').slice(0, 500);
}

/**
 * Position ids as Hugging Face computes them for padded batches: the running count of attended tokens
 * minus one (1 on padding), for the last `seq` positions after `past` cached ones.
 */
export function positionIds(mask: TensorData | undefined, batch: number, seq: number, past = 0): BigInt64Array {
  const out = new BigInt64Array(batch * seq);
  for (let b = 0; b < batch; b++) {
    if (!mask) {
      for (let s = 0; s < seq; s++) out[b * seq + s] = BigInt(past + s);
      continue;
    }
    const total = mask.dims[1];
    let count = 0;
    for (let s = 0; s < total; s++) {
      const on = Number(mask.data[b * total + s]) !== 0;
      if (on) count++;
      const at = s - (total - seq);
      if (at >= 0) out[b * seq + at] = BigInt(on ? count - 1 : 1);
    }
  }
  return out;
}

function convert(data: TensorArray, type: ort.Tensor.Type): TensorArray {
  switch (type) {
    case 'int64':
      return data instanceof BigInt64Array ? data : BigInt64Array.from(Array.from(data as ArrayLike<number>, (v) => BigInt(Math.trunc(Number(v)))));
    case 'int32':
      return data instanceof Int32Array ? data : Int32Array.from(Array.from(data as ArrayLike<number | bigint>, Number));
    case 'float32':
      return data instanceof Float32Array ? data : Float32Array.from(Array.from(data as ArrayLike<number | bigint>, Number));
    case 'float16':
      return data instanceof Uint16Array ? data : float32ToHalf(data as ArrayLike<number>);
    case 'bool':
    case 'uint8':
      return data instanceof Uint8Array ? data : Uint8Array.from(Array.from(data as ArrayLike<number | bigint>, (v) => (Number(v) ? 1 : 0)));
    default:
      return data;
  }
}
