import { GraphIndex, PROJECTION_OPS } from './graphIndex';
import { ModelError } from './modelError';
import { DataType, editGraph, GraphEdits, NewNode, NodeEdits, OnnxGraph, OnnxModel, OnnxNode } from './onnxProto';

/** Where an attention block sits: encoder (or decoder-only) self-attention, seq2seq decoder self-attention, or cross-attention. */
export type AttentionKind = 'self' | 'decoder' | 'cross';
/** Which residual stream a hidden state belongs to. */
export type StackKind = 'encoder' | 'decoder';

/** An attention block's probabilities tensor [batch, heads, queries, keys]. */
export interface AttentionSite {
  /** Tensor name of the probabilities (the Softmax output, or a recomputed tensor for fused operators). */
  output: string;
  layer: number;
  kind: AttentionKind;
  /** Index of the Softmax node in the graph; undefined when recomputed from a fused operator. */
  softmaxNode?: number;
  /** True when the probabilities are recomputed beside a fused attention operator (the model does not use them). */
  recomputed?: boolean;
}

/** A hidden state [batch, sequence, hidden]: index 0 enters layer 0, index i+1 leaves layer i. */
export interface HiddenStateSite {
  output: string;
  index: number;
  kind: StackKind;
}

/** What {@link analyzeGraph} found, before any rewrite. */
export interface GraphAnalysis {
  attentions: AttentionSite[];
  hiddenStates: HiddenStateSite[];
  /** Nodes to append to recompute probabilities hidden inside fused operators. */
  recomputeNodes: NewNode[];
  /** Plain-language remarks: what could not be found and why. */
  notes: string[];
  /** Whether the self-attention of this graph looks causal (decoder-only or seq2seq decoder). */
  causal: boolean;
  /** Normalization placement of the residual stream, when a stream was found. */
  norm?: 'pre' | 'post';
  /** Set when the sites sit inside the branches of an If (a merged decoder): how they become outputs of the If. */
  branches?: BranchExposure;
}

/**
 * How the sites of a merged decoder become graph outputs: every new output of the If node (and of the main graph)
 * is, in each branch, one more branch output (an If's branches must return the same number of outputs, in the same
 * order, of compatible types: here the same site of the same layer, with or without past keys).
 */
export interface BranchExposure {
  /** Index of the If node in the main graph. */
  node: number;
  /** The new outputs, attentions first, in the order of {@link GraphAnalysis.attentions} and `hiddenStates`. */
  outputs: string[];
  branches: {
    /** `then_branch` or `else_branch`. */
    attribute: string;
    /** The branch's own attention sites (Softmax node indices into the branch's nodes), in the order of the If's. */
    attentions: AttentionSite[];
    /** The branch's tensor behind each new output. */
    tensors: string[];
    /** The branch output declared for each (the tensor, or an Identity of it where the tensor is not the branch's own). */
    outputs: string[];
    /** Nodes to append to the branch (recomputed attention, those Identities). */
    nodes: NewNode[];
  }[];
}

/** Options for {@link analyzeGraph} and {@link exposeInternals}. */
export interface AnalyzeOptions {
  /** Which stack the graph's self-attention belongs to when the graph alone cannot tell (e.g. config says decoder-only). */
  stack?: StackKind;
}

/** The result of {@link exposeInternals}. */
export interface ExposedModel {
  bytes: Uint8Array;
  attentions: { output: string; layer: number; kind: AttentionKind }[];
  hiddenStates: { output: string; index: number; kind: StackKind }[];
  notes: string[];
}

/** Operators between the Q·Kᵀ MatMul and the Softmax in the export patterns seen (scaling, masks, biases). */
const SCORE_OPS = new Set(['Add', 'Sub', 'Mul', 'Div', 'Where', 'Cast', 'Identity', 'Reshape', 'Clip', 'Max', 'Min']);
/** Operators that consume a residual-stream tensor: projections, quantizers of projections, and norms. */
const STREAM_CONSUMERS = new Set([
  ...PROJECTION_OPS, 'DynamicQuantizeLinear', 'ReduceMean', 'LayerNormalization', 'SimplifiedLayerNormalization',
  'SkipLayerNormalization', 'SkipSimplifiedLayerNormalization', 'Pow', 'Reshape', 'Cast', 'RMSNormalization',
]);
/** Operators of a LayerNorm or RMSNorm, decomposed or not. */
const NORM_OPS = new Set([
  'ReduceMean', 'Sub', 'Pow', 'Sqrt', 'Div', 'Mul', 'Add', 'Reciprocal', 'Cast', 'LayerNormalization',
  'SimplifiedLayerNormalization', 'RMSNormalization',
]);
const HEAD_MASK_PREFIX = 'onnxLens/head_mask/';
const FUSED_ATTENTION = new Set(['Attention', 'MultiHeadAttention', 'PackedAttention', 'PackedMultiHeadAttention',
  'GroupQueryAttention', 'DecoderMaskedMultiHeadAttention', 'DecoderMaskedSelfAttention', 'SparseAttention', 'PagedAttention']);

/** Finds the Q·Kᵀ MatMul feeding a Softmax through score operators; undefined when the Softmax is not attention. */
export function scoresMatMul(ix: GraphIndex, softmax: OnnxNode): OnnxNode | undefined {
  const queue: [string, number][] = [[softmax.inputs[0], 0]];
  const seen = new Set<string>();
  while (queue.length) {
    const [t, depth] = queue.shift() as [string, number];
    if (seen.has(t) || depth > 8) continue;
    seen.add(t);
    const p = ix.producerOf(t);
    if (!p) continue;
    if ((p.opType === 'MatMul' || p.opType === 'FusedMatMul') && p.inputs.slice(0, 2).every((x) => !ix.isConstant(x))) return p;
    if (!SCORE_OPS.has(p.opType)) continue;
    for (const x of ix.dataInputs(p)) queue.push([x, depth + 1]);
  }
  return undefined;
}

/** The activations that Q (or K) was projected from: the data input of the nearest weighted projections. */
function projectionSources(ix: GraphIndex, tensor: string): Set<string> {
  const out = new Set<string>();
  const stack = [tensor];
  const seen = new Set<string>();
  let budget = 200;
  while (stack.length && budget-- > 0) {
    const t = stack.pop() as string;
    if (seen.has(t)) continue;
    seen.add(t);
    const p = ix.producerOf(t);
    if (!p) {
      if (ix.graphInputs.has(t)) out.add(t);
      continue;
    }
    if (ix.isWeightedProjection(p)) {
      for (const x of p.inputs.slice(0, 2)) if (x && !ix.isConstant(x)) out.add(x);
      continue;
    }
    if (p.opType === 'Softmax' || PROJECTION_OPS.has(p.opType) || p.opType === 'Shape') continue;
    stack.push(...ix.dataInputs(p));
  }
  return out;
}

/** Probabilities after a head mask added by {@link addHeadMask}, which is what Hugging Face returns as attentions. */
function maskedOutput(ix: GraphIndex, probs: string): string {
  const users = ix.consumersOf(probs);
  const mul = users.length === 1 && users[0].opType === 'Mul' && users[0].name.startsWith(HEAD_MASK_PREFIX) ? users[0] : undefined;
  return mul ? mul.outputs[0] : probs;
}

/** True when `from` flows forward into `to` (data edges only). */
function flowsInto(ix: GraphIndex, from: string, to: string): boolean {
  const ceiling = ix.positionOf(to);
  const seen = new Set<string>([from]);
  const stack = [from];
  while (stack.length) {
    const t = stack.pop() as string;
    if (t === to) return true;
    for (const c of ix.consumers.get(t) ?? []) {
      if (ix.position[c] > ceiling) continue;
      const node = ix.nodes[c];
      if (node.opType === 'Shape' || node.opType === 'Size') continue;
      for (const o of node.outputs) {
        if (o && !seen.has(o)) {
          seen.add(o);
          stack.push(o);
        }
      }
    }
  }
  return false;
}

/** Structural signs of a causal mask near a Softmax: Trilu, a [1,1,N,N] boolean buffer, or `i <= j` over Range outputs. */
function looksCausal(ix: GraphIndex, softmax: OnnxNode): boolean {
  const stack = [softmax.inputs[0]];
  const seen = new Set<string>();
  let budget = 400;
  while (stack.length && budget-- > 0) {
    const t = stack.pop() as string;
    if (seen.has(t)) continue;
    seen.add(t);
    const dims = ix.constantDims(t);
    if (dims && dims.length === 4 && dims[0] === 1 && dims[1] === 1 && dims[2] === dims[3] && dims[2] > 1) {
      const init = ix.initializers.get(t);
      const dataType = init?.dataType ?? ix.producerOf(t)?.attributes[0]?.t?.dataType;
      if (dataType === DataType.BOOL || dataType === DataType.UINT8) return true;
    }
    const p = ix.producerOf(t);
    if (!p) continue;
    if (p.opType === 'Trilu') return true;
    if (p.opType === 'LessOrEqual' || p.opType === 'GreaterOrEqual') return true;
    if (PROJECTION_OPS.has(p.opType) || p.opType === 'Softmax') continue;
    for (const x of p.inputs) if (x) stack.push(x);
  }
  return false;
}

/** The single tensor that a LayerNorm/RMSNorm applied to `tensor` produces, found by closing over norm operators. */
function normOutput(ix: GraphIndex, tensor: string): string | undefined {
  const inSet = new Set<string>([tensor]);
  const included = new Set<number>();
  let changed = true;
  while (changed) {
    changed = false;
    for (const t of [...inSet]) {
      for (const c of ix.consumers.get(t) ?? []) {
        if (included.has(c)) continue;
        const node = ix.nodes[c];
        if (!NORM_OPS.has(node.opType)) continue;
        const dynamic = node.inputs.filter((x) => x && !ix.isConstant(x));
        if (!dynamic.every((x) => inSet.has(x))) continue;
        // A bare Add of the tensor with itself or a scale alone is not a norm; norms reduce first.
        included.add(c);
        for (const o of node.outputs) if (o) inSet.add(o);
        changed = true;
      }
    }
  }
  if (included.size === 0) return undefined;
  const hasReduce = [...included].some((i) => ['ReduceMean', 'LayerNormalization', 'SimplifiedLayerNormalization', 'RMSNormalization'].includes(ix.nodes[i].opType));
  if (!hasReduce) return undefined;
  const sinks: string[] = [];
  for (const i of included) {
    for (const o of ix.nodes[i].outputs) {
      if (!o) continue;
      const used = (ix.consumers.get(o) ?? []).some((c) => included.has(c));
      // LayerNormalization's optional mean/inv-std outputs are unused: only a consumed or graph-output tensor counts.
      const live = (ix.consumers.get(o) ?? []).length > 0 || ix.graph.outputs.some((g) => g.name === o);
      if (!used && live) sinks.push(o);
    }
  }
  return sinks.length === 1 ? sinks[0] : undefined;
}

interface Residual {
  node: number;
  output: string;
  skip: string;
}

/** Residual Adds: Add(x, f(x)) where f passes a weighted projection and x is a residual-stream tensor. */
function findResiduals(ix: GraphIndex): Residual[] {
  const out: Residual[] = [];
  ix.nodes.forEach((n, i) => {
    if (n.opType !== 'Add' || n.inputs.length !== 2) return;
    const [a, b] = n.inputs;
    if (!a || !b || ix.isConstant(a) || ix.isConstant(b)) return;
    for (const [skip, branch] of [[a, b], [b, a]]) {
      const streamLike = ix.consumersOf(skip).some((c) => c !== n && STREAM_CONSUMERS.has(c.opType)) || ix.graphInputs.has(skip);
      if (!streamLike) continue;
      if (ix.feedsThroughProjection(skip, branch)) {
        out.push({ node: i, output: n.outputs[0], skip });
        return;
      }
    }
  });
  return out.sort((x, y) => ix.position[x.node] - ix.position[y.node]);
}

/** A tensor seen through value-preserving Cast/Identity nodes (T5's norm casts the stream to float32, a no-op in fp32). */
function withoutCasts(ix: GraphIndex, t: string): string {
  let cur = t;
  for (let i = 0; i < 4; i++) {
    const p = ix.producerOf(cur);
    if (!p || (p.opType !== 'Identity' && !(p.opType === 'Cast' && p.attributes.some((a) => a.name === 'to' && a.i === DataType.FLOAT)))) break;
    cur = p.inputs[0];
  }
  return cur;
}

/** Chains residuals into streams: the next residual's skip is this one's output (pre-norm) or its norm (post-norm). */
function residualChains(ix: GraphIndex, residuals: Residual[]): { chain: Residual[]; norm: 'pre' | 'post' }[] {
  const bySkip = new Map<string, Residual>();
  for (const r of residuals) {
    const key = withoutCasts(ix, r.skip);
    if (!bySkip.has(key)) bySkip.set(key, r);
  }
  const successor = new Map<Residual, { next: Residual; norm: 'pre' | 'post' }>();
  const hasPredecessor = new Set<Residual>();
  for (const r of residuals) {
    let next = bySkip.get(r.output);
    let norm: 'pre' | 'post' = 'pre';
    if (!next) {
      const n = normOutput(ix, r.output);
      if (n) {
        next = bySkip.get(n);
        norm = 'post';
      }
    }
    if (next && next !== r) {
      successor.set(r, { next, norm });
      hasPredecessor.add(next);
    }
  }
  const chains: { chain: Residual[]; norm: 'pre' | 'post' }[] = [];
  for (const r of residuals) {
    if (hasPredecessor.has(r)) continue;
    const chain = [r];
    let norm: 'pre' | 'post' = 'pre';
    let cur = r;
    while (successor.has(cur) && chain.length <= residuals.length) {
      const s = successor.get(cur) as { next: Residual; norm: 'pre' | 'post' };
      norm = s.norm;
      chain.push(s.next);
      cur = s.next;
    }
    chains.push({ chain, norm });
  }
  return chains.sort((x, y) => y.chain.length - x.chain.length);
}

/** The two subgraphs of an If node, in the order their outputs are matched. */
const BRANCHES = ['then_branch', 'else_branch'];

/**
 * Finds attention probabilities and hidden states in a graph by structure (topological order, score
 * patterns, residual chains), not by node names. Never throws on unfamiliar graphs: what it cannot find
 * is explained in `notes`. A graph whose layers sit inside the two branches of an `If` (Optimum's merged
 * decoder: `use_cache_branch` chooses the branch with or without past keys and values) is analysed branch by
 * branch, and its sites are new outputs of the `If` ({@link GraphAnalysis.branches}).
 */
export function analyzeGraph(model: OnnxModel, options: AnalyzeOptions = {}): GraphAnalysis {
  const main = analyzeOneGraph(model.graph, options, 'onnxLens/');
  const ifIndex = model.graph.nodes.findIndex((n) => n.opType === 'If' || n.opType === 'Loop');
  if (ifIndex < 0) return main;
  if (main.attentions.length === 0 && main.hiddenStates.length === 0) {
    const merged = analyzeBranches(model, options);
    if (typeof merged !== 'string') return merged;
    main.notes = main.notes.filter((n) => !n.startsWith('No attention Softmax'));
    main.notes.push(`This graph holds its layers inside If/Loop subgraphs, and their attention and hidden states cannot be exposed: ${merged}. Use the plain decoder_model.onnx to see them.`);
    return main;
  }
  main.notes.push('Parts of this graph sit inside If/Loop subgraphs; their attention and hidden states are not exposed.');
  return main;
}

/**
 * A merged decoder: both branches of its `If` analysed as graphs of their own (seeing the outer graph's inputs and
 * initializers, as a subgraph does), their sites matched one to one, and each pair made one new output of the `If`.
 * @returns the analysis, or why the branches cannot be exposed.
 */
function analyzeBranches(model: OnnxModel, options: AnalyzeOptions): GraphAnalysis | string {
  const node = model.graph.nodes.findIndex((n) => n.opType === 'If' && BRANCHES.every((b) => n.attributes.some((a) => a.name === b && a.g)));
  if (node < 0) return 'they are not the two branches of an If';
  const ifNode = model.graph.nodes[node];
  const outer = model.graph;
  const analyses = BRANCHES.map((attribute) => {
    const g = ifNode.attributes.find((a) => a.name === attribute)!.g!;
    const scope: OnnxGraph = { ...g, initializers: [...outer.initializers, ...g.initializers], inputs: [...outer.inputs, ...g.inputs] };
    return { attribute, graph: g, analysis: analyzeOneGraph(scope, options, `onnxLens/${attribute}/`) };
  });
  const shape = (a: GraphAnalysis) => JSON.stringify([a.attentions.map((x) => [x.kind, x.layer]), a.hiddenStates.map((h) => [h.kind, h.index])]);
  const [first] = analyses;
  if (first.analysis.attentions.length + first.analysis.hiddenStates.length === 0) return first.analysis.notes.join(' ') || 'no attention or hidden state was found in them';
  if (analyses.some((b) => shape(b.analysis) !== shape(first.analysis))) return 'its two branches hold different layers';
  const outputs = [
    ...first.analysis.attentions.map((a) => `onnxLens/merged/attention/${a.kind}${a.layer}`),
    ...first.analysis.hiddenStates.map((h) => `onnxLens/merged/hidden/${h.kind}${h.index}`),
  ];
  const branches: BranchExposure['branches'] = analyses.map(({ attribute, graph, analysis }) => {
    const produced = new Set(graph.nodes.flatMap((n) => n.outputs));
    const tensors = [...analysis.attentions.map((a) => a.output), ...analysis.hiddenStates.map((h) => h.output)];
    const nodes: NewNode[] = [...analysis.recomputeNodes];
    for (const n of analysis.recomputeNodes) for (const o of n.outputs) produced.add(o);
    const seen = new Set<string>();
    // A branch output must be a value the branch computes, once: anything else goes through an Identity.
    const branchOutputs = tensors.map((t, i) => {
      if (produced.has(t) && !seen.has(t)) {
        seen.add(t);
        return t;
      }
      const name = `onnxLens/${attribute}/exposed${i}`;
      nodes.push({ opType: 'Identity', inputs: [t], outputs: [name], name });
      return name;
    });
    return { attribute, attentions: analysis.attentions, tensors, outputs: branchOutputs, nodes };
  });
  const a = first.analysis;
  const notes = [...new Set(analyses.flatMap((b) => b.analysis.notes))];
  notes.push('The layers sit inside the two branches of an If (a merged decoder); attention and hidden states are read from the branch that runs.');
  return {
    attentions: a.attentions.map((x, i) => ({ output: outputs[i], layer: x.layer, kind: x.kind, recomputed: x.recomputed })),
    hiddenStates: a.hiddenStates.map((h, i) => ({ output: outputs[a.attentions.length + i], index: h.index, kind: h.kind })),
    recomputeNodes: [],
    notes,
    causal: analyses.some((b) => b.analysis.causal),
    norm: a.norm,
    branches: { node, outputs, branches },
  };
}

/** {@link analyzeGraph} of one graph, whose recomputed tensors are named under `prefix`. */
function analyzeOneGraph(graph: OnnxGraph, options: AnalyzeOptions, prefix: string): GraphAnalysis {
  const ix = new GraphIndex(graph);
  const notes: string[] = [];
  const found: { softmax: number; q: Set<string>; k: Set<string>; kTensor: string }[] = [];
  ix.nodes.forEach((n, i) => {
    if (n.opType !== 'Softmax' || n.domain !== '') return;
    const mm = scoresMatMul(ix, n);
    if (!mm) return;
    found.push({ softmax: i, q: projectionSources(ix, mm.inputs[0]), k: projectionSources(ix, mm.inputs[1]), kTensor: mm.inputs[1] });
  });
  found.sort((a, b) => ix.position[a.softmax] - ix.position[b.softmax]);
  const isCross = (f: (typeof found)[number]): boolean => f.q.size > 0 && f.k.size > 0 && ![...f.q].some((s) => f.k.has(s));
  const cross = found.filter(isCross);
  const attentions: AttentionSite[] = [];
  const counters: Record<AttentionKind, number> = { self: 0, decoder: 0, cross: 0 };
  let causal = false;
  for (const f of found) {
    let kind: AttentionKind;
    if (isCross(f)) kind = 'cross';
    else if (cross.length === 0) kind = 'self';
    else {
      // In an encoder-decoder graph, encoder self-attention feeds the keys of cross-attention.
      const feedsCross = cross.some((c) => [...c.k].some((src) => flowsInto(ix, ix.nodes[f.softmax].outputs[0], src)));
      kind = feedsCross ? 'self' : 'decoder';
    }
    if (kind !== 'cross' && looksCausal(ix, ix.nodes[f.softmax])) causal = true;
    attentions.push({ output: maskedOutput(ix, ix.nodes[f.softmax].outputs[0]), layer: counters[kind]++, kind, softmaxNode: f.softmax });
  }
  const hasPast = graph.inputs.some((i) => /past/.test(i.name)) || graph.outputs.some((o) => /present/.test(o.name));
  if (hasPast || cross.length > 0) causal = true;

  const recomputeNodes: NewNode[] = [];
  let fusedIndex = 0;
  for (const n of ix.nodes) {
    if (!FUSED_ATTENTION.has(n.opType) || !(n.domain === 'com.microsoft' || n.domain === '')) continue;
    const layer = counters.self;
    const fusedPrefix = `${prefix}fused${fusedIndex++}/`;
    const result = n.opType === 'GroupQueryAttention' && n.domain === 'com.microsoft'
      ? recomputeGroupQueryAttention(ix, n, fusedPrefix)
      : recomputeFusedAttention(ix, n, fusedPrefix);
    if (typeof result === 'string') {
      notes.push(`Attention layer ${layer} is fused into one ${n.domain ? n.domain + '.' : ''}${n.opType} operator that hides its probabilities (${result}); attention cannot be shown for it.`);
      counters.self++;
      continue;
    }
    recomputeNodes.push(...result.nodes);
    attentions.push({ output: result.output, layer: counters.self++, kind: 'self', recomputed: true });
  }
  if (recomputeNodes.length) {
    notes.push('Attention probabilities are recomputed from the inputs of fused attention operators as softmax(QKᵀ·scale + mask).');
  }
  if (attentions.some((a) => a.recomputed) && ix.nodes.some((n) => n.opType === 'GroupQueryAttention')) {
    notes.push('For GroupQueryAttention the keys are the rotated ones the operator returns (present_key), each shared by its group of query heads, and the queries are rotated by the same cos/sin caches.');
  }
  if (attentions.length === 0 && fusedIndex === 0) notes.push('No attention Softmax was found in this graph.');

  // Hidden states.
  const hiddenStates: HiddenStateSite[] = [];
  const chains = residualChains(ix, findResiduals(ix)).filter((c) => c.chain.length >= 2 || attentions.length <= 1);
  let norm: 'pre' | 'post' | undefined;
  const selfKinds: AttentionKind[] = cross.length > 0 ? ['self', 'decoder'] : ['self'];
  const ordered = chains.slice(0, selfKinds.length).sort((x, y) => ix.position[x.chain[0].node] - ix.position[y.chain[0].node]);
  for (const { chain, norm: chainNorm } of ordered) {
    // Which stack this chain carries: the attention kind whose probabilities flow into its residuals.
    const attnKinds = selfKinds.filter((k) => attentions.some((a) => a.kind === k && a.softmaxNode !== undefined && flowsInto(ix, a.output, chain[chain.length - 1].output)));
    const own = attnKinds.length > 1 ? attnKinds[attnKinds.length - 1] : attnKinds[0] ?? 'self';
    // Fused attention operators that hide their probabilities still count as layers.
    const layers = attentions.filter((a) => a.kind === own).length || attentions.filter((a) => a.kind === 'self').length || counters.self;
    if (layers === 0 || chain.length % layers !== 0) {
      notes.push(`Hidden states were not exposed: ${chain.length} residual connections do not divide into ${layers} layers.`);
      continue;
    }
    const per = chain.length / layers;
    const stack: StackKind = own === 'decoder' || cross.length > 0 ? 'decoder' : (options.stack ?? (causal ? 'decoder' : 'encoder'));
    norm = chainNorm;
    const states: HiddenStateSite[] = [{ output: chain[0].skip, index: 0, kind: stack }];
    let ok = true;
    for (let layer = 0; layer < layers; layer++) {
      const last = chain[(layer + 1) * per - 1];
      const out = chainNorm === 'post' ? normOutput(ix, last.output) : last.output;
      if (!out) {
        ok = false;
        break;
      }
      states.push({ output: out, index: layer + 1, kind: stack });
    }
    if (ok) hiddenStates.push(...states);
    else notes.push(`Hidden states of the ${stack} were not exposed: the norm after a layer could not be traced.`);
  }
  if (attentions.length > 0 && hiddenStates.length === 0 && !notes.some((n) => n.startsWith('Hidden states'))) {
    notes.push('Hidden states were not exposed: no chain of residual connections was found.');
  }
  return { attentions, hiddenStates, recomputeNodes, notes, causal, norm };
}

/* ------------------------------------------------------------------------------------------------ */
/* Fused attention                                                                                   */
/* ------------------------------------------------------------------------------------------------ */

/** Best-effort static rank of a tensor; undefined when unknown. */
function rankOf(ix: GraphIndex, t: string, depth = 0): number | undefined {
  if (depth > 20) return undefined;
  const input = ix.graph.inputs.find((i) => i.name === t);
  if (input?.shape) return input.shape.length;
  const dims = ix.constantDims(t);
  if (dims) return dims.length;
  const p = ix.producerOf(t);
  if (!p) return undefined;
  switch (p.opType) {
    case 'Cast': case 'Identity': case 'Relu': case 'Erf': case 'Tanh': case 'Sigmoid': case 'Softmax': case 'Transpose':
    case 'LayerNormalization': case 'Attention': case 'MultiHeadAttention': case 'Neg':
      return rankOf(ix, p.inputs[0], depth + 1);
    case 'Add': case 'Sub': case 'Mul': case 'Div': case 'MatMul': case 'Where': {
      const rs = p.inputs.map((x) => rankOf(ix, x, depth + 1));
      return rs.every((r) => r !== undefined) ? Math.max(...(rs as number[])) : undefined;
    }
    case 'Gather': {
      const a = rankOf(ix, p.inputs[0], depth + 1);
      const b = rankOf(ix, p.inputs[1], depth + 1);
      return a !== undefined && b !== undefined ? a + b - 1 : undefined;
    }
    case 'Reshape': {
      const v = ix.constantValues(p.inputs[1]);
      return v?.length;
    }
    default:
      return undefined;
  }
}

/** The last dimension of a tensor made by a projection with a constant weight (or a constant itself). */
function lastDim(ix: GraphIndex, t: string, depth = 0): number | undefined {
  if (depth > 6) return undefined;
  const dims = ix.constantDims(t);
  if (dims) return dims[dims.length - 1];
  const input = ix.graph.inputs.find((i) => i.name === t);
  if (input?.shape) {
    const d = input.shape[input.shape.length - 1];
    return typeof d === 'number' ? d : undefined;
  }
  const p = ix.producerOf(t);
  if (!p) return undefined;
  if (p.opType === 'MatMul' || p.opType === 'Gemm') {
    const w = ix.constantDims(p.inputs[1]);
    if (w) return p.opType === 'Gemm' && p.attributes.some((a) => a.name === 'transB' && a.i === 1) ? w[0] : w[w.length - 1];
  }
  if (p.opType === 'Gather') {
    const w = ix.constantDims(p.inputs[0]);
    if (w) return w[w.length - 1];
  }
  if (['Add', 'Cast', 'Identity', 'Relu', 'Mul'].includes(p.opType)) {
    for (const x of p.inputs) {
      const d = lastDim(ix, x, depth + 1);
      if (d !== undefined && d > 1) return d;
    }
  }
  return undefined;
}

function attr(node: OnnxNode, name: string): { i?: number; f?: number; s?: string; ints?: number[] } | undefined {
  return node.attributes.find((a) => a.name === name);
}

/** Appends nodes of a recomputation, each named under `prefix`: constants and single-output operators. */
class RecomputeNodes {
  readonly nodes: NewNode[] = [];
  private count = 0;

  constructor(private readonly prefix: string) {}

  constant(values: number[], dims: number[], float = false): string {
    const name = `${this.prefix}const${this.count++}`;
    this.nodes.push({
      opType: 'Constant', inputs: [], outputs: [name], name,
      attributes: [{ name: 'value', tensor: { dataType: float ? DataType.FLOAT : DataType.INT64, dims, values } }],
    });
    return name;
  }

  op(opType: string, inputs: string[], attributes?: NewNode['attributes']): string {
    const name = `${this.prefix}${opType}${this.count++}`;
    this.nodes.push({ opType, inputs, outputs: [name], name, attributes });
    return name;
  }

  /** A slice of one axis, [from, to). */
  slice(x: string, axis: number, from: number, to: number): string {
    return this.op('Slice', [x, this.constant([from], [1]), this.constant([to], [1]), this.constant([axis], [1])]);
  }

  /** A float32 copy (a no-op on float32 tensors; float16 exports are recomputed in float32). */
  float(x: string): string {
    return this.op('Cast', [x], [{ name: 'to', int: DataType.FLOAT }]);
  }

  /** An int64 scalar from a one-element tensor. */
  scalar(x: string): string {
    return this.op('Reshape', [this.op('Cast', [x], [{ name: 'to', int: DataType.INT64 }]), this.constant([], [0])]);
  }
}

/** Lowest float32: a masked score, as Hugging Face masks them (its softmax weight is exactly 0). */
const MASKED_SCORE = -3.4028234663852886e38;

/**
 * Nodes that recompute com.microsoft.GroupQueryAttention's probabilities, or a reason why not. The operator takes the
 * projected Q, K and V (or one packed QKV), rotates Q and K itself when `do_rotary` is set (cos/sin caches indexed by
 * position; halves or interleaved pairs), and returns the rotated keys of the whole sequence, past and new, as
 * `present_key` [batch, kv_num_heads, total, head_size]. So: Q is rotated here at the positions total − S … total − 1
 * (or at `position_ids`), each key head serves num_heads / kv_num_heads query heads, and
 * softmax(softcap(Q·Kᵀ·scale) + bias) is taken over the keys a query may see: causal, the last `local_window_size`
 * of them, and within each row's length (`seqlens_k` + 1). Checked against the operator's own output.
 */
function recomputeGroupQueryAttention(ix: GraphIndex, n: OnnxNode, prefix: string): { nodes: NewNode[]; output: string } | string {
  const heads = attr(n, 'num_heads')?.i;
  const kvHeads = attr(n, 'kv_num_heads')?.i;
  if (!heads || !kvHeads || heads % kvHeads !== 0) return 'no num_heads and kv_num_heads attributes, one a multiple of the other';
  if (attr(n, 'causal')?.i === 0) return 'bidirectional attention';
  if (attr(n, 'smooth_softmax')?.i) return 'a smoothed softmax';
  if (attr(n, 'sliding_window_cache')?.i) return 'a window-sized cache';
  if (attr(n, 'qk_output')?.i) return 'its own QK output';
  const [query, key, , pastKey, , seqlensK, totalLength, cosCache, sinCache, positionIds, attentionBias, headSink, kScale, vScale, qNorm, kNorm] = n.inputs;
  if (headSink) return 'attention sinks';
  if (kScale || vScale || (attr(n, 'k_quant_type')?.s ?? 'NONE') !== 'NONE') return 'a quantized cache';
  if (qNorm || kNorm) return 'norms of Q and K inside the operator';
  const presentKey = n.outputs[1];
  if (!presentKey) return 'no present_key output to read the rotated keys from';
  if (!seqlensK || !totalLength) return 'no sequence lengths';
  const packed = !key;
  const width = lastDim(ix, query);
  const pastShape = ix.graph.inputs.find((i) => i.name === pastKey)?.shape;
  const headSize = width ? width / (packed ? heads + 2 * kvHeads : heads) : typeof pastShape?.[3] === 'number' ? pastShape[3] : undefined;
  if (!headSize || !Number.isInteger(headSize)) return 'a head size that cannot be read from the graph';
  const rotary = attr(n, 'do_rotary')?.i === 1;
  const half = rotary ? ix.constantDims(cosCache)?.[1] : 0;
  if (rotary && (!half || !sinCache || 2 * half > headSize)) return 'rotary caches of unknown size';
  const interleaved = attr(n, 'rotary_interleaved')?.i === 1;
  const softcap = attr(n, 'softcap')?.f ?? 0;
  const window = attr(n, 'local_window_size')?.i ?? -1;
  const scale = attr(n, 'scale')?.f || 1 / Math.sqrt(headSize);
  const b = new RecomputeNodes(prefix);

  // Q as [batch, S, heads, head_size].
  let q = b.op('Reshape', [b.float(query), b.constant([0, 0, packed ? heads + 2 * kvHeads : heads, headSize], [4])]);
  if (packed) q = b.slice(q, 2, 0, heads);
  // Absolute positions of the S new tokens: after total − S cached ones.
  const total = b.scalar(totalLength);
  const past = b.op('Sub', [total, b.scalar(b.slice(b.op('Shape', [query]), 0, 1, 2))]);
  const one = b.constant([1], []);
  const queryPositions = b.op('Range', [past, total, one]);
  if (rotary) {
    const r = half as number;
    const positions = positionIds || b.op('Reshape', [queryPositions, b.constant([1, -1], [2])]);
    // cos and sin per position: [batch or 1, S, 1, rotary_dim / 2], shared by the heads.
    const table = (cache: string) => b.op('Reshape', [b.op('Gather', [b.float(cache), positions], [{ name: 'axis', int: 0 }]), b.constant([0, 0, 1, -1], [4])]);
    const cos = table(cosCache);
    const sin = table(sinCache);
    const rotated = 2 * r < headSize ? b.slice(q, 3, 0, 2 * r) : q;
    const turn = (x1: string, x2: string, c: string, s: string) => [
      b.op('Sub', [b.op('Mul', [x1, c]), b.op('Mul', [x2, s])]),
      b.op('Add', [b.op('Mul', [x2, c]), b.op('Mul', [x1, s])]),
    ];
    let out: string;
    if (interleaved) {
      // Pairs (x[2i], x[2i+1]) turn by the angle of frequency i.
      const pairs = b.op('Reshape', [rotated, b.constant([0, 0, 0, r, 2], [5])]);
      const c5 = b.op('Reshape', [cos, b.constant([0, 0, 1, r, 1], [5])]);
      const s5 = b.op('Reshape', [sin, b.constant([0, 0, 1, r, 1], [5])]);
      const turned = turn(b.slice(pairs, 4, 0, 1), b.slice(pairs, 4, 1, 2), c5, s5);
      out = b.op('Reshape', [b.op('Concat', turned, [{ name: 'axis', int: 4 }]), b.constant([0, 0, 0, 2 * r], [4])]);
    } else {
      // The first half turns against the second, as rotate_half does.
      out = b.op('Concat', turn(b.slice(rotated, 3, 0, r), b.slice(rotated, 3, r, 2 * r), cos, sin), [{ name: 'axis', int: 3 }]);
    }
    q = 2 * r < headSize ? b.op('Concat', [out, b.slice(q, 3, 2 * r, headSize)], [{ name: 'axis', int: 3 }]) : out;
  }
  const qt = b.op('Transpose', [q], [{ name: 'perm', ints: [0, 2, 1, 3] }]);
  // Each key head repeated for its num_heads / kv_num_heads query heads: [batch, heads, total, head_size].
  const keys5 = b.op('Reshape', [b.float(presentKey), b.constant([0, 0, 1, -1, headSize], [5])]);
  const grouped = b.op('Expand', [keys5, b.constant([1, 1, heads / kvHeads, 1, 1], [5])]);
  const k = b.op('Reshape', [grouped, b.constant([0, heads, -1, headSize], [4])]);
  let scores = b.op('Mul', [b.op('MatMul', [qt, b.op('Transpose', [k], [{ name: 'perm', ints: [0, 1, 3, 2] }])]), b.constant([scale], [], true)]);
  if (softcap > 0) {
    const cap = b.constant([softcap], [], true);
    scores = b.op('Mul', [b.op('Tanh', [b.op('Div', [scores, cap])]), cap]);
  }
  if (attentionBias) scores = b.op('Add', [scores, b.float(attentionBias)]);
  // Which keys each query sees: [batch or 1, 1, S, total].
  const keyPositions = b.op('Reshape', [b.op('Range', [b.constant([0], []), b.scalar(b.slice(b.op('Shape', [presentKey]), 0, 2, 3)), one]), b.constant([1, 1, 1, -1], [4])]);
  const queryColumn = b.op('Reshape', [queryPositions, b.constant([1, 1, -1, 1], [4])]);
  let visible = b.op('Less', [keyPositions, b.op('Add', [queryColumn, one])]);
  // A window of W keys: the query's own and the W − 1 before it (Mistral's sliding window).
  if (window > 0) visible = b.op('And', [visible, b.op('Less', [b.op('Sub', [queryColumn, b.constant([window], [])]), keyPositions])]);
  const lengths = b.op('Reshape', [b.op('Add', [b.op('Cast', [seqlensK], [{ name: 'to', int: DataType.INT64 }]), one]), b.constant([-1, 1, 1, 1], [4])]);
  visible = b.op('And', [visible, b.op('Less', [keyPositions, lengths])]);
  scores = b.op('Where', [visible, scores, b.constant([MASKED_SCORE], [], true)]);
  const output = `${prefix}attention_probs`;
  b.nodes.push({ opType: 'Softmax', inputs: [scores], outputs: [output], name: output, attributes: [{ name: 'axis', int: -1 }] });
  return { nodes: b.nodes, output };
}

/**
 * Nodes that recompute a fused attention operator's probabilities from its inputs, or a reason why not.
 * Supported: com.microsoft.Attention with weights and bias, and com.microsoft.MultiHeadAttention with 3-D
 * query/key; both with no mask or a 2-D 0/1 padding mask, bidirectional, without past state.
 */
function recomputeFusedAttention(ix: GraphIndex, n: OnnxNode, prefix: string): { nodes: NewNode[]; output: string } | string {
  if (n.domain !== 'com.microsoft' || (n.opType !== 'Attention' && n.opType !== 'MultiHeadAttention')) {
    return 'this operator is not one ONNX Lens can recompute';
  }
  const heads = attr(n, 'num_heads')?.i;
  if (!heads) return 'no num_heads attribute';
  if (attr(n, 'unidirectional')?.i) return 'causal masking inside the operator';
  const filter = attr(n, 'mask_filter_value')?.f ?? -10000;
  const b = new RecomputeNodes(prefix);
  const constant = (values: number[], dims: number[], float = false): string => b.constant(values, dims, float);
  const op = (opType: string, inputs: string[], attributes?: NewNode['attributes']): string => b.op(opType, inputs, attributes);
  let q: string;
  let k: string;
  let qSize: number;
  let mask: string | undefined;
  let extraBias: string | undefined;
  if (n.opType === 'Attention') {
    const [x, w, b, maskIndex, past, attentionBias] = n.inputs;
    if (!w || !b) return 'packed weights without a bias';
    if (past) return 'past state inside the operator';
    const wDims = ix.constantDims(w);
    if (!wDims || wDims.length !== 2) return 'weights of unknown shape';
    const sizes = attr(n, 'qkv_hidden_sizes')?.ints ?? [wDims[1] / 3, wDims[1] / 3, wDims[1] / 3];
    qSize = sizes[0];
    if (sizes[0] !== sizes[1]) return 'query and key of different widths';
    const qkv = op('Add', [op('MatMul', [x, w]), b]);
    const axis2 = constant([2], [1]);
    q = op('Slice', [qkv, constant([0], [1]), constant([qSize], [1]), axis2]);
    k = op('Slice', [qkv, constant([qSize], [1]), constant([qSize + sizes[1]], [1]), axis2]);
    mask = maskIndex || undefined;
    extraBias = attentionBias || undefined;
  } else {
    const [query, key, value, bias, keyPaddingMask, attentionBias, pastKey] = n.inputs;
    if (!key || !value) return 'packed query/key/value';
    if (pastKey) return 'past state inside the operator';
    if (rankOf(ix, query) !== 3 || rankOf(ix, key) !== 3) return 'query or key not of shape [batch, sequence, hidden]';
    const width = lastDim(ix, query) ?? (bias ? (ix.constantDims(bias)?.[0] ?? 0) / 3 : undefined);
    if (!width) return 'hidden size unknown';
    qSize = width;
    q = query;
    k = key;
    if (bias) {
      const axis0 = constant([0], [1]);
      q = op('Add', [q, op('Slice', [bias, constant([0], [1]), constant([width], [1]), axis0])]);
      k = op('Add', [k, op('Slice', [bias, constant([width], [1]), constant([2 * width], [1]), axis0])]);
    }
    mask = keyPaddingMask || undefined;
    extraBias = attentionBias || undefined;
  }
  if (qSize % heads !== 0) return 'hidden size not divisible by the number of heads';
  const headSize = qSize / heads;
  const scale = attr(n, 'scale')?.f || 1 / Math.sqrt(headSize);
  const split = constant([0, 0, heads, headSize], [4]);
  const qt = op('Transpose', [op('Reshape', [q, split])], [{ name: 'perm', ints: [0, 2, 1, 3] }]);
  const kt = op('Transpose', [op('Reshape', [k, split])], [{ name: 'perm', ints: [0, 2, 3, 1] }]);
  let scores = op('Mul', [op('MatMul', [qt, kt]), constant([scale], [], true)]);
  if (mask) {
    if (rankOf(ix, mask) !== 2) return 'a mask that is not a [batch, keys] 0/1 padding mask';
    const inverted = op('Sub', [constant([1], [], true), op('Cast', [mask], [{ name: 'to', int: DataType.FLOAT }])]);
    const term = op('Reshape', [op('Mul', [inverted, constant([filter], [], true)]), constant([0, 1, 1, -1], [4])]);
    scores = op('Add', [scores, term]);
  }
  if (extraBias) scores = op('Add', [scores, extraBias]);
  const output = `${prefix}attention_probs`;
  b.nodes.push({ opType: 'Softmax', inputs: [scores], outputs: [output], name: output, attributes: [{ name: 'axis', int: -1 }] });
  return { nodes: b.nodes, output };
}

/* ------------------------------------------------------------------------------------------------ */
/* Rewrites                                                                                          */
/* ------------------------------------------------------------------------------------------------ */

/**
 * Adds every attention-probabilities tensor and hidden state the graph has as graph outputs, leaving the
 * model's own outputs unchanged. Outputs are declared by name only, so the runtime infers their types.
 * @param bytes the serialized model; @param parsed its parse by parseOnnxModel.
 */
export function exposeInternals(bytes: Uint8Array, parsed: OnnxModel, options: AnalyzeOptions = {}): ExposedModel {
  const analysis = analyzeGraph(parsed, options);
  const existing = new Set(parsed.graph.outputs.map((o) => o.name));
  const names = new Set<string>();
  for (const t of [...analysis.attentions.map((a) => a.output), ...analysis.hiddenStates.map((h) => h.output)]) {
    if (!existing.has(t)) names.add(t);
  }
  const edits: GraphEdits = { nodes: analysis.recomputeNodes, outputs: [...names] };
  const merged = analysis.branches;
  if (merged) {
    const graphs = new Map(merged.branches.map((b) => [b.attribute, { nodes: b.nodes, outputs: b.outputs }]));
    edits.nodeEdits = new Map([[merged.node, { addOutputs: merged.outputs, graphs }]]);
  }
  const out = editGraph(bytes, parsed, edits);
  return {
    bytes: out,
    attentions: analysis.attentions.map(({ output, layer, kind }) => ({ output, layer, kind })),
    hiddenStates: analysis.hiddenStates.map(({ output, index, kind }) => ({ output, index, kind })),
    notes: analysis.notes,
  };
}

/** Options for {@link addHeadMask}. */
export interface HeadMaskOptions {
  /** Attention kind the mask applies to (default: 'decoder' in seq2seq decoder graphs, else 'self'). */
  kind?: AttentionKind;
  /** Number of attention heads per layer. */
  heads: number;
  /** Name of the new graph input (default `head_mask`). */
  inputName?: string;
  /** Analysis of the same model, when the caller already has one. */
  analysis?: GraphAnalysis;
}

/**
 * Adds a graph input `head_mask` [layers, heads] (float) that multiplies each layer's attention
 * probabilities per head before they weight the values, as Hugging Face's head_mask does: 1 keeps a
 * head, 0 removes it. The probabilities tensors keep their names (they now hold the masked values).
 * In a merged decoder the mask acts inside both branches of its `If`, whose nodes read the main graph's
 * `head_mask` by name (a subgraph sees the values of the graph around it).
 * @throws ModelError 'unsupported-graph' when the graph has no Softmax attention of that kind.
 */
export function addHeadMask(bytes: Uint8Array, parsed: OnnxModel, options: HeadMaskOptions): { bytes: Uint8Array; inputName: string; layers: number } {
  const analysis = options.analysis ?? analyzeGraph(parsed);
  const kind = options.kind ?? (analysis.attentions.some((a) => a.kind === 'decoder') ? 'decoder' : 'self');
  const maskable = (sites: AttentionSite[]) => sites.filter((a) => a.kind === kind && a.softmaxNode !== undefined && !a.recomputed);
  const inputName = options.inputName ?? 'head_mask';
  const merged = analysis.branches;
  const branchSites = merged?.branches.map((b) => maskable(b.attentions)) ?? [];
  const layers = merged ? branchSites[0].length : maskable(analysis.attentions).length;
  if (layers === 0) {
    const fusedOps = [...new Set(parsed.graph.nodes.filter((n) => FUSED_ATTENTION.has(n.opType)).map((n) => n.opType))];
    const fused = analysis.attentions.some((a) => a.kind === kind && a.recomputed)
      ? ` Its attention runs inside fused ${fusedOps.join(' / ') || 'attention'} operators, which keep their probabilities to themselves; ` +
        'the probabilities shown are recomputed beside them, so masking those would not change the output. ' +
        'For head importance, export the model without fused attention (a plain Softmax per layer, as Optimum and transformers.js exports have).'
      : '';
    throw new ModelError('unsupported-graph', `This model has no ${kind} attention Softmax that a head mask can act on.${fused}`);
  }
  const input = { name: inputName, elemType: DataType.FLOAT, shape: [layers, options.heads] };
  if (!merged) {
    const nodeEdits = headMaskEdits(parsed.graph, maskable(analysis.attentions), kind, inputName, HEAD_MASK_PREFIX);
    return { bytes: editGraph(bytes, parsed, { nodeEdits, inputs: [input] }), inputName, layers };
  }
  if (branchSites.some((sites) => sites.length !== layers)) {
    throw new ModelError('unsupported-graph', `The two branches of this merged decoder hold different numbers of ${kind} attention Softmax nodes, so one head mask cannot act on both.`);
  }
  const ifNode = parsed.graph.nodes[merged.node];
  const graphs = new Map<string, GraphEdits>(merged.branches.map((b, i) => {
    const graph = ifNode.attributes.find((a) => a.name === b.attribute)!.g!;
    return [b.attribute, { nodeEdits: headMaskEdits(graph, branchSites[i], kind, inputName, `${HEAD_MASK_PREFIX}${b.attribute}/`) }];
  }));
  const out = editGraph(bytes, parsed, { nodeEdits: new Map([[merged.node, { graphs }]]), inputs: [input] });
  return { bytes: out, inputName, layers };
}

/**
 * The head mask in one graph (the main one, or a branch of a merged decoder's `If`): each site's Softmax output is
 * renamed `…/unmasked`, and right after the Softmax (a branch's nodes must stay in topological order) come the nodes
 * that multiply it by its layer's row of the mask, [1, heads, 1, 1], under the Softmax's old output name.
 * @param sites the graph's attention sites; their `softmaxNode` indexes `graph.nodes`, their layer the mask's row.
 * @param prefix the names of the new nodes and values, distinct per graph.
 */
function headMaskEdits(graph: OnnxGraph, sites: AttentionSite[], kind: AttentionKind, inputName: string, prefix: string): Map<number, NodeEdits> {
  const edits = new Map<number, NodeEdits>();
  for (const site of sites) {
    const softmax = site.softmaxNode as number;
    if (site.output !== graph.nodes[softmax].outputs[0]) {
      throw new ModelError('unsupported-graph', 'This model already has a head mask.');
    }
    const p = `${prefix}${kind}${site.layer}/`;
    const raw = `${site.output}/unmasked`;
    edits.set(softmax, {
      renameOutputs: new Map([[site.output, raw]]),
      insertAfter: [
        { opType: 'Constant', inputs: [], outputs: [`${p}layer`], name: `${p}layer`, attributes: [{ name: 'value', tensor: { dataType: DataType.INT64, dims: [], values: [site.layer] } }] },
        { opType: 'Constant', inputs: [], outputs: [`${p}shape`], name: `${p}shape`, attributes: [{ name: 'value', tensor: { dataType: DataType.INT64, dims: [4], values: [1, -1, 1, 1] } }] },
        { opType: 'Gather', inputs: [inputName, `${p}layer`], outputs: [`${p}heads`], name: `${p}gather`, attributes: [{ name: 'axis', int: 0 }] },
        { opType: 'Reshape', inputs: [`${p}heads`, `${p}shape`], outputs: [`${p}scale`], name: `${p}reshape` },
        { opType: 'Mul', inputs: [raw, `${p}scale`], outputs: [site.output], name: `${p}mul` },
      ],
    });
  }
  return edits;
}
