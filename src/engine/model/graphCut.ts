import type { BranchExposure } from './graphSurgery';
import { DataType, editGraph, type GraphEdits, type NewInput, type NewNode, type NewTensor, type OnnxModel } from './onnxProto';

/** What a cut tensor's original producer output is renamed to: the replacement may read it, or leave it dangling. */
export function cutName(tensor: string): string {
  return `${tensor}/onnxLens_cut`;
}

/**
 * Cuts a graph at one tensor: the output of the node that produces it is renamed {@link cutName}, and new nodes
 * write the tensor's name again, so every consumer reads what they make of it. The logit lens writes it from a
 * new graph input (any hidden state through the model's own final norm and head); the output head reads it
 * gathered at the positions a prediction is read at (the head then runs on those rows only). Everything else in
 * the file is kept byte for byte.
 * @returns the new model bytes, or undefined when no node produces the tensor (a graph input or initializer).
 */
export function cutGraphAt(
  bytes: Uint8Array,
  parsed: OnnxModel,
  tensor: string,
  replacement: { nodes: NewNode[]; inputs?: NewInput[]; initializers?: NewTensor[] },
): Uint8Array | undefined {
  const producer = parsed.graph.nodes.findIndex((n) => n.outputs.includes(tensor));
  if (producer < 0) return undefined;
  return editGraph(bytes, parsed, {
    renameOutputs: new Map([[producer, new Map([[tensor, cutName(tensor)]])]]),
    nodes: replacement.nodes,
    inputs: replacement.inputs,
    initializers: replacement.initializers,
  });
}

/**
 * {@link cutGraphAt} inside both branches of a merged decoder's If: in each branch the tensor behind one of the
 * exposed outputs ({@link BranchExposure}) is cut, and the nodes `replacement` gives for it, written right after the
 * cut node, write it again (they may read new inputs of the main graph, which a branch sees, but not tensors the branch
 * computes later). The branch that runs then continues from them.
 * @returns the new model bytes, or undefined when a branch does not compute that tensor itself.
 */
export function cutBranchesAt(
  bytes: Uint8Array,
  parsed: OnnxModel,
  exposure: BranchExposure,
  output: string,
  replacement: { nodes: (tensor: string, branch: string) => NewNode[]; inputs?: NewInput[] },
): Uint8Array | undefined {
  const at = exposure.outputs.indexOf(output);
  const ifNode = parsed.graph.nodes[exposure.node];
  if (at < 0 || !ifNode) return undefined;
  const graphs = new Map<string, GraphEdits>();
  for (const b of exposure.branches) {
    const tensor = b.tensors[at];
    const producer = ifNode.attributes.find((a) => a.name === b.attribute)?.g?.nodes.findIndex((n) => n.outputs.includes(tensor)) ?? -1;
    if (producer < 0) return undefined;
    // Written right after the producer: a branch's nodes must stay in topological order.
    const nodeEdits = new Map([[producer, { renameOutputs: new Map([[tensor, cutName(tensor)]]), insertAfter: replacement.nodes(tensor, b.attribute) }]]);
    graphs.set(b.attribute, { nodeEdits });
  }
  return editGraph(bytes, parsed, { nodeEdits: new Map([[exposure.node, { graphs }]]), inputs: replacement.inputs });
}

/** Name of the graph input that says, per row of a batch, which flattened (batch × position) row the head reads. */
export const READ_ROWS_INPUT = 'onnxLens/read_rows';

/** Operators that act on each element (or broadcast a constant) and so keep a position-wise head position-wise. */
const ELEMENTWISE = new Set(['Add', 'Sub', 'Mul', 'Div', 'Cast', 'Identity', 'Tanh', 'Relu', 'Sigmoid', 'Neg']);
/** Projections an output head is made of (float, or integer after dynamic quantization). */
const PROJECTIONS = new Set(['MatMul', 'MatMulInteger', 'FusedMatMul']);

/**
 * The model's graph with its output head applied only at one position per row: the head's input (the activation
 * entering its final projection, as that projection reads it — float, or already quantized to 8 bits, so a
 * dynamic quantization scale is the one the whole sequence gave) is gathered at `READ_ROWS_INPUT` (int64 [B]:
 * row b reads flattened row b·S + position) before the projection, so the logits come out [B, 1, V] instead
 * of [B, S, V]. For a GPT-2-sized vocabulary at 500 tokens that is 200 KB per row instead of 100 MB.
 *
 * Only heads made of one projection followed by element-wise operators are cut; the projection's input must
 * have no other reader. Otherwise returns undefined and the caller runs the whole graph.
 */
export function readPositionGraph(bytes: Uint8Array, parsed: OnnxModel, output = 'logits'): Uint8Array | undefined {
  const activation = readPositionCut(parsed, output);
  if (activation === undefined) return undefined;
  return cutGraphAt(bytes, parsed, activation, {
    nodes: [
      { opType: 'Flatten', name: 'onnxLens/read_flatten', inputs: [cutName(activation)], outputs: ['onnxLens/read_flat'], attributes: [{ name: 'axis', int: 2 }] },
      { opType: 'Gather', name: 'onnxLens/read_gather', inputs: ['onnxLens/read_flat', READ_ROWS_INPUT], outputs: ['onnxLens/read_gathered'], attributes: [{ name: 'axis', int: 0 }] },
      { opType: 'Reshape', name: 'onnxLens/read_reshape', inputs: ['onnxLens/read_gathered', 'onnxLens/read_shape'], outputs: [activation] },
    ],
    initializers: [{ name: 'onnxLens/read_shape', dataType: DataType.INT64, dims: [3], values: [0, 1, -1] }],
    inputs: [{ name: READ_ROWS_INPUT, elemType: DataType.INT64, shape: ['read_rows'] }],
  });
}

/**
 * Where {@link readPositionGraph} cuts: the activation entering the output head's projection, or undefined when the
 * head cannot be cut. Reads only the graph's structure (names, operators, which tensors are initializers), so a parse
 * without tensor values will do.
 */
export function readPositionCut(parsed: OnnxModel, output = 'logits'): string | undefined {
  const nodes = parsed.graph.nodes;
  const producerOf = new Map<string, number>();
  nodes.forEach((n, i) => n.outputs.forEach((o) => producerOf.set(o, i)));
  const readers = new Map<string, number>();
  for (const n of nodes) for (const i of n.inputs) readers.set(i, (readers.get(i) ?? 0) + 1);
  for (const o of parsed.graph.outputs) readers.set(o.name, (readers.get(o.name) ?? 0) + 1);
  const constants = new Set(parsed.graph.initializers.map((t) => t.name));
  const positionFree = (name: string): boolean => {
    // An initializer, or computed from initializers and per-tensor scalars (a quantization scale); not from the sequence.
    if (constants.has(name) || name === '') return true;
    const p = producerOf.get(name);
    if (p === undefined) return false;
    const n = nodes[p];
    if (n.opType === 'DynamicQuantizeLinear') return name !== n.outputs[0];
    return n.opType === 'Mul' && n.inputs.every(positionFree);
  };

  let tensor = output;
  for (let steps = 0; steps < 8; steps++) {
    const p = producerOf.get(tensor);
    if (p === undefined) return undefined;
    const node = nodes[p];
    if (PROJECTIONS.has(node.opType)) {
      const activation = node.inputs[0];
      if (!activation || constants.has(activation) || readers.get(activation) !== 1) return undefined;
      if (!node.inputs.slice(1).every(positionFree)) return undefined;
      return activation;
    }
    if (!ELEMENTWISE.has(node.opType)) return undefined;
    const onPath = node.inputs.filter((i) => !positionFree(i));
    if (onPath.length !== 1) return undefined;
    tensor = onPath[0];
  }
  return undefined;
}
