import { OnnxGraph, OnnxNode, OnnxTensor, tensorNumbers } from './onnxProto';

/** Operators that multiply an activation by a learned weight (float or 8-bit). */
export const PROJECTION_OPS = new Set([
  'MatMul', 'Gemm', 'MatMulInteger', 'FusedMatMul', 'DynamicQuantizeMatMul', 'MatMulIntegerToFloat', 'QLinearMatMul',
  'MatMulNBits',
]);

/** Operators whose inputs after the first are shapes, indices or bounds, not data flowing through. */
const SHAPE_LIKE_SECOND_INPUTS = new Set(['Reshape', 'Slice', 'Unsqueeze', 'Squeeze', 'Expand', 'Tile', 'Split', 'Pad']);

/**
 * Lookup tables over one graph: who produces and who consumes each tensor, which tensors are constant,
 * and a topological position for every node.
 */
export class GraphIndex {
  readonly producer = new Map<string, number>();
  readonly consumers = new Map<string, number[]>();
  readonly initializers = new Map<string, OnnxTensor>();
  readonly graphInputs = new Set<string>();
  /** Topological position of each node, by node index. */
  readonly position: number[];
  private readonly constantMemo = new Map<string, boolean>();

  constructor(readonly graph: OnnxGraph) {
    for (const t of graph.initializers) this.initializers.set(t.name, t);
    for (const i of graph.inputs) if (!this.initializers.has(i.name)) this.graphInputs.add(i.name);
    graph.nodes.forEach((n, i) => {
      for (const o of n.outputs) if (o) this.producer.set(o, i);
      for (const x of n.inputs) {
        if (!x) continue;
        const list = this.consumers.get(x);
        if (list) list.push(i);
        else this.consumers.set(x, [i]);
      }
    });
    this.position = this.topologicalPositions();
  }

  get nodes(): OnnxNode[] {
    return this.graph.nodes;
  }

  private topologicalPositions(): number[] {
    const n = this.graph.nodes.length;
    const pending = new Array<number>(n).fill(0);
    this.graph.nodes.forEach((node, i) => {
      pending[i] = new Set(node.inputs.filter((x) => x && this.producer.has(x))).size;
    });
    const position = new Array<number>(n).fill(-1);
    const ready: number[] = [];
    for (let i = n - 1; i >= 0; i--) if (pending[i] === 0) ready.push(i);
    let next = 0;
    while (ready.length) {
      const i = ready.pop() as number;
      position[i] = next++;
      const released: number[] = [];
      for (const o of new Set(this.graph.nodes[i].outputs)) {
        // A node consuming the same tensor twice counted it once.
        for (const c of new Set(this.consumers.get(o) ?? [])) if (--pending[c] === 0) released.push(c);
      }
      // Keep file order among nodes released together, so ties follow the exporter's order.
      released.sort((a, b) => b - a);
      ready.push(...released);
    }
    // Nodes on a cycle (invalid graphs) keep file order after the rest.
    for (let i = 0; i < n; i++) if (position[i] < 0) position[i] = next++;
    return position;
  }

  /** The node producing a tensor, or undefined for graph inputs, initializers and unknown names. */
  producerOf(tensor: string): OnnxNode | undefined {
    const i = this.producer.get(tensor);
    return i === undefined ? undefined : this.graph.nodes[i];
  }

  consumersOf(tensor: string): OnnxNode[] {
    return (this.consumers.get(tensor) ?? []).map((i) => this.graph.nodes[i]);
  }

  /** Topological position of the producer of a tensor; -1 for inputs and initializers. */
  positionOf(tensor: string): number {
    const i = this.producer.get(tensor);
    return i === undefined ? -1 : this.position[i];
  }

  /** True when a tensor's value does not depend on any graph input (initializers, Constant, folded chains). */
  isConstant(tensor: string): boolean {
    if (!tensor) return true;
    const memo = this.constantMemo.get(tensor);
    if (memo !== undefined) return memo;
    if (this.initializers.has(tensor)) return true;
    if (this.graphInputs.has(tensor)) return false;
    const stack: string[] = [tensor];
    // Iterative post-order so deep graphs cannot overflow the call stack.
    while (stack.length) {
      const t = stack[stack.length - 1];
      if (this.constantMemo.has(t)) {
        stack.pop();
        continue;
      }
      if (this.initializers.has(t)) {
        this.constantMemo.set(t, true);
        stack.pop();
        continue;
      }
      const p = this.producerOf(t);
      if (!p) {
        this.constantMemo.set(t, !this.graphInputs.has(t) && t === '');
        stack.pop();
        continue;
      }
      if (p.opType === 'Constant') {
        this.constantMemo.set(t, true);
        stack.pop();
        continue;
      }
      const unknown = p.inputs.filter((x) => x && !this.constantMemo.has(x) && !this.initializers.has(x));
      if (unknown.length && p.inputs.length) {
        stack.push(...unknown);
        continue;
      }
      const value = p.inputs.length > 0 && p.inputs.every((x) => !x || this.initializers.has(x) || this.constantMemo.get(x) === true);
      this.constantMemo.set(t, value);
      stack.pop();
    }
    return this.constantMemo.get(tensor) === true;
  }

  /** The value of a small constant tensor: an initializer, a Constant node, or Cast/Identity/Unsqueeze/Concat of those. */
  constantValues(tensor: string, depth = 0): number[] | undefined {
    if (depth > 8) return undefined;
    const init = this.initializers.get(tensor);
    if (init) return tensorNumbers(init);
    const p = this.producerOf(tensor);
    if (!p) return undefined;
    switch (p.opType) {
      case 'Constant': {
        const a = p.attributes[0];
        if (!a) return undefined;
        if (a.t) return tensorNumbers(a.t);
        if (a.name === 'value_int' && a.i !== undefined) return [a.i];
        if (a.name === 'value_ints') return a.ints;
        if (a.name === 'value_float' && a.f !== undefined) return [a.f];
        if (a.name === 'value_floats') return a.floats;
        return undefined;
      }
      case 'Cast': case 'Identity': case 'Unsqueeze': case 'Squeeze': case 'Reshape':
        return this.constantValues(p.inputs[0], depth + 1);
      case 'Concat': {
        const parts = p.inputs.map((x) => this.constantValues(x, depth + 1));
        return parts.every((x) => x !== undefined) ? (parts as number[][]).flat() : undefined;
      }
      default:
        return undefined;
    }
  }

  /** Dims of a constant tensor when known (initializer or Constant node). */
  constantDims(tensor: string): number[] | undefined {
    const init = this.initializers.get(tensor);
    if (init) return init.dims;
    const p = this.producerOf(tensor);
    if (p?.opType === 'Constant' && p.attributes[0]?.t) return p.attributes[0].t.dims;
    return undefined;
  }

  /** Inputs of a node that carry data (not shapes/bounds), excluding constants. */
  dataInputs(node: OnnxNode): string[] {
    const ins = SHAPE_LIKE_SECOND_INPUTS.has(node.opType) ? node.inputs.slice(0, 1) : node.inputs;
    return ins.filter((x) => x && !this.isConstant(x));
  }

  /** True for a projection node whose weight input is constant (a learned linear layer). */
  isWeightedProjection(node: OnnxNode): boolean {
    if (!PROJECTION_OPS.has(node.opType)) return false;
    const dynamic = node.inputs.slice(0, 2).filter((x) => x && !this.isConstant(x));
    return dynamic.length === 1;
  }

  /**
   * True when `ancestor` feeds `tensor` through data edges (Shape/Size edges do not count: they carry no
   * values) and the path passes a weighted projection. Search is confined to nodes after the ancestor's
   * producer in topological order.
   */
  feedsThroughProjection(ancestor: string, tensor: string): boolean {
    const floor = this.positionOf(ancestor);
    const seen = new Set<string>([tensor]);
    const stack = [tensor];
    let reached = false;
    const onPath = new Set<number>();
    while (stack.length) {
      const t = stack.pop() as string;
      if (t === ancestor) {
        reached = true;
        continue;
      }
      const pi = this.producer.get(t);
      if (pi === undefined || this.position[pi] <= floor) continue;
      const p = this.graph.nodes[pi];
      if (p.opType === 'Shape' || p.opType === 'Size' || p.opType === 'ConstantOfShape') continue;
      onPath.add(pi);
      for (const x of p.inputs) {
        if (!x || seen.has(x) || this.isConstant(x)) continue;
        seen.add(x);
        stack.push(x);
      }
    }
    if (!reached) return false;
    for (const i of onPath) if (this.isWeightedProjection(this.graph.nodes[i])) return true;
    return false;
  }
}
