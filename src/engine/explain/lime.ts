import type { CoalitionCache } from './coalitionCache';
import { emptyCoalition } from './coalitionCache';
import { changeBetween } from './convergence';
import type { MethodEstimate } from './estimate';
import { solveSymmetric } from './linearSolve';
import { SeededRandom } from './random';

export interface LimeOptions {
  /** Perturbed samples, the original included (LIME's default 5000; never more than the budget allows). */
  numSamples?: number;
  /** Width of the exponential kernel on the cosine distance × 100 (LIME text default 25). */
  kernelWidth?: number;
  /** Ridge penalty (LIME uses sklearn's Ridge(alpha=1)). */
  alpha?: number;
}

export const LIME_DEFAULTS = { numSamples: 5000, kernelWidth: 25, alpha: 1 } as const;

/** Samples per round (one call to the value function each). */
const ROUND_SAMPLES = 1000;
/** Fewest samples in a round when the samples are split to measure convergence. */
const MIN_ROUND_SAMPLES = 32;

/**
 * LIME (Ribeiro et al. 2016) as LimeTextExplainer does it: the first sample is the original; every other
 * removes a number of features drawn uniformly from 1..n, chosen uniformly without replacement. A sample's
 * weight is √exp(−d²/width²) with d = 100 × the cosine distance between its binary vector and all-ones. The
 * surrogate is a weighted ridge regression with intercept on all features (sklearn's Ridge, alpha 1); its
 * weighted R² and intercept are reported. The samples are drawn up front from the seed and evaluated a round
 * at a time; repeated samples count as separate rows (as in LIME) but are evaluated once.
 */
export async function* lime(
  n: number,
  cache: CoalitionCache,
  budget: number,
  seed: number,
  options: LimeOptions = {},
): AsyncGenerator<MethodEstimate> {
  const kernelWidth = options.kernelWidth ?? LIME_DEFAULTS.kernelWidth;
  const alpha = options.alpha ?? LIME_DEFAULTS.alpha;
  if (!(kernelWidth > 0)) throw new Error(`LIME's kernel width must be positive, got ${kernelWidth}`);
  if (!(alpha >= 0)) throw new Error(`LIME's ridge alpha must be ≥ 0, got ${alpha}`);
  // One evaluation is kept for f(all removed), the base value every estimate reports.
  const requested = Math.floor(options.numSamples ?? LIME_DEFAULTS.numSamples);
  const numSamples = Math.max(2, Math.min(requested, budget - 1));

  const rng = new SeededRandom(seed);
  const samples: Uint8Array[] = [new Uint8Array(n).fill(1)];
  const scratch = Int32Array.from({ length: n }, (_, j) => j);
  const removed = new Int32Array(n);
  for (let i = 1; i < numSamples; i++) {
    const k = 1 + rng.nextInt(n);
    rng.sampleWithoutReplacement(scratch, k, removed);
    const z = new Uint8Array(n).fill(1);
    for (let t = 0; t < k; t++) z[removed[t]] = 0;
    samples.push(z);
  }
  const weights = samples.map((z) => {
    let present = 0;
    for (let j = 0; j < n; j++) present += z[j];
    const d = 100 * (1 - Math.sqrt(present / n));
    return Math.sqrt(Math.exp(-(d * d) / (kernelWidth * kernelWidth)));
  });

  // At least two rounds when there are enough samples, so the change between them says how settled the fit is.
  const rounds = numSamples < 2 * MIN_ROUND_SAMPLES ? 1 : Math.max(2, Math.min(Math.ceil(numSamples / ROUND_SAMPLES), 5));
  const sums = new WeightedRidgeSums(n);
  const y = new Float64Array(numSamples);
  let baseValue = 0;
  let fullValue = 0;
  let previous: Float64Array | undefined;
  for (let r = 0; r < rounds; r++) {
    const lo = Math.floor((numSamples * r) / rounds);
    const hi = Math.floor((numSamples * (r + 1)) / rounds);
    const chunk = samples.slice(lo, hi);
    const out = await cache.evaluate(r === 0 ? [emptyCoalition(n), ...chunk] : chunk);
    const values = r === 0 ? out.subarray(1) : out;
    if (r === 0) {
      baseValue = out[0];
      fullValue = values[0];
    }
    for (let i = lo; i < hi; i++) {
      y[i] = values[i - lo];
      sums.add(samples[i], weights[i], y[i]);
    }
    const fit = sums.fit(alpha);
    const r2 = weightedR2(samples.slice(0, hi), y.subarray(0, hi), weights.slice(0, hi), fit.coef, fit.intercept);
    const estimate: MethodEstimate = { values: fit.coef, baseValue, fullValue, final: r === rounds - 1, fit: { r2, intercept: fit.intercept } };
    if (previous) estimate.error = changeBetween(fit.coef, previous);
    previous = fit.coef;
    yield estimate;
  }
}

/**
 * Running sums for a weighted ridge regression with an unpenalised intercept, the objective
 * Σ w_i (y_i − b − x_i·β)² + α‖β‖² of sklearn's Ridge(fit_intercept=True) with sample weights.
 */
export class WeightedRidgeSums {
  private readonly xx: Float64Array;
  private readonly x: Float64Array;
  private readonly xy: Float64Array;
  private w = 0;
  private y = 0;
  private readonly index: Int32Array;

  constructor(readonly n: number) {
    this.xx = new Float64Array(n * n);
    this.x = new Float64Array(n);
    this.xy = new Float64Array(n);
    this.index = new Int32Array(n);
  }

  /** Adds one row of 0/1 (or real) features with weight w and target y. */
  add(row: ArrayLike<number>, w: number, y: number): void {
    const n = this.n;
    let count = 0;
    for (let j = 0; j < n; j++) if (row[j] !== 0) this.index[count++] = j;
    for (let a = 0; a < count; a++) {
      const i = this.index[a];
      const wi = w * row[i];
      this.x[i] += wi;
      this.xy[i] += wi * y;
      for (let b = 0; b < count; b++) this.xx[i * n + this.index[b]] += wi * row[this.index[b]];
    }
    this.w += w;
    this.y += w * y;
  }

  /** Coefficients and intercept: (C + αI)β = c with C, c the weighted covariances about the weighted means. */
  fit(alpha: number): { coef: Float64Array; intercept: number } {
    const n = this.n;
    if (!(this.w > 0)) throw new Error('weighted ridge regression needs a positive total weight');
    const a = new Float64Array(n * n);
    const b = new Float64Array(n);
    const meanY = this.y / this.w;
    for (let i = 0; i < n; i++) {
      const mi = this.x[i] / this.w;
      for (let j = 0; j < n; j++) a[i * n + j] = this.xx[i * n + j] - this.x[i] * (this.x[j] / this.w);
      a[i * n + i] += alpha;
      b[i] = this.xy[i] - mi * this.y;
    }
    const { x: coef } = solveSymmetric(a, b, n);
    let intercept = meanY;
    for (let i = 0; i < n; i++) intercept -= (coef[i] * this.x[i]) / this.w;
    return { coef, intercept };
  }
}

/** Weighted coefficient of determination 1 − Σw(y−ŷ)² / Σw(y−ȳ_w)² (sklearn's r2_score with sample_weight). */
export function weightedR2(rows: ArrayLike<number>[], y: ArrayLike<number>, w: ArrayLike<number>, coef: Float64Array, intercept: number): number {
  let sw = 0;
  let sy = 0;
  for (let i = 0; i < rows.length; i++) {
    sw += w[i];
    sy += w[i] * y[i];
  }
  const mean = sy / sw;
  let ssRes = 0;
  let ssTot = 0;
  for (let i = 0; i < rows.length; i++) {
    let pred = intercept;
    const row = rows[i];
    for (let j = 0; j < coef.length; j++) pred += coef[j] * row[j];
    ssRes += w[i] * (y[i] - pred) ** 2;
    ssTot += w[i] * (y[i] - mean) ** 2;
  }
  // sklearn: a constant target that is fitted perfectly scores 1, otherwise 0.
  if (ssTot === 0) return ssRes === 0 ? 1 : 0;
  return 1 - ssRes / ssTot;
}
