/**
 * Hidden-state views: how large each token's residual stream is after each layer (its L2 norm),
 * how much each layer changed it (the norm of its update), and which neurons of one token fire
 * hardest. Norms grow through depth and outlier dimensions
 * dominate them, which is exactly what the heatmap is meant to show.
 */
import type { AttentionResult, HiddenStateTensor, TokenView } from '../protocol/engineApi';
import type { ActivationView, NeuronValue } from '../protocol/webviewMessages';

export interface ActivationGrid {
  stack: 'encoder' | 'decoder';
  tokens: TokenView[];
  /** Hidden-state indices: 0 = embeddings, i = after layer i. */
  layers: number[];
  /** [token][layer] L2 norms. */
  norms: Float32Array;
  /** [token][layer − 1] ‖h_{i+1} − h_i‖: how much each layer wrote into each token's residual stream. */
  updates: Float32Array;
  hiddenSize: number;
}

function stackTensors(result: AttentionResult, stack: 'encoder' | 'decoder'): HiddenStateTensor[] {
  return result.hiddenStates.filter((h) => h.stack === stack).sort((a, b) => a.index - b.index);
}

/** Token × layer norms of one stack, or undefined when the engine returned no hidden states. */
export function activationGrid(result: AttentionResult, stack: 'encoder' | 'decoder' = 'encoder'): ActivationGrid | undefined {
  const tensors = stackTensors(result, stack);
  if (tensors.length === 0) return undefined;
  const [, seq, hidden] = tensors[0].shape;
  const L = tensors.length;
  const norms = new Float32Array(seq * L);
  const updates = new Float32Array(seq * Math.max(0, L - 1));
  tensors.forEach((t, li) => {
    const previous = li > 0 ? tensors[li - 1].data : undefined;
    for (let s = 0; s < seq; s++) {
      let sum = 0;
      let change = 0;
      const base = s * hidden;
      for (let d = 0; d < hidden; d++) {
        const x = t.data[base + d];
        sum += x * x;
        if (previous) change += (x - previous[base + d]) ** 2;
      }
      norms[s * L + li] = Math.sqrt(sum);
      if (previous) updates[s * (L - 1) + li - 1] = Math.sqrt(change);
    }
  });
  const tokens = stack === 'decoder' ? result.encoded.decoder?.tokens ?? [] : result.encoded.tokens;
  return { stack, tokens: tokens.slice(0, seq), layers: tensors.map((t) => t.index), norms, updates, hiddenSize: hidden };
}

/** The neurons with the largest |activation| for one token at one hidden-state index. */
export function topNeurons(result: AttentionResult, stack: 'encoder' | 'decoder', layerIndex: number, token: number, count = 10): NeuronValue[] {
  const t = stackTensors(result, stack).find((h) => h.index === layerIndex);
  if (!t) return [];
  const [, seq, hidden] = t.shape;
  if (token < 0 || token >= seq) return [];
  const row = t.data.subarray(token * hidden, (token + 1) * hidden);
  const order = Array.from(row.keys()).sort((a, b) => Math.abs(row[b]) - Math.abs(row[a])).slice(0, count);
  return order.map((d) => {
    let mean = 0;
    for (let s = 0; s < seq; s++) mean += t.data[s * hidden + d];
    mean /= seq;
    let v = 0;
    for (let s = 0; s < seq; s++) v += (t.data[s * hidden + d] - mean) ** 2;
    const sd = Math.sqrt(v / seq);
    return { neuron: d, value: row[d], z: sd > 0 ? (row[d] - mean) / sd : 0 };
  });
}

/** The activation heatmaps of both stacks (encoder only, for encoder-only and decoder-only models). */
export function activationViews(result: AttentionResult): ActivationView[] {
  const out: ActivationView[] = [];
  for (const stack of ['encoder', 'decoder'] as const) {
    const grid = activationGrid(result, stack);
    if (!grid) continue;
    out.push({ stack, tokens: grid.tokens.map((t) => ({ text: t.text, special: t.special })), layers: grid.layers, norms: grid.norms, updates: grid.updates, hiddenSize: grid.hiddenSize });
  }
  return out;
}
