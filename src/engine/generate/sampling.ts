import type { DecodingStrategy } from '../../protocol/engineApi';
import { SeededRandom } from '../explain/random';
import { softmax } from '../run/outputReaders';

/** How the next token is chosen. */
export interface SamplingSettings {
  strategy: DecodingStrategy;
  /** > 0; divides the logits before the filters (sampling only). */
  temperature: number;
  /** 0 = no top-k filter. */
  topK: number;
  /** 1 = no top-p filter. */
  topP: number;
}

/** log Σ exp(x) in double precision (stable), without allocating. */
export function logSumExp(x: ArrayLike<number>): number {
  let max = -Infinity;
  for (let i = 0; i < x.length; i++) if (x[i] > max) max = x[i];
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += Math.exp(x[i] - max);
  return max + Math.log(sum);
}

/** log softmax in double precision (stable). */
export function logSoftmax(logits: ArrayLike<number>): Float64Array {
  const lse = logSumExp(logits);
  const out = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = logits[i] - lse;
  return out;
}

/** The most probable token; the lowest id among equal logits (as torch.argmax). */
export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

/**
 * The distribution a sampled token is drawn from, as Hugging Face's logits warpers build it, in their order:
 * temperature (logits / T), top-k (tokens whose logit is below the k-th largest are removed; ties at the
 * k-th stay), top-p (tokens sorted from least to most probable are removed while the cumulative probability
 * up to and including them is at most 1 − p; the most probable token always stays). Returns the kept ids in
 * order of decreasing probability and their renormalised probabilities.
 */
export function samplingDistribution(logits: ArrayLike<number>, settings: SamplingSettings): { ids: number[]; probabilities: Float64Array } {
  const n = logits.length;
  const scaled = new Float64Array(n);
  for (let i = 0; i < n; i++) scaled[i] = logits[i] / settings.temperature;
  let ids = Array.from({ length: n }, (_, i) => i).sort((a, b) => scaled[b] - scaled[a] || a - b);
  if (settings.topK > 0 && settings.topK < n) {
    const kth = scaled[ids[settings.topK - 1]];
    ids = ids.filter((i) => scaled[i] >= kth);
  }
  const probabilities = softmax(ids.map((i) => scaled[i]));
  if (settings.topP < 1) {
    // From the least probable upwards: drop while the running sum stays at or below 1 − p.
    let cumulative = 0;
    let keep = ids.length;
    for (let r = ids.length - 1; r > 0; r--) {
      cumulative += probabilities[r];
      if (cumulative <= 1 - settings.topP) keep = r;
      else break;
    }
    ids = ids.slice(0, keep);
    return { ids, probabilities: softmax(ids.map((i) => scaled[i])) };
  }
  return { ids, probabilities };
}

/** Picks the next token: the argmax (greedy), or one draw from {@link samplingDistribution} with `rng`. */
export function chooseToken(logits: ArrayLike<number>, settings: SamplingSettings, rng: SeededRandom): number {
  if (settings.strategy === 'greedy') return argmax(logits);
  const { ids, probabilities } = samplingDistribution(logits, settings);
  const u = rng.nextFloat();
  let cumulative = 0;
  for (let r = 0; r < ids.length; r++) {
    cumulative += probabilities[r];
    if (u < cumulative) return ids[r];
  }
  return ids[ids.length - 1];
}
