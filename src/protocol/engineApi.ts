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
/**
 * What punctuation is in an explanation: 'feature' (default) — each mark (`,` `.` `!` `"` …) is a feature of
 * its own; 'omit' — marks stay in the input, are never removed and get no value (as SHAP users often want).
 */
export type PunctuationMode = 'feature' | 'omit';
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

/**
 * Which text of a sentence pair a token, word or feature belongs to: 0 for the first text (segment A), 1 for
 * the second (segment B). Present only on pair inputs; its offsets are then into that segment's text.
 */
export type Segment = 0 | 1;

export interface TokenView {
  id: number;
  text: string;
  start: number;
  end: number;
  special: boolean;
  wordIndex: number;
  /** Pair inputs: the text the token belongs to (special tokens: the text they follow, or precede). */
  segment?: Segment;
}

export interface WordView {
  text: string;
  start: number;
  end: number;
  tokenIndices: number[];
  /** Pair inputs: the text the word belongs to; `start`/`end` are offsets into that text. */
  segment?: Segment;
}

export interface TruncationNotice {
  maxTokens: number;
  droppedTokens: number;
  droppedChars: number;
  message: string;
}

/** The tokenized form of one text (or a sentence pair), with UTF-16 offsets into it. */
export interface EncodedText {
  text: string;
  /** The second text of a sentence pair (segment B); tokens and words carry their `segment`. */
  textPair?: string;
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
  /**
   * Classifiers: a class label or index. Token outputs: a token as predictions name it (` g`, `##ing`), a raw
   * vocabulary piece (`▁g`), `id:N` or a number (the id), or a text of several tokens (a word: explained as
   * the sum of their log-probabilities, teacher-forced). Default: the predicted one.
   */
  target?: string | number;
  /** Explain target − contrast (difference of their logits; single tokens only). */
  contrast?: string | number;
  /** For seq2seq: which generated token to explain. */
  outputIndex?: number;
  /** For masked LMs with several masks: which mask, counted from 0 in the text. */
  mask?: number;
  /** For masked LMs with several masks: which mask, as a token index. */
  maskIndex?: number;
  /** For causal LMs: the token position whose next token is explained (default: the last token). */
  position?: number;
}

export interface ResolvedTarget {
  kind: 'class' | 'masked-token' | 'next-token' | 'output-token';
  id: number;
  label: string;
  contrastId?: number;
  contrastLabel?: string;
  description: string;
  /** The [MASK]'s token index, the causal LM's read position when one was picked, the seq2seq output index. */
  position?: number;
  /**
   * A target of several tokens (a word the vocabulary splits): their ids in order (`id` is the first). Its
   * value is the sum of their log-probabilities, each token read after the ones before it: appended to the
   * text for a causal LM, fed to the decoder for seq2seq, at consecutive [MASK]s for a masked LM.
   */
  tokenIds?: number[];
  /** How the target's name was read, when that needs saying: which token was chosen, what else it could mean. */
  note?: string;
}

export interface ExplainParams extends TargetSpec {
  text: string;
  /**
   * The second text of a sentence pair (next-sentence, NLI and question-answer inputs): encoded after `text`
   * with the tokenizer's pair template and token type 1, and explained with it (features of both texts).
   */
  textPair?: string;
  method: MethodName;
  budget?: number;
  seed?: number;
  level?: Level;
  removal?: RemovalStrategy;
  /** Punctuation as features of their own (default) or left out of the explanation. */
  punctuation?: PunctuationMode;
  /** Occlusion window size (occlusion-window). */
  window?: number;
  /** Rollout/flow: layer to roll up to (default: last). */
  layer?: number;
  /** false skips the faithfulness scores (their deletion and insertion runs): for quick, provisional estimates. */
  faithfulness?: boolean;
}

export interface FeatureValue {
  text: string;
  start: number;
  end: number;
  value: number;
  tokenIndices: number[];
  /** Pair inputs: which text the feature is in; `start`/`end` are offsets into that text. */
  segment?: Segment;
}

export interface CurveView {
  /** f after each step: values[0] before any step, the last after all n features. */
  values: number[];
  /** Features removed or added at each value, when a step takes several (more than 100 features); else 0, 1, …, n. */
  counts?: number[];
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
  /** Coalitions the curves needed beyond those the method had already evaluated. */
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
  /** 'omit' when punctuation was left out of the features. */
  punctuation?: PunctuationMode;
  version: string;
  createdAt: string;
}

/** A local explanation of one output for one text. Serialises to JSON as it is. */
export interface ExplanationResult {
  kind: 'explanation';
  text: string;
  /** The second text, when a sentence pair was explained. */
  textPair?: string;
  target: ResolvedTarget;
  features: FeatureValue[];
  baseValue: number;
  outputValue: number;
  fullOutput: Prediction;
  /** Distinct coalitions the method evaluated (at most the budget); the faithfulness scores' own are in `faithfulness`. */
  evaluations: number;
  /**
   * How far the values may still move: kind 'exact' (exact Shapley values, occlusion), 'exact-owen' (the exact
   * Owen values of the text's hierarchy, not Shapley values), 'std-error' or 'change-between-rounds' (estimates,
   * `max` the largest per feature), 'not-estimated' (`max` NaN).
   */
  convergence: { max: number; kind: string; final: boolean };
  /**
   * What the values are: Shapley values (exact or KernelSHAP's estimate), Owen values of the text's hierarchy
   * (Partition SHAP; they equal Shapley values only when the hierarchy is flat), LIME's surrogate weights,
   * occlusion differences, or attention shares (rollout, flow).
   */
  valueKind?: 'shapley' | 'owen' | 'lime' | 'occlusion' | 'attention';
  /** Time: the estimate said before the method started, the time taken, and the model rows run (after the cache). */
  timing?: { estimatedMs: number; elapsedMs: number; modelRows: number };
  fit?: { r2: number; intercept: number };
  faithfulness?: Faithfulness;
  provenance: Provenance;
  encoded: EncodedText;
  notes: string[];
}

/* ------------------------------------------------------------------------------------------------ */
/* Inside the model: activations, logit lens, head importance, comparison, robustness, datasets      */
/* ------------------------------------------------------------------------------------------------ */

export interface ActivationsParams {
  /** The text, or exact token ids instead. */
  text?: string;
  ids?: number[];
  /** Which residual stream (seq2seq models have two; default: the encoder, or the only one). */
  stack?: 'encoder' | 'decoder';
  /** Hidden state whose top units are listed (0 enters layer 0, L leaves the last layer; default L). */
  layer?: number;
  /** Token whose top units are listed (default 0). */
  token?: number;
  /** How many units to list (default 10). */
  topUnits?: number;
}

export interface ActivationsResult {
  encoded: EncodedText;
  stack: 'encoder' | 'decoder';
  /** Token texts of the stack, in order. */
  tokens: string[];
  layers: number;
  hiddenSize: number;
  /** norms[i][t] = ‖h_i[t]‖, i = 0..layers. */
  norms: number[][];
  /** updates[i][t] = ‖h_{i+1}[t] − h_i[t]‖, the size of layer i's update to token t. */
  updates: number[][];
  /** updates[i][t] / norms[i][t]. */
  relativeUpdates: number[][];
  /** The most active hidden units (largest |value|) of one token at one hidden state. */
  top: { state: number; token: number; units: { unit: number; value: number }[] };
  note?: string;
}

export interface LogitLensParams {
  text?: string;
  ids?: number[];
  /** Token position read in detail (default: where the prediction is read). */
  position?: number;
  /** Candidates listed per layer at that position (default 10). */
  topK?: number;
}

export interface LogitLensLayer {
  /** Hidden state index: 0 enters layer 0, L leaves the last layer. */
  index: number;
  top: Candidate[];
  /** Rank (0 = top) of the model's final prediction in this layer's distribution. */
  predictedRank: number;
  predictedProbability: number;
}

export interface LogitLensResult {
  encoded: EncodedText;
  position: number;
  /** The model's own prediction at that position. */
  prediction: { id: number; label: string };
  layers: LogitLensLayer[];
  /** grid[i][t]: the top token of hidden state i at position t. */
  grid: { id: number; label: string; probability: number }[][];
  /** Largest |lens logit − model logit| at the last hidden state (0 up to float rounding: the lens is exact there). */
  finalLayerMaxAbsDiff: number;
  method: string;
}

export interface HeadImportanceParams extends TargetSpec {
  /** One text, or several (importance is averaged over them). */
  text?: string;
  texts?: string[];
  /** Heads to ablate together ("what pruning these heads would cost"), as [layer, head] pairs. */
  prune?: [number, number][];
  /** Skip the single-head grid (only the prune set and the full model are run). */
  gridOff?: boolean;
}

export interface HeadImportanceResult {
  layers: number;
  heads: number;
  /** What is measured per text: the target's logit (class, masked token, next token). */
  targets: { text: string; target: ResolvedTarget; baseValue: number }[];
  /** grid[l][h]: mean over texts of (target with head l,h ablated) − (target with every head). */
  grid?: number[][];
  /** grid[l][h]: mean over texts of the |change|. */
  absGrid?: number[][];
  /** Mean change with every head of a layer ablated. */
  layerAblation?: number[];
  prune?: {
    heads: [number, number][];
    /** Mean change of the target logit with these heads ablated together. */
    change: number;
    /** Fraction of texts whose top prediction changes. */
    flipRate: number;
    perText: { value: number; change: number; predicted: string; flipped: boolean }[];
  };
  /** Distinct head masks run (each over all texts at once) and model rows run. */
  evaluations: { masks: number; rows: number; batches: number };
  method: string;
}

export interface CompareParams extends TargetSpec {
  text: string;
  /** The other model: a folder or .onnx file; default: this model's other variant (fp32 ↔ int8). */
  otherPath?: string;
  otherVariant?: Variant;
  /** Explanation method compared (default occlusion); same seed and budget on both. */
  method?: MethodName;
  budget?: number;
  seed?: number;
  /** k of the top-k overlap (default half the matched words, between 1 and 5). */
  topK?: number;
  /** Repetitions of the timed predict (default 5). */
  timingRuns?: number;
  /** Skip the explanations (prediction drift, attention, size and speed only). */
  explain?: boolean;
}

export interface ModelSide {
  name: string;
  path: string;
  variant: string;
  bytes: number;
  sha256: string;
  prediction: Prediction;
  /** Median milliseconds of one predict, and of one explanation. */
  predictMs: number;
  explainMs?: number;
}

export interface CompareResult {
  a: ModelSide;
  b: ModelSide;
  sameTokenizer: boolean;
  drift: {
    /** Per label/token present in both outputs: p_b − p_a. */
    perLabel: { label: string; pA: number; pB: number; diff: number }[];
    maxAbsProbabilityDiff: number;
    maxAbsLogitDiff?: number;
    top1Agree: boolean;
    /** KL(p_a ‖ p_b) in nats over the full output (same outputs only). */
    klDivergence?: number;
  };
  attribution?: {
    method: MethodName;
    seed: number;
    /** Words present in both explanations, matched by character offsets. */
    matchedWords: number;
    words: { text: string; start: number; end: number; a: number; b: number }[];
    spearman: number;
    kendallTau: number;
    topK: number;
    topKOverlap: number;
  };
  /** Mean |A_b − A_a| per layer and head, for layers whose attention shapes match. */
  attention?: { layer: number; kind: AttentionKind; meanAbsDiff: number[] }[];
  attentionNote?: string;
  /** b / a. */
  sizeRatio: number;
  speedRatio: number;
  notes: string[];
}

export type PerturbationKind = 'delete' | 'swap' | 'insert' | 'synonym' | 'char-noise';

export interface RobustnessParams extends TargetSpec {
  text: string;
  kinds?: PerturbationKind[];
  /** Most variants (default 30). */
  maxVariants?: number;
  seed?: number;
  /** Attribution method compared between original and variants (default occlusion; 'none' to skip). */
  method?: MethodName | 'none';
  budget?: number;
}

export interface RobustnessVariant {
  text: string;
  kind: PerturbationKind;
  /** What changed, in words, e.g. `deleted "not"`. */
  edit: string;
  /** Character range of the edit in the original text. */
  start: number;
  end: number;
  predicted: string;
  probability: number;
  flipped: boolean;
  /** The explained output's probability in the variant minus in the original. */
  targetProbabilityChange: number;
  /** Total variation distance between the two output distributions. */
  totalVariation: number;
  /** Rank agreement of the per-word attributions on the words both texts share. */
  attributionSpearman?: number;
  sharedWords?: number;
}

export interface RobustnessResult {
  text: string;
  target: ResolvedTarget;
  original: { predicted: string; probability: number; attributions?: FeatureValue[] };
  variants: RobustnessVariant[];
  summary: { variants: number; flipRate: number; meanTotalVariation: number; meanAttributionSpearman?: number; byKind: Record<string, { variants: number; flips: number; meanTotalVariation: number }> };
  seed: number;
  method: MethodName | 'none';
  evaluations: number;
}

export type DatasetFormat = 'jsonl' | 'csv' | 'tsv' | 'txt';

export interface DatasetParams {
  path: string;
  format?: DatasetFormat;
  /** Column name or 0-based index of the text (csv/tsv with a header: a name; jsonl: a field); default: "text"/"sentence", or the first column. */
  textColumn?: string | number;
  labelColumn?: string | number;
  /** Whether a csv/tsv file has a header row (default: true when a column is named, else guessed). */
  header?: boolean;
  /** Most examples read (default: all). */
  limit?: number;
  /** Examples per model batch (default 64). */
  batchSize?: number;
  /** Attribution method for the influential words (default occlusion; 'none' to skip). */
  method?: MethodName | 'none';
  budget?: number;
  seed?: number;
  /** Examples explained, at most (default 200). */
  maxExplained?: number;
  /** Listed least confident and misclassified examples, at most (default 20 and 100). */
  listSize?: number;
  maxMisclassified?: number;
  /**
   * Send the result so far (a DatasetResult marked `partial`) with the progress events, a few times a
   * second: a caller interrupted half way still has valid numbers for the examples read.
   */
  partialResults?: boolean;
}

export interface DatasetExample {
  /** 1-based line of the file where the example starts. */
  line: number;
  text: string;
  label?: string;
  predicted: string;
  probability: number;
}

export interface DatasetWord {
  word: string;
  meanAbs: number;
  /** Mean signed attribution (towards the predicted class). */
  mean: number;
  count: number;
}

export interface DatasetResult {
  path: string;
  format: DatasetFormat;
  examples: number;
  skipped: { line: number; reason: string }[];
  labelled: number;
  /** Accuracy over labelled examples whose label matched a class. */
  accuracy?: number;
  correct?: number;
  labels: string[];
  /** confusion[true][predicted] counts, rows and columns in `labels` order. */
  confusion?: number[][];
  /** Labels in the file that match no class of the model, with counts. */
  unknownLabels?: Record<string, number>;
  predictedCounts: Record<string, number>;
  /** Most influential words per predicted class (mean |attribution|). */
  words?: Record<string, DatasetWord[]>;
  explained: number;
  leastConfident: DatasetExample[];
  misclassified: DatasetExample[];
  misclassifiedTotal: number;
  seconds: number;
  examplesPerSecond: number;
  method: MethodName | 'none';
  evaluations: number;
  /** Present when the run stopped before the end of the file: the figures cover the examples read so far. */
  partial?: { reason: string; fractionRead: number };
}

/* ------------------------------------------------------------------------------------------------ */
/* Text generation: a causal LM continues a prompt; every generated token is explained by the prompt */
/* ------------------------------------------------------------------------------------------------ */

/** How the next token is chosen: the most probable one, or a draw from the (filtered) distribution. */
export type DecodingStrategy = 'greedy' | 'sample';

export interface GenerateParams {
  prompt: string;
  /** Most tokens to generate (default 32). */
  maxNewTokens?: number;
  /** Default 'greedy'; 'sample' draws with temperature, top-k and top-p from a seeded generator. */
  strategy?: DecodingStrategy;
  /** Sampling temperature > 0 (default 1). */
  temperature?: number;
  /** Keep only the k most probable tokens before drawing (0 or absent: all). */
  topK?: number;
  /** Keep the smallest set of most probable tokens whose probabilities add up to at least p, 0 < p ≤ 1 (default 1). */
  topP?: number;
  /** Seed of the sampler (default 0): the same seed gives the same text. */
  seed?: number;
  /** Generation stops once the continuation contains one of these strings (it is kept in the text). */
  stop?: string[];
  /** Feed each step's key/value cache to the next (default true); false recomputes the whole sequence per token. */
  useCache?: boolean;
  /** Wrap the prompt in the tokenizer's chat template as one user message (plain text when it has none). */
  chat?: boolean;
  /** Most likely alternatives recorded for each generated token (default 5). */
  alternatives?: number;
}

/** One generated token. Offsets are UTF-16 positions in the continuation text. */
export interface GeneratedToken {
  id: number;
  /** The token as the vocabulary shows it (a leading space as a visible mark, bytes as <0x..>). */
  label: string;
  start: number;
  end: number;
  /** log p(token | everything before it) under the model's own distribution (before temperature and filters). */
  logprob: number;
  probability: number;
  /** The most probable tokens at this step, most probable first; `logit` holds each one's log-probability (the step's logits shifted by their normaliser, so differences are logit differences). */
  alternatives: Candidate[];
}

export type GenerationStopReason = 'eos' | 'stop-string' | 'max-new-tokens' | 'context-window' | 'cancelled';

export interface GenerationResult {
  kind: 'generation';
  prompt: string;
  /** What the model was fed: the prompt, or the prompt inside the chat template. */
  modelInput: string;
  /** Whether the chat template was applied. */
  chat: boolean;
  /** Prompt tokens with offsets into `prompt` (tokens the template added are special and have empty offsets). */
  promptTokens: TokenView[];
  promptWords: WordView[];
  tokens: GeneratedToken[];
  /** The continuation. */
  text: string;
  stopReason: GenerationStopReason;
  /** The stop string that ended the generation. */
  stopString?: string;
  /** How past keys and values were carried: fed back (`kv`), through a merged decoder's cache branch, or recomputed. */
  cache: 'kv' | 'kv-merged' | 'kv-two-graphs' | 'none';
  contextWindow: number;
  settings: { strategy: DecodingStrategy; temperature: number; topK: number; topP: number; seed: number; maxNewTokens: number; stop: string[] };
  /** Σ log p of the generated tokens. */
  sequenceLogprob: number;
  timing: { promptMs: number; totalMs: number; tokensPerSecond: number };
  notes: string[];
}

/** The `partial` of a generate progress event: one more token. */
export interface GenerationProgress {
  index: number;
  token: GeneratedToken;
  /** The continuation so far. */
  text: string;
}

export interface GenerationExplainParams {
  prompt: string;
  /** The generated token ids to explain (a generate result's tokens). */
  generated: number[];
  chat?: boolean;
  /** occlusion (default), kernel-shap, partition-shap, exact-shapley, lime or occlusion-window. */
  method?: MethodName;
  /** Evaluations per explained token (default per method); tokens share them. */
  budget?: number;
  seed?: number;
  level?: Level;
  /** 'delete' (default) or 'attention'. */
  removal?: RemovalStrategy;
  /** Also explain log p(token at `step`) − log p(`token`): why this token and not that one (default: the runner-up). */
  contrast?: { step: number; token?: string | number };
  /** Attention and logit lens at each generated position (default true). */
  inside?: boolean;
}

/** What produced one generated token, inside the model. */
export interface GenerationPosition {
  step: number;
  /** Token position (in prompt + generated) whose output chose the token. */
  position: number;
  /** Per layer, the heads' mean attention of that position over positions 0..position. */
  attention?: { layer: number; weights: number[] }[];
  /** Per hidden state (0 enters layer 0): its top token through the final norm and head, and the generated token's rank (0 = top) and probability there. */
  lens?: { index: number; top: { id: number; label: string; probability: number }; rank: number; probability: number }[];
}

/** An explained target: one number per prompt feature. */
export interface GenerationTarget {
  values: number[];
  /** f(all prompt features removed). */
  baseValue: number;
  /** f(the whole prompt). */
  outputValue: number;
  convergence: { max: number; kind: string; final: boolean };
}

/** The inseq-style feature-attribution matrix of a generation: prompt features × generated tokens. */
export interface GenerationExplanation {
  kind: 'generation-explanation';
  prompt: string;
  chat: boolean;
  /** Prompt words (or tokens) with offsets into `prompt`. */
  features: { text: string; start: number; end: number; tokenIndices: number[] }[];
  tokens: { id: number; label: string; logprob: number }[];
  /** The explained value of each target. */
  value: 'log-probability';
  /** targets[j]: generated token j's log-probability given the prompt and the tokens before it (teacher forced). */
  targets: GenerationTarget[];
  /** The whole continuation's log-probability (Σ over the tokens). */
  sequence: GenerationTarget;
  contrast?: GenerationTarget & { step: number; tokenId: number; label: string; contrastId: number; contrastLabel: string };
  method: MethodName;
  /** Distinct model rows run (shared by every target), and batches. */
  evaluations: number;
  batches: number;
  positions?: GenerationPosition[];
  positionsNote?: string;
  provenance: Provenance;
  notes: string[];
}

export interface EngineOptions {
  executionProviders?: string[];
  threads?: number;
  maxTokens?: number;
  /** Memory a request may plan to hold (MB); larger requests are refused with the estimate (default: half the machine's memory). */
  memoryLimitMb?: number;
}

/** The engine's methods: request params → result. */
export interface EngineApi {
  open: { params: { modelPath: string; variant?: Variant; options?: EngineOptions }; result: ModelCard };
  /** `textPair`: the second text of a sentence pair, as in ExplainParams. */
  tokenize: { params: { text: string; textPair?: string }; result: EncodedText };
  predict: { params: { text: string; textPair?: string; topK?: number }; result: Prediction };
  attention: { params: { text?: string; textPair?: string; ids?: number[]; hidden?: boolean }; result: AttentionResult };
  explain: { params: ExplainParams; result: ExplanationResult };
  /** Model outputs for variants of one input (tests and benchmarks of the evaluator). */
  evaluate: {
    params: { text: string; keep: Uint8Array[]; removal: RemovalStrategy; output?: 'logits' };
    result: { logits: Float32Array[]; distinctRuns: number; batches: number };
  };
  /** Hidden-state norms and layer updates per token, and a token's most active units. */
  activations: { params: ActivationsParams; result: ActivationsResult };
  /** Each hidden state through the model's own final norm and output head (exact: the graph's own nodes). */
  logitLens: { params: LogitLensParams; result: LogitLensResult };
  /** Attention-head ablation (Hugging Face head-mask semantics): a layers × heads grid, and the cost of pruning a set. */
  headImportance: { params: HeadImportanceParams; result: HeadImportanceResult };
  /** This model against another (fp32 vs int8, teacher vs student) on one text. */
  compareModels: { params: CompareParams; result: CompareResult };
  /** Predictions and explanations under seeded edits of the text. */
  robustness: { params: RobustnessParams; result: RobustnessResult };
  /** A whole file of examples, streamed: accuracy, confusion, influential words, hard examples. */
  datasetRun: { params: DatasetParams; result: DatasetResult };
  /** Continue a prompt (causal LMs), streaming each token as a progress event; a cancel keeps what was generated. */
  generate: { params: GenerateParams; result: GenerationResult };
  /** The prompt-attribution matrix of a generation, with attention and logit lens at each generated position. */
  explainGeneration: { params: GenerationExplainParams; result: GenerationExplanation };
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
  /** The engine's estimate of the whole request's time (ms), said before the work starts and refined as it runs. */
  estimatedMs?: number;
  /** Time since the request started (ms). */
  elapsedMs?: number;
  /** A partial result, when the method has one (explanations: `{ features: FeatureValue[]; final: boolean }`). */
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
