import type { CoalitionCache } from './coalitionCache';
import { emptyCoalition, fullCoalition } from './coalitionCache';
import type { MethodEstimate } from './estimate';

/**
 * Leave-one-out occlusion: φ_j = f(full) − f(full without j). Exact, in one call of n + 2 coalitions
 * (the empty one too, for the base value).
 */
export async function* occlusion(n: number, cache: CoalitionCache): AsyncGenerator<MethodEstimate> {
  yield* occlusionWindow(n, cache, 1);
}

/**
 * Sliding-window occlusion (as Captum's Occlusion with stride 1): every window of w consecutive features is
 * removed at once, δ = f(full) − f(full without the window), and each feature gets the mean δ of the windows
 * that contain it. Windows wider than the input shrink to the whole input. One call of n − w + 3 coalitions.
 */
export async function* occlusionWindow(n: number, cache: CoalitionCache, window: number): AsyncGenerator<MethodEstimate> {
  const w = Math.min(window, n);
  const windows = n - w + 1;
  const coalitions = [fullCoalition(n), emptyCoalition(n)];
  for (let start = 0; start < windows; start++) {
    const z = fullCoalition(n);
    z.fill(0, start, start + w);
    coalitions.push(z);
  }
  const out = await cache.evaluate(coalitions);
  const fullValue = out[0];
  const baseValue = out[1];
  const sum = new Float64Array(n);
  const count = new Float64Array(n);
  for (let start = 0; start < windows; start++) {
    const delta = fullValue - out[2 + start];
    for (let j = start; j < start + w; j++) {
      sum[j] += delta;
      count[j]++;
    }
  }
  const values = new Float64Array(n);
  for (let j = 0; j < n; j++) values[j] = sum[j] / count[j];
  yield { values, baseValue, fullValue, final: true, error: { perFeature: new Float64Array(n), max: 0, kind: 'exact' } };
}
