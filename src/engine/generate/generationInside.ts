import type { GenerationPosition } from '../../protocol/engineApi';
import { lensLogits, topIndices } from '../inspect/logitLens';
import { stackStates } from '../inspect/modelGraph';
import type { LoadedModel } from '../model/loadedModel';
import { logSumExp } from './sampling';

/**
 * What happened inside the model where each generated token was chosen: one run over the prompt and the
 * generated tokens with attention and hidden states exposed (causal, so later tokens change nothing earlier).
 * For generated token j the position read is the one before it; there, each layer's attention (mean of its
 * heads) over the positions up to it, and the logit lens: each hidden state through the model's own final norm
 * and head, its top token, and the generated token's rank and probability. What the model hides (fused or
 * merged-decoder attention, a graph the lens cannot cut) is left out and said in the note.
 */
export async function generationPositions(
  model: LoadedModel,
  ids: number[],
  promptLength: number,
  generated: number[],
): Promise<{ positions: GenerationPosition[]; note?: string }> {
  const notes: string[] = [];
  const input = await model.prepareIds(ids);
  const exposed = await model.runExposed(input);
  const positions: GenerationPosition[] = generated.map((_, step) => ({ step, position: promptLength + step - 1 }));
  const attentions = exposed.attentions.filter((a) => a.kind === 'self').sort((a, b) => a.layer - b.layer);
  if (attentions.length === 0) notes.push(exposed.note ?? 'This model hides its attention probabilities.');
  for (const a of attentions) {
    const [, heads, queries, keys] = a.shape;
    for (const p of positions) {
      if (p.position < 0 || p.position >= queries) continue;
      const weights = new Array<number>(p.position + 1).fill(0);
      for (let h = 0; h < heads; h++) {
        const row = (h * queries + p.position) * keys;
        for (let k = 0; k <= p.position && k < keys; k++) weights[k] += a.data[row + k] / heads;
      }
      (p.attention ??= []).push({ layer: a.layer, weights });
    }
  }
  const states = stackStates(exposed.hiddenStates);
  if (states.length === 0) {
    notes.push('The logit lens needs hidden states, which this model does not expose.');
  } else {
    const dim = states[0].shape[2];
    const seq = states[0].shape[1];
    const read = positions.filter((p) => p.position >= 0 && p.position < seq);
    const vectors = new Float32Array(states.length * read.length * dim);
    const tokenIds: number[] = [];
    states.forEach((s, i) => {
      read.forEach((p, r) => {
        vectors.set(s.data.subarray(p.position * dim, (p.position + 1) * dim), (i * read.length + r) * dim);
        tokenIds.push(ids[p.position]);
      });
    });
    try {
      await lensLogits(model, vectors, dim, tokenIds, (row, logits) => {
        const i = Math.floor(row / read.length);
        const p = read[row % read.length];
        const target = generated[p.step];
        // Two probabilities are read: no vocabulary-wide log-softmax per row.
        const lse = logSumExp(logits);
        const [best] = topIndices(logits, 1);
        let rank = 0;
        for (let j = 0; j < logits.length; j++) if (logits[j] > logits[target]) rank++;
        (p.lens ??= [])[i] = {
          index: states[i].index,
          top: { id: best, label: model.tokenizer.displayToken(best), probability: Math.exp(logits[best] - lse) },
          rank,
          probability: Math.exp(logits[target] - lse),
        };
      });
    } catch (err) {
      for (const p of positions) delete p.lens;
      notes.push(`The logit lens is not available for this model: ${(err as Error).message}`);
    }
  }
  return { positions, note: notes.length ? notes.join(' ') : undefined };
}
