import { checkPosition, layerRange, residualAttention, type AttentionLayer, type RolloutOptions } from './attentionRollout';

export interface FlowResult {
  /** Max-flow from each input token (before `fromLayer`) to the output position (after `toLayer`), each on its own. */
  flow: Float64Array;
  /**
   * Each token's max-flow divided by the sum over the tokens, as Abnar & Zuidema's code normalises them: these
   * sum to 1. The flows themselves do not: each is computed as if its token were the only source, so paths
   * are shared (each is at most 1, their sum up to the number of tokens).
   */
  shares: Float64Array;
  size: number;
}

/** Residual capacities below this count as saturated, so float round-off cannot keep a path alive. */
const EPS = 1e-12;

/**
 * Attention flow (Abnar & Zuidema 2020): the layered graph has a node per (layer boundary, token); the edge
 * from token j below layer l to token i above it has capacity Ã_l[i,j] (the residual-adjusted, head-averaged
 * attention). A token's score is the maximum flow from it to the output position at the top, and its share is
 * that flow over the sum of all tokens' flows.
 *
 * Dinic's algorithm, once per input token, on a graph built once: V = (L+1)·S nodes, E = L·S² edges, so the
 * worst case is O(S · V²E); in practice the layered structure keeps the number of phases small (a few per
 * source), so each source costs a few O(E) passes. Edges into top-boundary tokens other than the output
 * position are left out since no flow can continue from them.
 */
export function attentionFlow(layers: AttentionLayer[], outputPosition: number, options: RolloutOptions = {}): FlowResult {
  const { from, to, size: s } = layerRange(layers, options.fromLayer, options.toLayer);
  checkPosition(outputPosition, s);
  const depth = to - from + 1;
  const nodes = (depth + 1) * s;
  const node = (boundary: number, token: number): number => boundary * s + token;

  // Edge list in CSR-like arrays; each edge has its reverse at index ^ 1.
  const heads: number[] = [];
  const caps: number[] = [];
  const tails: number[] = [];
  for (let l = 0; l < depth; l++) {
    const a = residualAttention(layers[from + l], options.residualWeight);
    const top = l === depth - 1;
    for (let i = 0; i < s; i++) {
      if (top && i !== outputPosition) continue;
      for (let j = 0; j < s; j++) {
        const c = a[i * s + j];
        if (c <= EPS) continue;
        tails.push(node(l, j), node(l + 1, i));
        heads.push(node(l + 1, i), node(l, j));
        caps.push(c, 0);
      }
    }
  }
  const edgeCount = heads.length;
  const start = new Int32Array(nodes + 1);
  for (let e = 0; e < edgeCount; e++) start[tails[e] + 1]++;
  for (let v = 0; v < nodes; v++) start[v + 1] += start[v];
  const order = new Int32Array(edgeCount);
  const fill = start.slice(0, nodes);
  for (let e = 0; e < edgeCount; e++) order[fill[tails[e]]++] = e;
  const head = Int32Array.from(heads);
  const capacity = Float64Array.from(caps);
  const residual = new Float64Array(edgeCount);
  const level = new Int32Array(nodes);
  const cursor = new Int32Array(nodes);
  const queue = new Int32Array(nodes);
  const sink = node(depth, outputPosition);

  const bfs = (source: number): boolean => {
    level.fill(-1);
    level[source] = 0;
    let qh = 0;
    let qt = 0;
    queue[qt++] = source;
    while (qh < qt) {
      const v = queue[qh++];
      for (let p = start[v]; p < start[v + 1]; p++) {
        const e = order[p];
        const w = head[e];
        if (level[w] < 0 && residual[e] > EPS) {
          level[w] = level[v] + 1;
          queue[qt++] = w;
        }
      }
    }
    return level[sink] >= 0;
  };

  const dfs = (v: number, pushed: number): number => {
    if (v === sink) return pushed;
    for (; cursor[v] < start[v + 1]; cursor[v]++) {
      const e = order[cursor[v]];
      const w = head[e];
      if (level[w] !== level[v] + 1 || residual[e] <= EPS) continue;
      const got = dfs(w, Math.min(pushed, residual[e]));
      if (got > 0) {
        residual[e] -= got;
        residual[e ^ 1] += got;
        return got;
      }
    }
    return 0;
  };

  const flow = new Float64Array(s);
  for (let token = 0; token < s; token++) {
    residual.set(capacity);
    const source = node(0, token);
    let total = 0;
    while (bfs(source)) {
      for (let v = 0; v < nodes; v++) cursor[v] = start[v];
      for (;;) {
        const got = dfs(source, Infinity);
        if (!(got > EPS)) break;
        total += got;
      }
    }
    flow[token] = total;
  }
  const sum = flow.reduce((a, x) => a + x, 0);
  const shares = sum > 0 ? flow.map((x) => x / sum) : new Float64Array(s);
  return { flow, shares, size: s };
}
