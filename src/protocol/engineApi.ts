/**
 * The typed contract between the callers of the engine (extension host, CLI, tests) and the engine
 * process. One module, imported by extension, engine and webview, importing none of them.
 *
 * Every request carries an id and gets exactly one response (a result or an error); long requests
 * also send progress events with the same id. Typed arrays cross the process boundary as they are
 * (the engine is forked with `serialization: 'advanced'`).
 */

export type Family = 'bert' | 'roberta' | 'distilbert' | 'gpt2' | 'llama' | 't5' | 'unknown';
export type Task = 'sequence-classification' | 'masked-lm' | 'causal-lm' | 'seq2seq' | 'feature-extraction' | 'unknown';
export type Variant = 'fp32' | 'quantized' | string;
/** How a removed feature is taken out of the input. */
export type RemovalStrategy = 'mask' | 'attention' | 'delete';
export type Level = 'word' | 'token';
export type MethodName =
  | 'exact-shapley'
  | 'kernel-shap'
  | 'partition-shap'
  | 'lime'
  | 'occlusion'
  | 'occlusion-window'
  | 'rollout'
  | 'flow';
export type AttentionKind = 'self' | 'decoder' | 'cross';

/** A number plus where it came from, for model-card fields that config.json and the graph may both give. */
export interface Sourced<T> {
  value: T;
  source: 'config' | 'graph' | 'none';
}

export interface TensorInfo {
  name: string;
  type: string;
  shape: (number | string)[];
}

/** Everything the model card shows; produced by `open`. */
export interface ModelCard {
  name: string;
  path: string;
  files: { role: string; path: string; bytes: number; sha256: string }[];
  variant: string;
  availableVariants: string[];
  family: Family;
  task: Task;
  labels?: string[];
  layers: Sourced<number>;
  decoderLayers?: Sourced<number>;
  heads: Sourced<number>;
  hiddenSize: Sourced<number>;
  vocabSize: Sourced<number>;
  maxPositions: Sourced<number>;
  opset: number;
  parameters: number;
  bytes: number;
  sha256: string;
  tokenizerSha256: string;
  tokenizerKind: string;
  quantized: boolean;
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  attention: { exposed: boolean; count: number; note?: string };
  warnings: string[];
}

export interface TokenView {
  id: number;
  text: string;
  start: number;
  end: number;
  special: boolean;
  wordIndex: number;
}

export interface WordView {
  text: string;
  start: number;
  end: number;
  tokenIndices: number[];
}

export interface TruncationNotice {
  maxTokens: number;
  droppedTokens: number;
  droppedChars: number;
  message: string;
}

/** The tokenized form of one text, with UTF-16 offsets into it. */
export interface EncodedText {
  text: string;
  tokens: TokenView[];
  words: WordView[];
  truncation?: TruncationNotice;
  /** For seq2seq: the decoder side (generated or given target). */
  decoder?: { tokens: TokenView[] };
}

export interface Candidate {
  label: string;
  id: number;
  probability: number;
  logit: number;
}

/** What the model predicts for a text. */
export interface Prediction {
  task: Task;
  /** Classes (classifier), candidates for the first [MASK] (masked LM), next tokens (causal LM). */
  candidates: Candidate[];
  /** For masked LMs with several masks: candidates per mask position (token index). */
  masks?: { tokenIndex: number; candidates: Candidate[] }[];
  /** For seq2seq: the greedy output text and its tokens. */
  generated?: { text: string; tokens: TokenView[] };
  encoded: EncodedText;
}

/** One attention tensor [batch=1, heads, queries, keys] as a flat typed array. */
export interface AttentionTensor {
  layer: number;
  kind: AttentionKind;
  shape: [number, number, number, number];
  data: Float32Array;
}

export interface HiddenStateTensor {
  index: number;
  stack: 'encoder' | 'decoder';
  shape: [number, number, number];
  data: Float32Array;
}

export interface AttentionResult {
  encoded: EncodedText;
  attentions: AttentionTensor[];
  hiddenStates: HiddenStateTensor[];
  note?: string;
}

/** What is explained: one scalar of the model output. */
export interface TargetSpec {
  /** Class label or index, vocabulary token, or output-token index (seq2seq); default: the predicted one. */
  target?: string | number;
  /** Explain target − contrast (difference of their logits). */
  contrast?: string | number;
  /** For seq2seq: which generated token to explain. */
  outputIndex?: number;
  /** For masked LMs with several masks: which mask (token index). */
  maskIndex?: number;
}

export interface ResolvedTarget {
  kind: 'class' | 'masked-token' | 'next-token' | 'output-token';
  id: number;
  label: string;
  contrastId?: number;
  contrastLabel?: string;
  description: string;
  position?: number;
}

export interface ExplainParams extends TargetSpec {
  text: string;
  method: MethodName;
  budget?: number;
  seed?: number;
  level?: Level;
  removal?: RemovalStrategy;
  /** Occlusion window size (occlusion-window). */
  window?: number;
  /** Rollout/flow: layer to roll up to (default: last). */
  layer?: number;
}

export interface FeatureValue {
  text: string;
  start: number;
  end: number;
  value: number;
  tokenIndices: number[];
}

export interface CurveView {
  /** f after each step: values[0] before any step, values[n] after all n. */
  values: number[];
  area: number;
  /** Area with f rescaled so f(all removed) = 0 and f(all present) = 1. */
  normalizedArea: number;
}

/** ERASER faithfulness of an explanation (DeYoung et al. 2020), and deletion / insertion curves. */
export interface Faithfulness {
  /** AOPC comprehensiveness: mean over the bins of f(x) − f(x without the top k%). Higher is more faithful. */
  comprehensiveness: number;
  /** AOPC sufficiency: mean over the bins of f(x) − f(only the top k%). Lower is more faithful. */
  sufficiency: number;
  bins: { fraction: number; k: number; comprehensiveness: number; sufficiency: number }[];
  deletion: CurveView;
  insertion: CurveView;
  evaluations: number;
}

export interface Provenance {
  modelSha256: string;
  tokenizerSha256: string;
  modelPath: string;
  variant: string;
  method: MethodName;
  budget: number;
  budgetNote?: string;
  seed: number;
  removal: RemovalStrategy;
  level: Level;
  version: string;
  createdAt: string;
}

/** A local explanation of one output for one text. Serialises to JSON as it is. */
export interface ExplanationResult {
  kind: 'explanation';
  text: string;
  target: ResolvedTarget;
  features: FeatureValue[];
  baseValue: number;
  outputValue: number;
  fullOutput: Prediction;
  evaluations: number;
  convergence: { max: number; kind: string; final: boolean };
  fit?: { r2: number; intercept: number };
  faithfulness?: Faithfulness;
  provenance: Provenance;
  encoded: EncodedText;
  notes: string[];
}

export interface EngineOptions {
  executionProviders?: string[];
  threads?: number;
  maxTokens?: number;
}

/** The engine's methods: request params → result. */
export interface EngineApi {
  open: { params: { modelPath: string; variant?: Variant; options?: EngineOptions }; result: ModelCard };
  tokenize: { params: { text: string }; result: EncodedText };
  predict: { params: { text: string; topK?: number }; result: Prediction };
  attention: { params: { text?: string; ids?: number[]; hidden?: boolean }; result: AttentionResult };
  explain: { params: ExplainParams; result: ExplanationResult };
  /** Model outputs for variants of one input (tests and benchmarks of the evaluator). */
  evaluate: {
    params: { text: string; keep: Uint8Array[]; removal: RemovalStrategy; output?: 'logits' };
    result: { logits: Float32Array[]; distinctRuns: number; batches: number };
  };
  /** Crash the engine on purpose (tests of recovery). */
  crash: { params: Record<string, never>; result: never };
}

export type EngineMethod = keyof EngineApi;

export interface EngineRequestMessage<M extends EngineMethod = EngineMethod> {
  type: 'request';
  id: number;
  method: M;
  params: EngineApi[M]['params'];
}

export interface CancelMessage {
  type: 'cancel';
  id: number;
}

export interface ProgressEvent {
  done: number;
  total: number;
  message?: string;
  /** A partial result, when the method has one (progressive explanations). */
  partial?: unknown;
}

export interface EngineErrorInfo {
  /** Machine-readable kind: bad input (user can fix), model error, cancelled, crash. */
  code: 'bad-input' | 'model' | 'cancelled' | 'crash' | 'timeout' | 'internal';
  message: string;
}

export type EngineReply =
  | { type: 'response'; id: number; ok: true; result: unknown }
  | { type: 'response'; id: number; ok: false; error: EngineErrorInfo }
  | { type: 'progress'; id: number; progress: ProgressEvent }
  | { type: 'log'; message: string };

export type EngineIncoming = EngineRequestMessage | CancelMessage;
