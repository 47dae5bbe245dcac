/**
 * Every id the extension contributes, as typed constants: a typo in a command, view, setting or
 * context key does not compile. package.json must list the same strings (checked by a unit test).
 */

export const EXTENSION_ID = 'onnx-lens.onnx-lens';

export const Commands = {
  openModel: 'onnxLens.openModel',
  useDemoModel: 'onnxLens.useDemoModel',
  explainSelection: 'onnxLens.explainSelection',
  showAttention: 'onnxLens.showAttention',
  showActivations: 'onnxLens.showActivations',
  highlightAttributions: 'onnxLens.highlightAttributions',
  clearHighlights: 'onnxLens.clearHighlights',
  compareMethods: 'onnxLens.compareMethods',
  exportExplanation: 'onnxLens.exportExplanation',
  downloadModel: 'onnxLens.downloadModel',
  manageCachedModels: 'onnxLens.manageCachedModels',
  showPanel: 'onnxLens.showPanel',
  reopenExplanation: 'onnxLens.reopenExplanation',
  showLog: 'onnxLens.showLog',
  showHeadImportance: 'onnxLens.showHeadImportance',
  compareModels: 'onnxLens.compareModels',
  testRobustness: 'onnxLens.testRobustness',
  runDataset: 'onnxLens.runDataset',
  showLogitLens: 'onnxLens.showLogitLens',
  generateAndExplain: 'onnxLens.generateAndExplain',
  toggleLiveMode: 'onnxLens.toggleLiveMode',
  explainSentencePair: 'onnxLens.explainSentencePair',
} as const;
export type CommandId = (typeof Commands)[keyof typeof Commands];

export const Views = {
  container: 'onnxLens',
  inspector: 'onnxLens.inspector',
  panel: 'onnxLens.explanationPanel',
} as const;

/** Setting keys below the `onnxLens` section. */
export const Settings = {
  section: 'onnxLens',
  modelPath: 'modelPath',
  modelVariant: 'modelVariant',
  method: 'method',
  budget: 'budget',
  level: 'level',
  punctuation: 'punctuation',
  removal: 'removal',
  executionProviders: 'executionProviders',
  threads: 'threads',
  maxTokens: 'maxTokens',
  memoryLimitMb: 'memoryLimitMb',
  hubEndpoint: 'hub.endpoint',
  requestTimeoutSeconds: 'requestTimeoutSeconds',
  generationMaxNewTokens: 'generation.maxNewTokens',
  generationMethod: 'generation.method',
  generationGhostText: 'generation.ghostText',
  generationChat: 'generation.chat',
  liveDebounceMs: 'live.debounceMs',
  pairSeparator: 'pairSeparator',
} as const;
export type SettingKey = Exclude<(typeof Settings)[keyof typeof Settings], 'onnxLens'>;

export const ContextKeys = {
  modelLoaded: 'onnxLens.modelLoaded',
  hasExplanation: 'onnxLens.hasExplanation',
  hasHighlights: 'onnxLens.hasHighlights',
  /** The open model predicts next tokens (the logit lens applies). */
  modelIsDecoder: 'onnxLens.modelIsDecoder',
  /** Live mode is on: explanations follow the text as it is typed. */
  liveMode: 'onnxLens.liveMode',
} as const;

/** Theme colours contributed for attribution highlights: buckets 1 (weak) … 5 (strong). */
export const ATTRIBUTION_BUCKETS = 5;
export function attributionColorId(sign: 'positive' | 'negative', bucket: number): string {
  return `onnxLens.attribution.${sign}${bucket}`;
}

export const OUTPUT_CHANNEL_NAME = 'ONNX Lens';
