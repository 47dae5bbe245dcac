import type { CoalitionCache } from './coalitionCache';
import { emptyCoalition, fullCoalition } from './coalitionCache';
import { batchMeansError } from './convergence';
import type { MethodEstimate } from './estimate';
import { KernelRegressionSums, binomial, solveKernelRegression } from './kernelRegression';
import { SeededRandom } from './random';

/** Fewest new coalitions per sampling round; smaller rounds make the batch-means error too noisy. */
const MIN_ROUND = 32;
/** Most sampling rounds (calls to the value function after the first). */
const MAX_ROUNDS = 8;

/**
 * KernelSHAP (Lundberg & Lee 2017) following the shap library's KernelExplainer:
 *  1. The Shapley kernel puts weight (n−1)/(s(n−s)) on coalition size s (sizes s and n−s paired).
 *  2. Size layers are enumerated completely, smallest first, while the budget covers each layer's share of
 *     the kernel weight (shap's rule), and get their exact kernel weights.
 *  3. The remaining budget is sampled: a size drawn with the remaining kernel weight, then a uniform coalition
 *     of that size together with its complement (paired sampling). Repeats add weight instead of evaluations;
 *     sampled weights are normalised to the kernel weight of the layers not enumerated.
 *  4. The weighted least squares is solved with Σφ = f(full) − f(∅) enforced exactly.
 * With every coalition affordable (budget ≥ 2^n) all layers are enumerated and the result is the exact
 * Shapley values. Sampling happens in rounds (one call each); the estimate after each round uses all samples,
 * its error is the batch-means standard error over the rounds' separate estimates.
 */
export async function* kernelShap(n: number, cache: CoalitionCache, budget: number, seed: number): AsyncGenerator<MethodEstimate> {
  const rng = new SeededRandom(seed);
  const numSubsetSizes = Math.ceil((n - 1) / 2);
  const numPaired = Math.floor((n - 1) / 2);
  const weightVector = new Float64Array(numSubsetSizes);
  for (let i = 0; i < numSubsetSizes; i++) {
    const s = i + 1;
    weightVector[i] = ((n - 1) / (s * (n - s))) * (s <= numPaired ? 2 : 1);
  }
  normalise(weightVector);

  // Plan the enumerated layers for the whole budget (full and empty are not samples).
  let samplesLeft = budget - 2;
  let numFull = 0;
  const remaining = Float64Array.from(weightVector);
  const fixed: Array<{ mask: Uint8Array; weight: number }> = [];
  for (let s = 1; s <= numSubsetSizes; s++) {
    const paired = s <= numPaired;
    const nsubsets = binomial(n, s) * (paired ? 2 : 1);
    if (!((samplesLeft * remaining[s - 1]) / nsubsets >= 1 - 1e-8)) break;
    numFull++;
    samplesLeft -= nsubsets;
    if (remaining[s - 1] < 1) {
      const d = 1 - remaining[s - 1];
      for (let i = 0; i < remaining.length; i++) remaining[i] /= d;
    }
    const w = weightVector[s - 1] / binomial(n, s) / (paired ? 2 : 1);
    forEachCombination(n, s, (mask) => {
      fixed.push({ mask, weight: w });
      if (paired) fixed.push({ mask: complement(mask), weight: w });
    });
  }
  const sampling = numFull < numSubsetSizes && samplesLeft > 0;
  let weightLeft = 0;
  for (let i = numFull; i < numSubsetSizes; i++) weightLeft += weightVector[i];

  // Sizes still to sample, with the per-draw probability halved for paired sizes (a draw yields two coalitions).
  const sizeCumulative = new Float64Array(Math.max(0, numSubsetSizes - numFull));
  for (let i = numFull, acc = 0; i < numSubsetSizes; i++) {
    acc += weightVector[i] / (i + 1 <= numPaired ? 2 : 1);
    sizeCumulative[i - numFull] = acc;
  }
  const rounds = !sampling ? 0 : samplesLeft < 2 * MIN_ROUND ? 1 : Math.min(MAX_ROUNDS, Math.max(2, Math.floor(samplesLeft / MIN_ROUND)));
  const drawn = new Set<string>();
  const scratch = Int32Array.from({ length: n }, (_, j) => j);
  const picked = new Int32Array(n);

  const drawRound = (target: number): Uint8Array[] => {
    const draws: Uint8Array[] = [];
    let added = 0;
    const maxDraws = 4 * target + 64;
    for (let d = 0; d < maxDraws && added < target; d++) {
      const s = rng.nextWeightedIndex(sizeCumulative) + numFull + 1;
      rng.sampleWithoutReplacement(scratch, s, picked);
      const mask = new Uint8Array(n);
      for (let i = 0; i < s; i++) mask[picked[i]] = 1;
      const candidates = s <= numPaired ? [mask, complement(mask)] : [mask];
      for (const c of candidates) {
        const key = cache.key(c);
        if (drawn.has(key)) draws.push(c);
        else if (added < target) {
          drawn.add(key);
          added++;
          draws.push(c);
        }
      }
    }
    return draws;
  };

  const full = fullCoalition(n);
  const empty = emptyCoalition(n);
  let firstDraws: Uint8Array[] = [];
  const targets: number[] = [];
  for (let r = 0; r < rounds; r++) targets.push(Math.floor((samplesLeft * (r + 1)) / rounds) - Math.floor((samplesLeft * r) / rounds));
  if (rounds > 0) firstDraws = drawRound(targets[0]);

  const firstValues = await cache.evaluate([full, empty, ...fixed.map((x) => x.mask), ...firstDraws]);
  const fullValue = firstValues[0];
  const baseValue = firstValues[1];
  const delta = fullValue - baseValue;
  const fixedSums = new KernelRegressionSums(n, delta);
  fixed.forEach((x, i) => fixedSums.add(x.mask, x.weight, firstValues[2 + i] - baseValue));

  if (rounds === 0) {
    const values = solveKernelRegression([[fixedSums, 1]], n, delta);
    yield { values, baseValue, fullValue, final: true, error: { perFeature: new Float64Array(n), max: 0, kind: 'exact' } };
    return;
  }

  const roundSums: KernelRegressionSums[] = [];
  const roundEstimates: Float64Array[] = [];
  let totalDraws = 0;
  for (let r = 0; r < rounds; r++) {
    const draws = r === 0 ? firstDraws : drawRound(targets[r]);
    const y = r === 0 ? firstValues.subarray(2 + fixed.length) : await cache.evaluate(draws);
    const sums = new KernelRegressionSums(n, delta);
    draws.forEach((mask, i) => sums.add(mask, 1, y[i] - baseValue));
    roundSums.push(sums);
    totalDraws += draws.length;
    if (draws.length > 0) {
      roundEstimates.push(solveKernelRegression([[fixedSums, 1], [sums, weightLeft / draws.length]], n, delta));
    }
    const scale = totalDraws > 0 ? weightLeft / totalDraws : 0;
    const values = solveKernelRegression([[fixedSums, 1], ...roundSums.map((s): [KernelRegressionSums, number] => [s, scale])], n, delta);
    const estimate: MethodEstimate = { values, baseValue, fullValue, final: r === rounds - 1 };
    if (roundEstimates.length >= 2) estimate.error = batchMeansError(roundEstimates);
    yield estimate;
  }
}

function normalise(v: Float64Array): void {
  let s = 0;
  for (const x of v) s += x;
  for (let i = 0; i < v.length; i++) v[i] /= s;
}

function complement(mask: Uint8Array): Uint8Array {
  const c = new Uint8Array(mask.length);
  for (let j = 0; j < mask.length; j++) c[j] = mask[j] ? 0 : 1;
  return c;
}

/** Calls visit with every coalition of exactly k of the n features, in lexicographic order of indices. */
function forEachCombination(n: number, k: number, visit: (mask: Uint8Array) => void): void {
  const idx = Int32Array.from({ length: k }, (_, i) => i);
  for (;;) {
    const mask = new Uint8Array(n);
    for (let i = 0; i < k; i++) mask[idx[i]] = 1;
    visit(mask);
    let i = k - 1;
    while (i >= 0 && idx[i] === n - k + i) i--;
    if (i < 0) return;
    idx[i]++;
    for (let t = i + 1; t < k; t++) idx[t] = idx[t - 1] + 1;
  }
}
