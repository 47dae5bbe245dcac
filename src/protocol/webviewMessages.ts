/**
 * The typed messages between the extension host and the two webviews (explanation panel, sidebar
 * inspector). One discriminated union per direction; requests that need an answer carry an `id`
 * and are answered by one `response` with `inReplyTo`. Large tensors travel as typed arrays
 * (VS Code transfers their buffers without JSON), already reduced to what a view draws.
 *
 * Imports nothing but the engine's API types, so both worlds (host, DOM) can import it.
 */
import type {
  AttentionKind,
  CompareResult,
  DatasetResult,
  EncodedText,
  ExplanationResult,
  FeatureValue,
  GenerationExplanation,
  GenerationProgress,
  GenerationResult,
  HeadImportanceResult,
  Level,
  LogitLensResult,
  MethodName,
  ModelCard,
  Prediction,
  PunctuationMode,
  RemovalStrategy,
  RobustnessResult,
} from './engineApi';

export type PanelTab = 'prediction' | 'attributions' | 'generation' | 'attention' | 'activations' | 'heads' | 'compare' | 'robustness' | 'dataset';
export const PANEL_TABS: readonly PanelTab[] = ['prediction', 'attributions', 'generation', 'attention', 'activations', 'heads', 'compare', 'robustness', 'dataset'];

/** Methods that attribute an output to input words (rollout/flow are attention views). */
export const ATTRIBUTION_METHODS: readonly MethodName[] = ['partition-shap', 'kernel-shap', 'exact-shapley', 'lime', 'occlusion', 'occlusion-window'];

/** What an explanation run uses; chosen in the panel, defaults from the settings. */
export interface RunSettings {
  method: MethodName;
  budget: number;
  level: Level;
  /** Punctuation as features of their own, or left out (absent: as features). */
  punctuation?: PunctuationMode;
  removal: RemovalStrategy | 'auto';
  /** Class label/index or token to explain; empty = the predicted one. */
  target?: string | number;
  /** Explain target − contrast. */
  contrast?: string | number;
  /** Seq2seq: which generated token. */
  outputIndex?: number;
  seed?: number;
}

/** Agreement of two attributions over the same words. */
export interface RankAgreement {
  spearman: number;
  kendall: number;
  topK: { k: number; overlap: number; shared: number[] };
  signAgreement: number;
  features: number;
}

/** A row or column label of an attention matrix. */
export interface UnitLabel {
  label: string;
  start: number;
  end: number;
  special: boolean;
}

/** Thumbnails of every head of one attention kind, for the model view. */
export interface HeadGridThumbnails {
  kind: AttentionKind;
  layers: number[];
  heads: number;
  /** Thumbnail size (rows × cols) of each head. */
  rows: number;
  cols: number;
  /** [layer][head][rows × cols], 0–255, each head scaled to its own maximum. */
  data: Uint8Array;
  /** Per layer × head: the attention value 255 stands for. */
  scales: Float32Array;
}

/** A sentence pair's attention across its two texts, for the "Across the pair" view. */
export interface PairAttentionOverview {
  /** Words (or tokens) of each text, special tokens left out. */
  a: UnitLabel[];
  b: UnitLabel[];
  /** Per layer: per head, the mean share of a token's attention that goes to the other text. */
  layers: { layer: number; aToB: number[]; bToA: number[] }[];
}

/** The block of one head's attention from one text's units to the other's (head −1: mean of the heads). */
export interface SegmentBlockView {
  layer: number;
  head: number;
  from: 0 | 1;
  rows: number;
  cols: number;
  /** [rows × cols], 0–255, scaled to the block's largest value. */
  data: Uint8Array;
  /** The attention value 255 stands for. */
  scale: number;
}

export interface AttentionOverview {
  text: string;
  level: Level;
  /** Sentence pairs: attention across the two texts. */
  pair?: PairAttentionOverview;
  grids: HeadGridThumbnails[];
  /** Row/column labels per kind, at the overview's level. */
  units: { kind: AttentionKind; rows: UnitLabel[]; cols: UnitLabel[] }[];
  note?: string;
  truncation?: EncodedText['truncation'];
}

/** Full matrices of some heads of one layer (head −1 = mean over heads). */
export interface AttentionMatrixView {
  kind: AttentionKind;
  layer: number;
  heads: number[];
  rows: number;
  cols: number;
  /** [heads.length][rows × cols], 0–255. */
  data: Uint8Array;
  scales: number[];
}

export interface ActivationView {
  stack: 'encoder' | 'decoder';
  tokens: { text: string; special: boolean }[];
  layers: number[];
  /** [token][layer] L2 norms of the hidden state. */
  norms: Float32Array;
  /**
   * [token][layer − 1] size of each layer's update to the residual stream, ‖h_{i+1} − h_i‖: column i
   * is the update that turns hidden state layers[i] into layers[i + 1].
   */
  updates: Float32Array;
  hiddenSize: number;
}

/** The result of a head-importance run and, when asked, of pruning a set of heads. */
export interface HeadsView {
  result: HeadImportanceResult;
  /** The text the importance was measured on. */
  text: string;
}

/** A generation and its prompt-attribution matrix, as the Generation tab shows them. */
export interface GenerationView {
  result: GenerationResult;
  explanation?: GenerationExplanation;
  /** The generated token whose attributions colour the prompt; −1 = the whole continuation. */
  step: number;
}

/** A model comparison and what the second model was. */
export interface CompareView {
  result: CompareResult;
  text: string;
  /** How the other model was chosen, for the heading ("the quantized variant", a folder name). */
  otherLabel: string;
}

/** A dataset run and the file it read (workspace URI, so examples can be opened). */
export interface DatasetView {
  result: DatasetResult;
  uri: string;
  textColumn?: string | number;
  labelColumn?: string | number;
}

export interface NeuronValue {
  neuron: number;
  value: number;
  z: number;
}

/** What a webview has drawn, for tests and for the host to check a view is alive. */
export interface DrawnSummary {
  view: 'panel' | 'sidebar';
  tab?: PanelTab;
  /** Heatmap cells, bars or coloured words drawn on the visible tab. */
  cells: number;
  /** Text labels shown on the visible tab (words, classes, layer names), in order. */
  labels: string[];
  /** Named counts: e.g. { words: 7, bars: 7, heads: 144 }. */
  counts: Record<string, number>;
  error?: string;
  /** Width of the view in CSS pixels. */
  viewWidth?: number;
  /** The panel's tabs: whether each is selected and lies within the view's width (reachable without scrolling sideways). */
  tabs?: { name: string; selected: boolean; visible: boolean }[];
  /** Titles of the colour scale legends on the visible tab (one per heatmap or colour-coded chart). */
  legends?: string[];
  /** Value axes of the charts on the visible tab: their titles and tick labels. */
  axes?: { title: string; ticks: string[] }[];
  /** The text a reader sees in the view: the visible tab's text (the panel) or the whole view's (the sidebar). */
  text?: string;
  /** Controls on the visible tab (buttons, selects, inputs, canvases with a role) without an accessible name. */
  unnamedControls?: string[];
  /**
   * Elements the view did not create itself: scripts beyond its own, images, iframes, objects and any
   * element with an inline event handler. Text from models and documents must never become markup.
   */
  foreignMarkup?: string[];
}

export interface RecentExplanation {
  id: string;
  snippet: string;
  method: MethodName;
  /** What the values are, in words: "Owen values", "Shapley values", "LIME weights", … */
  values: string;
  target: string;
  createdAt: string;
}

export type EngineStatus =
  | { state: 'stopped' | 'starting' | 'ready' }
  | { state: 'busy'; label?: string; done?: number; total?: number }
  | { state: 'error' | 'crashed'; message: string };

/** Live mode, as the sidebar and the status bar show it. */
export interface LiveStatus {
  on: boolean;
  /** What it follows: the selection it was switched on with, or the line being edited. */
  region?: 'line' | 'selection';
  /** The latest prediction it painted. */
  last?: { text: string; label: string; probability: number; stage: 'first' | 'refined' };
  /** The latest error (shown instead of a notification per pause in typing). */
  error?: string;
}

export interface SidebarState {
  model?: ModelCard;
  /** A model is chosen but not opened yet (the engine starts on first use). */
  pendingModelPath?: string;
  engine: EngineStatus;
  settings: RunSettings;
  recent: RecentExplanation[];
  /** The last error of opening or running a model, shown until the next success. */
  lastError?: string;
  workspaceTrusted: boolean;
  /** The open model predicts next tokens, so the logit lens applies. */
  decoder?: boolean;
  /** One line per inside-the-model analysis run so far (latest of each), e.g. robustness flip rate. */
  inside?: InsideSummaryLine[];
  /** Live mode: on or off, and what it last showed. */
  live?: LiveStatus;
}

/** A short summary of the latest result of one analysis, shown in the sidebar; click reopens its tab. */
export interface InsideSummaryLine {
  tab: PanelTab;
  title: string;
  detail: string;
}

/** Quick actions the sidebar may ask for; the host maps them to its commands. */
export type SidebarAction =
  | 'openModel'
  | 'useDemoModel'
  | 'explainSelection'
  | 'showAttention'
  | 'showActivations'
  | 'compareMethods'
  | 'showHeadImportance'
  | 'compareModels'
  | 'testRobustness'
  | 'runDataset'
  | 'showLogitLens'
  | 'exportExplanation'
  | 'downloadModel'
  | 'manageCachedModels'
  | 'showPanel'
  | 'showLog'
  | 'clearHighlights'
  | 'toggleLiveMode';

// ---------------------------------------------------------------------------------------------
// Request/response, the same in both directions.

/** A request/response contract: method → params and result. */
export type RpcContract<C> = { [M in keyof C]: { params: unknown; result: unknown } };

export type RpcRequest<C extends RpcContract<C>> = {
  [M in keyof C & string]: { type: 'request'; id: number; method: M; params: C[M]['params'] };
}[keyof C & string];

export type RpcResponse =
  | { type: 'response'; inReplyTo: number; ok: true; result: unknown }
  | { type: 'response'; inReplyTo: number; ok: false; error: string };

/** Requests the host sends to a webview. */
export interface WebviewRequests {
  describe: { params: Record<string, never>; result: DrawnSummary };
  /** The picture on the visible tab: PNG as a data: URL, or SVG text built from the same data. */
  snapshot: { params: { format: 'png' | 'svg' }; result: { name: string; data: string } | undefined };
}

/** Requests the panel sends to the host. */
export interface HostRequests {
  attentionMatrix: { params: { kind: AttentionKind; layer: number; heads: number[]; level: Level }; result: AttentionMatrixView };
  topNeurons: { params: { stack: 'encoder' | 'decoder'; layer: number; token: number }; result: NeuronValue[] };
  /** A sentence pair: one head's block of attention from one text to the other. */
  segmentBlock: { params: { layer: number; head: number; from: 0 | 1; level: Level }; result: SegmentBlockView };
}

// ---------------------------------------------------------------------------------------------
// Explanation panel.

export type HostToPanel =
  | { type: 'model'; card?: ModelCard }
  | { type: 'settings'; settings: RunSettings; methods: readonly MethodName[] }
  | { type: 'prediction'; prediction: Prediction }
  | { type: 'explanation'; primary: ExplanationResult; secondary?: ExplanationResult; agreement?: RankAgreement }
  | { type: 'progress'; label: string; done: number; total: number; partial?: FeatureValue[] }
  | { type: 'busy'; label?: string }
  | { type: 'attention'; overview: AttentionOverview }
  | { type: 'rollout'; result: ExplanationResult }
  | { type: 'activations'; views: ActivationView[] }
  | { type: 'logitLens'; result: LogitLensResult }
  | { type: 'heads'; view: HeadsView }
  /** The cost of pruning the selected heads (the same result type, with `prune` set). */
  | { type: 'prune'; result: HeadImportanceResult }
  | { type: 'compareModels'; view: CompareView }
  | { type: 'robustness'; result: RobustnessResult }
  | { type: 'dataset'; view: DatasetView }
  /** A generation starts: the prompt, then one `generationToken` per token as it comes. */
  | { type: 'generationStart'; prompt: string }
  | { type: 'generationToken'; progress: GenerationProgress }
  | { type: 'generation'; view: GenerationView }
  | { type: 'generationStep'; step: number }
  | { type: 'showTab'; tab: PanelTab; focus?: { start: number; end: number } }
  | { type: 'error'; message: string }
  | RpcRequest<WebviewRequests>
  | RpcResponse;

export type PanelToHost =
  | { type: 'ready' }
  | { type: 'runExplain'; settings: RunSettings }
  | { type: 'runCompare'; settings: RunSettings; methods: [MethodName, MethodName] }
  | { type: 'loadAttention'; level: Level }
  | { type: 'loadRollout'; method: 'rollout' | 'flow'; layer?: number }
  | { type: 'loadActivations' }
  | { type: 'cancel' }
  | { type: 'exportData'; format: 'json' | 'html' }
  | { type: 'saveImage'; format: 'png' | 'svg'; name: string; data: string }
  /** `segment` 1: the offsets are into the second text of a sentence pair. */
  | { type: 'revealText'; start: number; end: number; segment?: 0 | 1 }
  | { type: 'tabChanged'; tab: PanelTab }
  | { type: 'loadLogitLens' }
  | { type: 'loadHeads' }
  /** Heads as [layer, head] pairs. */
  | { type: 'runPrune'; heads: [number, number][] }
  /** Starts Compare Models… (the host asks which model). */
  | { type: 'runCompareModels' }
  | { type: 'runRobustness' }
  /** Starts Run on Dataset… (the host asks for the file and columns). */
  | { type: 'runDataset' }
  /** Opens an example of the dataset at its line and explains it. */
  | { type: 'openExample'; line: number; text: string }
  | { type: 'exportDataset'; format: 'json' | 'csv' }
  /** Colour the prompt by one generated token's attributions (−1: the whole continuation). */
  | { type: 'selectGenerationStep'; step: number }
  /** Explain the generation shown (again, with the current settings). */
  | { type: 'explainGeneration' }
  /** Insert the continuation after the prompt in its document. */
  | { type: 'insertGeneration' }
  | RpcRequest<HostRequests>
  | RpcResponse;

// ---------------------------------------------------------------------------------------------
// Sidebar inspector.

export type HostToSidebar = { type: 'state'; state: SidebarState } | RpcRequest<WebviewRequests> | RpcResponse;

export type SidebarToHost =
  | { type: 'ready' }
  | { type: 'action'; action: SidebarAction }
  | { type: 'reopen'; id: string }
  | { type: 'showTab'; tab: PanelTab }
  | { type: 'setting'; key: 'method' | 'budget' | 'level' | 'removal' | 'modelVariant'; value: string | number }
  | RpcResponse;

// ---------------------------------------------------------------------------------------------
// Validation at the boundary: a webview is another origin; what it sends is checked before use.

const PANEL_TYPES = new Set<PanelToHost['type']>([
  'ready', 'runExplain', 'runCompare', 'loadAttention', 'loadRollout', 'loadActivations', 'cancel', 'exportData', 'saveImage', 'revealText', 'tabChanged', 'request', 'response',
  'loadLogitLens', 'loadHeads', 'runPrune', 'runCompareModels', 'runRobustness', 'runDataset', 'openExample', 'exportDataset',
  'selectGenerationStep', 'explainGeneration', 'insertGeneration',
]);

/** Keeps the well-formed [layer, head] pairs of a webview message (at most `max`). */
export function validHeadPairs(value: unknown, max = 4096): [number, number][] {
  if (!Array.isArray(value)) return [];
  const out: [number, number][] = [];
  for (const p of value) {
    if (out.length >= max) break;
    if (Array.isArray(p) && p.length === 2 && Number.isInteger(p[0]) && Number.isInteger(p[1]) && p[0] >= 0 && p[1] >= 0) out.push([p[0], p[1]]);
  }
  return out;
}
const SIDEBAR_TYPES = new Set<SidebarToHost['type']>(['ready', 'action', 'reopen', 'showTab', 'setting', 'response']);

function hasType(m: unknown): m is { type: string } {
  return typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string';
}

/** True for a message the panel may send (shape of the envelope only; fields are checked where used). */
export function isPanelMessage(m: unknown): m is PanelToHost {
  return hasType(m) && PANEL_TYPES.has(m.type as PanelToHost['type']);
}

export function isSidebarMessage(m: unknown): m is SidebarToHost {
  return hasType(m) && SIDEBAR_TYPES.has(m.type as SidebarToHost['type']);
}
