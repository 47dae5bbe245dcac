import type { CoalitionCache } from './coalitionCache';
import { changeBetween } from './convergence';
import type { MethodEstimate } from './estimate';
import { KernelRegressionSums, binomial, shapleyKernelWeight, solveKernelRegression } from './kernelRegression';

/** Exact enumeration evaluates 2^n coalitions; 14 features is 16,384 evaluations. */
export const MAX_EXACT_FEATURES = 14;

/**
 * Exact Shapley values by enumerating every coalition:
 *   φ_j = Σ_{S ⊆ N∖{j}} |S|!(n−|S|−1)!/n! · (f(S ∪ {j}) − f(S)).
 *
 * Coalitions go out one pair of size layers per call (sizes 0, n, 1, n−1 first, then 2 and n−2, …). After each
 * call but the last, the estimate is the KernelSHAP regression on the complete layers so far (an unbiased
 * use of what has been evaluated); the final estimate is the enumeration formula above.
 */
export async function* exactShapley(n: number, cache: CoalitionCache): AsyncGenerator<MethodEstimate> {
  if (n > MAX_EXACT_FEATURES) throw new Error(`exact Shapley is limited to ${MAX_EXACT_FEATURES} features`);
  const total = 1 << n;
  const bySize: number[][] = Array.from({ length: n + 1 }, () => []);
  for (let m = 0; m < total; m++) bySize[popcount(m)].push(m);

  const maskValue = new Float64Array(total);
  const chunks: number[][] = [[0, n, 1, n - 1]];
  for (let s = 2; s <= n - s; s++) chunks.push(s === n - s ? [s] : [s, n - s]);

  let sums: KernelRegressionSums | undefined;
  let previous: Float64Array | undefined;
  let base = 0;
  let full = 0;
  for (let c = 0; c < chunks.length; c++) {
    const sizes = [...new Set(chunks[c])];
    const masks: number[] = [];
    for (const s of sizes) masks.push(...bySize[s]);
    const values = await cache.evaluate(masks.map((m) => toCoalition(m, n)));
    masks.forEach((m, i) => (maskValue[m] = values[i]));
    if (c === 0) {
      base = maskValue[0];
      full = maskValue[total - 1];
      sums = new KernelRegressionSums(n, full - base);
    }
    if (c === chunks.length - 1) break;
    const acc = sums as KernelRegressionSums;
    for (const s of sizes) {
      if (s === 0 || s === n) continue;
      const w = shapleyKernelWeight(n, s);
      for (const m of bySize[s]) acc.add(toCoalition(m, n), w, maskValue[m] - base);
    }
    const phi = solveKernelRegression([[acc, 1]], n, full - base);
    const progress: MethodEstimate = { values: phi, baseValue: base, fullValue: full, final: false };
    if (previous) progress.error = changeBetween(phi, previous);
    previous = phi;
    yield progress;
  }

  // w(s) = s!(n−s−1)!/n! = 1 / (n · C(n−1, s)).
  const weight = new Float64Array(n);
  for (let s = 0; s < n; s++) weight[s] = 1 / (n * binomial(n - 1, s));
  const phi = new Float64Array(n);
  for (let m = 0; m < total; m++) {
    const v = maskValue[m];
    const s = popcount(m);
    for (let j = 0; j < n; j++) {
      if (m & (1 << j)) phi[j] += weight[s - 1] * v;
      else phi[j] -= weight[s] * v;
    }
  }
  yield { values: phi, baseValue: base, fullValue: full, final: true, error: { perFeature: new Float64Array(n), max: 0, kind: 'exact' } };
}

function popcount(m: number): number {
  let c = 0;
  while (m) {
    m &= m - 1;
    c++;
  }
  return c;
}

function toCoalition(mask: number, n: number): Uint8Array {
  const z = new Uint8Array(n);
  for (let j = 0; j < n; j++) if (mask & (1 << j)) z[j] = 1;
  return z;
}
