import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GraphIndex } from './graphIndex';
import { analyzeGraph, GraphAnalysis, scoresMatMul } from './graphSurgery';
import { ModelError } from './modelError';
import { FindModelOptions, findModelFiles, GraphRole, loadGraphFile, LoadedGraph, ModelFiles, readModelConfig } from './modelFolder';
import { DataType, dataTypeName, OnnxValueInfo, opsetVersion } from './onnxProto';

/** Where a card field's value came from. */
export type FieldSource = 'config' | 'graph';

/** A value with its source. */
export interface CardField<T> {
  value: T;
  source: FieldSource;
}

export type ModelFamily = 'bert' | 'roberta' | 'distilbert' | 'gpt2' | 'llama' | 't5' | 'unknown';
export type ModelTask = 'sequence-classification' | 'masked-lm' | 'causal-lm' | 'seq2seq' | 'feature-extraction' | 'unknown';

/** One graph file of the model. */
export interface CardFile {
  role: GraphRole;
  path: string;
  bytes: number;
  sha256: string;
}

/** What a model is, read from its graph and config.json. */
export interface ModelCard {
  folder: string;
  variant: string;
  files: CardFile[];
  family: CardField<ModelFamily>;
  task: CardField<ModelTask>;
  /** Class labels, for sequence classification. */
  labels?: CardField<string[]>;
  /** Layers of the encoder (or of the only stack). */
  layers: CardField<number>;
  /** Layers of the decoder of an encoder-decoder model. */
  decoderLayers?: CardField<number>;
  heads: CardField<number>;
  hiddenSize: CardField<number>;
  vocabSize: CardField<number>;
  maxPositions?: CardField<number>;
  opset: number;
  /** Elements of all initializers of all graph files (shared weights counted per file). */
  parameters: number;
  quantized: boolean;
  /**
   * Activations are quantized at run time with one scale per tensor (`DynamicQuantizeLinear`,
   * `DynamicQuantizeMatMul`): that scale spans every row of a batch, so a row's outputs depend on the rows
   * run beside it.
   */
  dynamicQuantization: boolean;
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  attention: { status: 'exposed' | 'recomputed' | 'hidden' | 'none'; count: number; notes: string[] };
  /** Disagreements between config.json and the graph, and other things the user should know. */
  warnings: string[];
}

const QUANT_OPS = new Set(['DynamicQuantizeLinear', 'MatMulInteger', 'DequantizeLinear', 'QuantizeLinear', 'DynamicQuantizeMatMul',
  'MatMulIntegerToFloat', 'MatMulNBits', 'ConvInteger']);
const DYNAMIC_QUANT_OPS = new Set(['DynamicQuantizeLinear', 'DynamicQuantizeMatMul']);
const TEXT_INPUTS = /^(input_ids|attention_mask|token_type_ids|position_ids|decoder_input_ids|decoder_attention_mask|encoder_attention_mask|encoder_hidden_states|encoder_outputs|use_cache_branch|past_key_values\..*|past\..*|cache_position|head_mask)$/;
const NON_TEXT_INPUTS = /pixel|image|input_features|input_values|audio|spectrogram|bbox|visual|speech/i;

/** Streams a file through SHA-256. */
export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    fs.createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

interface GraphFacts {
  analysis: GraphAnalysis;
  ix: GraphIndex;
  vocab?: number;
  hidden?: number;
  maxPositions?: number;
  heads?: number;
}

/** Follows value-preserving ops back to a graph input name. */
function tracesToInput(ix: GraphIndex, t: string, name: string): boolean {
  let cur = t;
  for (let i = 0; i < 6; i++) {
    if (cur === name) return true;
    const p = ix.producerOf(cur);
    if (!p || !['Cast', 'Identity', 'Unsqueeze', 'Reshape', 'Squeeze', 'Flatten'].includes(p.opType)) return false;
    cur = p.inputs[0];
  }
  return false;
}

function graphFacts(g: LoadedGraph): GraphFacts {
  const ix = new GraphIndex(g.model.graph);
  const analysis = analyzeGraph(g.model);
  const facts: GraphFacts = { analysis, ix };
  const tables: { rows: number; cols: number; byIds: boolean }[] = [];
  for (const n of ix.nodes) {
    if (n.opType !== 'Gather') continue;
    const dims = ix.constantDims(n.inputs[0]);
    if (!dims || dims.length !== 2) continue;
    tables.push({ rows: dims[0], cols: dims[1], byIds: tracesToInput(ix, n.inputs[1], 'input_ids') });
  }
  const word = tables.find((t) => t.byIds);
  if (word) {
    facts.vocab = word.rows;
    facts.hidden = word.cols;
    const pos = tables.filter((t) => !t.byIds && t.cols === word.cols && t.rows > 2 && t.rows !== word.rows);
    if (pos.length) facts.maxPositions = Math.max(...pos.map((t) => t.rows));
  }
  facts.heads = headCount(g, ix, analysis);
  return facts;
}

/** Heads from the Reshape [.., heads, head_size] on the query path, or from a fused operator's num_heads. */
function headCount(g: LoadedGraph, ix: GraphIndex, analysis: GraphAnalysis): number | undefined {
  for (const site of analysis.attentions) {
    if (site.softmaxNode === undefined) continue;
    const mm = scoresMatMul(ix, ix.nodes[site.softmaxNode]);
    if (!mm) continue;
    let t = mm.inputs[0];
    for (let i = 0; i < 8; i++) {
      const p = ix.producerOf(t);
      if (!p) break;
      if (p.opType === 'Reshape') {
        const values = ix.constantValues(p.inputs[1]);
        if (values && values.length === 4) return values[2];
        const concat = ix.producerOf(p.inputs[1]);
        if (concat?.opType === 'Concat' && concat.inputs.length === 4) {
          const h = ix.constantValues(concat.inputs[2]);
          if (h?.length === 1 && h[0] > 0) return h[0];
        }
        break;
      }
      if (!['Transpose', 'Mul', 'Div', 'Cast', 'Identity'].includes(p.opType)) break;
      t = ix.dataInputs(p)[0] ?? p.inputs[0];
    }
  }
  for (const n of g.model.graph.nodes) {
    const h = n.attributes.find((a) => a.name === 'num_heads')?.i;
    if (h && n.domain === 'com.microsoft') return h;
  }
  return undefined;
}

/** Element types ONNX Lens can feed to each input it fills. */
const FEEDABLE_TYPES: Record<string, number[]> = {
  // float32 holds every id below 2^24 exactly, more than any vocabulary; some exports cast ids inside.
  input_ids: [DataType.INT64, DataType.INT32, DataType.FLOAT],
  decoder_input_ids: [DataType.INT64, DataType.INT32, DataType.FLOAT],
  token_type_ids: [DataType.INT64, DataType.INT32],
  position_ids: [DataType.INT64, DataType.INT32],
  attention_mask: [DataType.INT64, DataType.INT32, DataType.FLOAT, DataType.BOOL, DataType.UINT8],
  encoder_attention_mask: [DataType.INT64, DataType.INT32, DataType.FLOAT, DataType.BOOL, DataType.UINT8],
};

/** Element types ONNX Lens can read the scores from. */
const READABLE_LOGITS: number[] = [DataType.FLOAT, DataType.FLOAT16, DataType.DOUBLE];

/**
 * Refuses graphs that declare a text input with a type ONNX Lens cannot feed (token ids as floats or
 * strings, say), or logits of a type it cannot read, before any run fails on them.
 * @throws ModelError 'unsupported-inputs' or 'unsupported-graph'.
 */
function checkTypes(loaded: Map<GraphRole, LoadedGraph>): void {
  for (const g of loaded.values()) {
    const logits = g.model.graph.outputs.find((o) => o.name === 'logits');
    if (logits?.elemType !== undefined && !READABLE_LOGITS.includes(logits.elemType)) {
      throw new ModelError(
        'unsupported-graph',
        `${g.file} declares its output logits as ${dataTypeName(logits.elemType)}; ONNX Lens reads scores as ${READABLE_LOGITS.map(dataTypeName).join(', ')}. Re-export the model without casting its logits.`,
      );
    }
    for (const input of g.model.graph.inputs) {
      const allowed = FEEDABLE_TYPES[input.name];
      if (!allowed || input.elemType === undefined || allowed.includes(input.elemType)) continue;
            throw new ModelError(
        'unsupported-inputs',
        `${g.file} declares its input ${input.name} as ${dataTypeName(input.elemType)}; ONNX Lens feeds it as ${allowed.map(dataTypeName).join(' or ')}. Re-export the model with the usual integer token inputs.`,
      );
    }
  }
}

function configNumber(config: Record<string, unknown> | undefined, keys: string[]): number | undefined {
  for (const k of keys) {
    const v = config?.[k];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
  }
  return undefined;
}

/** Picks config's value when it agrees with the graph; the graph's when config lacks it or disagrees (with a warning). */
function resolve(name: string, fromConfig: number | undefined, fromGraph: number | undefined, warnings: string[]): CardField<number> | undefined {
  if (fromGraph !== undefined && fromConfig !== undefined && fromGraph !== fromConfig) {
    warnings.push(`config.json says ${name} is ${fromConfig}, but the graph has ${fromGraph}; using ${fromGraph}.`);
    return { value: fromGraph, source: 'graph' };
  }
  if (fromConfig !== undefined) return { value: fromConfig, source: 'config' };
  if (fromGraph !== undefined) return { value: fromGraph, source: 'graph' };
  return undefined;
}

function familyFromConfig(config: Record<string, unknown> | undefined): ModelFamily | undefined {
  const t = typeof config?.model_type === 'string' ? config.model_type.toLowerCase() : undefined;
  if (!t) return undefined;
  if (['bert', 'roberta', 'distilbert', 'gpt2', 'llama', 't5'].includes(t)) return t as ModelFamily;
  if (['mistral', 'qwen2', 'phi3', 'gemma'].includes(t)) return 'llama';
  if (['xlm-roberta', 'camembert'].includes(t)) return 'roberta';
  if (t === 'mt5') return 't5';
  return undefined;
}

function taskFromConfig(config: Record<string, unknown> | undefined): ModelTask | undefined {
  const arch = Array.isArray(config?.architectures) ? String(config?.architectures[0] ?? '') : '';
  if (!arch) return undefined;
  if (/ForSequenceClassification$/.test(arch)) return 'sequence-classification';
  if (/ForMaskedLM$/.test(arch)) return 'masked-lm';
  if (/(LMHeadModel|ForCausalLM)$/.test(arch)) return 'causal-lm';
  if (/ForConditionalGeneration$/.test(arch)) return 'seq2seq';
  if (/Model$/.test(arch)) return 'feature-extraction';
  return undefined;
}

/**
 * Inspects a model folder or file: family, task, sizes, opset, parameters, files and hashes, quantization
 * and what attention the engine can show. Each size comes from config.json when it agrees with the graph,
 * otherwise from the graph, with the disagreement in `warnings`.
 * @throws ModelError 'not-a-transformer' for graphs without token ids;
 *   'unsupported-inputs' for models with image/audio inputs; errors of findModelFiles and loadGraphFile.
 */
export async function inspectModel(target: string | ModelFiles, options: FindModelOptions = {}): Promise<ModelCard> {
  const files = typeof target === 'string' ? findModelFiles(target, options) : target;
  const roles = (['model', 'encoder', 'decoder', 'decoderMerged', 'decoderWithPast'] as GraphRole[]).filter((r) => files.graphs[r]);
  // The main graphs: the model, or the encoder and the plain decoder (merged/with-past only when no plain one).
  const primary = roles.filter((r) => r === 'model' || r === 'encoder' || r === 'decoder' || (r === 'decoderMerged' && !files.graphs.decoder));
  const loaded = new Map<GraphRole, LoadedGraph>();
  for (const r of primary) loaded.set(r, loadGraphFile(files.graphs[r] as string, files.folder));
  const first = loaded.values().next().value as LoadedGraph;
  const warnings: string[] = [];

  const allInputs = [...loaded.values()].flatMap((g) => g.model.graph.inputs);
  const nonText = allInputs.filter((i) => NON_TEXT_INPUTS.test(i.name));
  if (nonText.length) {
    throw new ModelError('unsupported-inputs', `This model takes non-text inputs (${nonText.map((i) => i.name).join(', ')}); ONNX Lens explains text models driven by token ids only.`);
  }
  const facts = new Map<GraphRole, GraphFacts>();
  for (const [r, g] of loaded) facts.set(r, graphFacts(g));
  const hasIds = allInputs.some((i) => i.name === 'input_ids');
  const totalAttention = [...facts.values()].reduce((a, f) => a + f.analysis.attentions.length, 0);
  const fusedNotes = [...facts.values()].flatMap((f) => f.analysis.notes.filter((n) => n.includes('fused')));
  // A text model without attention (a bag-of-words baseline, say) can still be explained by perturbation;
  // only a graph that takes no token ids cannot be driven by a text selection at all.
  if (hasIds && totalAttention === 0 && fusedNotes.length === 0) {
    warnings.push('This model has no attention Softmax: attention views, rollout and flow are unavailable; perturbation explanations work.');
  }
  if (!hasIds) {
    const names = first.model.graph.inputs.map((i) => `${i.name}${i.shape ? ` [${i.shape.map((d) => d ?? '?').join(', ')}]` : ''}`).join(', ');
    throw new ModelError('not-a-transformer', `${first.file} is not a transformer text model: ${hasIds ? 'it has no attention Softmax over keys' : 'it has no input_ids input'} (its inputs: ${names || 'none'}).`);
  }
  checkTypes(loaded);
  const unknownInputs = allInputs.filter((i) => !TEXT_INPUTS.test(i.name));
  if (unknownInputs.length) warnings.push(`Inputs ONNX Lens does not know how to fill: ${unknownInputs.map((i) => i.name).join(', ')}.`);

  const { config, problem: configProblem } = readModelConfig(files);
  if (configProblem) warnings.push(configProblem);
  const encoderFacts = facts.get('encoder') ?? facts.get('model') ?? (facts.get('decoder') ?? facts.get('decoderMerged'));
  const decoderFacts = facts.get('encoder') ? facts.get('decoder') ?? facts.get('decoderMerged') : undefined;
  const mainFacts = encoderFacts as GraphFacts;
  const seq2seq = !!facts.get('encoder') && !!decoderFacts;

  // Graph-side family and task.
  const ix = mainFacts.ix;
  const ops = new Set(ix.nodes.map((n) => n.opType));
  const selfSites = mainFacts.analysis.attentions.filter((a) => a.kind === 'self' || a.kind === 'decoder');
  const causal = mainFacts.analysis.causal || roles.includes('decoderMerged') && !seq2seq;
  const rmsNorm = !ops.has('LayerNormalization') && !ix.nodes.some((n) => n.opType === 'Sub' && n.inputs.some((x) => ix.producerOf(x)?.opType === 'ReduceMean'));
  let graphFamily: ModelFamily = 'unknown';
  if (seq2seq) graphFamily = rmsNorm ? 't5' : 'unknown';
  else if (causal) graphFamily = rmsNorm || ops.has('Sin') || ops.has('Cos') ? 'llama' : ops.has('Gemm') ? 'gpt2' : 'unknown';
  else {
    const whereMask = selfSites.some((s) => s.softmaxNode !== undefined && ix.producerOf(ix.nodes[s.softmaxNode].inputs[0])?.opType === 'Where');
    if (ops.has('CumSum')) graphFamily = 'roberta';
    else if (whereMask && !allInputs.some((i) => i.name === 'token_type_ids')) graphFamily = 'distilbert';
    else graphFamily = 'bert';
  }
  const logits = [...loaded.values()].map((g) => g.model.graph.outputs.find((o) => o.name === 'logits')).find((o) => o);
  const vocabGraph = (decoderFacts ?? mainFacts).vocab ?? mainFacts.vocab;
  let graphTask: ModelTask = 'unknown';
  let graphLabels: number | undefined;
  if (seq2seq) graphTask = 'seq2seq';
  else if (logits?.shape?.length === 2) {
    graphTask = 'sequence-classification';
    const d = logits.shape[1];
    graphLabels = typeof d === 'number' ? d : undefined;
  } else if (logits?.shape?.length === 3) graphTask = causal ? 'causal-lm' : 'masked-lm';
  else if (first.model.graph.outputs.some((o) => o.name === 'last_hidden_state')) graphTask = 'feature-extraction';

  const configFamily = familyFromConfig(config);
  // The graph is what runs: where it clearly says otherwise, it wins (a RoBERTa export without CumSum
  // position ids looks like BERT, so that pair is no disagreement).
  let family: CardField<ModelFamily> = configFamily ? { value: configFamily, source: 'config' } : { value: graphFamily, source: 'graph' };
  if (configFamily && graphFamily !== 'unknown' && configFamily !== graphFamily && !(configFamily === 'roberta' && graphFamily === 'bert')) {
    warnings.push(`config.json says the model is ${configFamily}, but its graph is ${graphFamily}; using ${graphFamily}.`);
    family = { value: graphFamily, source: 'graph' };
  }
  const configTask = taskFromConfig(config);
  let task: CardField<ModelTask>;
  if (configTask && (graphTask === 'unknown' || configTask === graphTask)) task = { value: configTask, source: 'config' };
  else {
    if (configTask) warnings.push(`config.json says the task is ${configTask}, but the graph's outputs fit ${graphTask}; using ${graphTask}.`);
    task = { value: graphTask, source: 'graph' };
  }

  const layers = resolve('the layer count', configNumber(config, ['num_hidden_layers', 'n_layer', 'num_layers', 'n_layers']),
    mainFacts.analysis.attentions.filter((a) => a.kind === 'self').length || undefined, warnings) ?? { value: 0, source: 'graph' as const };
  const decoderLayers = decoderFacts
    ? resolve('the decoder layer count', configNumber(config, ['num_decoder_layers', 'num_layers']),
        decoderFacts.analysis.attentions.filter((a) => a.kind === 'decoder' || a.kind === 'self').length || undefined, warnings)
    : undefined;
  const heads = resolve('the head count', configNumber(config, ['num_attention_heads', 'n_head', 'num_heads', 'n_heads']), mainFacts.heads, warnings) ?? { value: 0, source: 'graph' as const };
  const hiddenSize = resolve('the hidden size', configNumber(config, ['hidden_size', 'n_embd', 'd_model', 'dim']), mainFacts.hidden, warnings) ?? { value: 0, source: 'graph' as const };
  const vocabSize = resolve('the vocabulary size', configNumber(config, ['vocab_size']), vocabGraph, warnings) ?? { value: 0, source: 'graph' as const };
  const maxPositions = resolve('the maximum positions', configNumber(config, ['max_position_embeddings', 'n_positions']), mainFacts.maxPositions, warnings);

  let labels: CardField<string[]> | undefined;
  if (task.value === 'sequence-classification') {
    const id2label = config?.id2label as Record<string, string> | undefined;
    const fromConfig = id2label ? Object.keys(id2label).sort((a, b) => Number(a) - Number(b)).map((k) => String(id2label[k])) : undefined;
    if (fromConfig && (graphLabels === undefined || graphLabels === fromConfig.length)) labels = { value: fromConfig, source: 'config' };
    else if (graphLabels !== undefined) {
      if (fromConfig) warnings.push(`config.json lists ${fromConfig.length} labels, but the model outputs ${graphLabels} scores; labels are numbered instead.`);
      labels = { value: Array.from({ length: graphLabels }, (_, i) => `LABEL_${i}`), source: 'graph' };
    }
  }

  const cardFiles: CardFile[] = [];
  for (const r of roles) {
    const p = files.graphs[r] as string;
    cardFiles.push({ role: r, path: p, bytes: fs.statSync(p).size, sha256: await sha256File(p) });
  }
  const parameters = [...loaded.values()].reduce((a, g) => a + g.model.graph.initializers.reduce((b, t) => b + t.elementCount, 0), 0);
  const quantized = [...loaded.values()].some((g) => g.model.graph.nodes.some((n) => QUANT_OPS.has(n.opType) || n.opType.startsWith('QLinear')));
  const dynamicQuantization = [...loaded.values()].some((g) => g.model.graph.nodes.some((n) => DYNAMIC_QUANT_OPS.has(n.opType)));
  const attentions = [...facts.values()].flatMap((f) => f.analysis.attentions);
  const attentionNotes = [...new Set([...facts.values()].flatMap((f) => f.analysis.notes))];
  const status = fusedNotes.some((n) => n.includes('hides')) ? 'hidden' : attentions.some((a) => a.recomputed) ? 'recomputed' : attentions.length ? 'exposed' : 'none';
  const outputs = [...loaded.values()].flatMap((g) => g.model.graph.outputs);
  return {
    folder: files.folder,
    variant: files.variant,
    files: cardFiles,
    family,
    task,
    labels,
    layers,
    decoderLayers,
    heads,
    hiddenSize,
    vocabSize,
    maxPositions,
    opset: Math.max(...[...loaded.values()].map((g) => opsetVersion(g.model))),
    parameters,
    quantized,
    dynamicQuantization,
    inputs: [...new Map(allInputs.map((i) => [i.name, i])).values()],
    outputs: [...new Map(outputs.map((o) => [o.name, o])).values()],
    attention: { status, count: attentions.length, notes: attentionNotes },
    warnings,
  };
}

/**
 * Refuses a tokenizer whose ids would overflow the model's embedding table.
 * @throws ModelError 'vocabulary-mismatch' when the tokenizer has more tokens than the model's vocabulary.
 */
export function checkTokenizerFits(card: Pick<ModelCard, 'vocabSize' | 'folder'>, tokenizerVocabSize: number): void {
  if (card.vocabSize.value > 0 && tokenizerVocabSize > card.vocabSize.value) {
    throw new ModelError(
      'vocabulary-mismatch',
      `The tokenizer has ${tokenizerVocabSize} tokens but the model's embedding table has only ${card.vocabSize.value} rows: ` +
        `ids above ${card.vocabSize.value - 1} would crash or mislead. Use the tokenizer.json exported with this model (${card.folder}).`,
    );
  }
}
