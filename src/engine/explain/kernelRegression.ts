import { solveSymmetric } from './linearSolve';

/**
 * Weighted sums for the KernelSHAP regression  min Σ_k w_k (y_k − z_k·φ)²  subject to  Σφ = Δ,
 * where z_k is a coalition, y_k = f(z_k) − f(∅) and Δ = f(full) − f(∅).
 *
 * The constraint is enforced exactly by eliminating the last feature (as the shap library does):
 * φ_last = Δ − Σ_{j<last} φ_j, which leaves an unconstrained problem in x_j = z_j − z_last with target
 * y − z_last·Δ. Its normal matrix is E G Eᵀ with G = Σ w z zᵀ, so only G and r = Σ w ỹ z are accumulated.
 * A coalition costs O(min(|S|, n−|S|)²): large coalitions are accumulated through their complement
 * (z zᵀ = 11ᵀ − z̄1ᵀ − 1z̄ᵀ + z̄z̄ᵀ), and KernelSHAP samples are mostly very small or very large.
 */
export class KernelRegressionSums {
  /** Σ w z zᵀ over coalitions stored by their present features. */
  private readonly gramPresent: Float64Array;
  /** Σ w z̄ z̄ᵀ over coalitions stored by their absent features. */
  private readonly gramAbsent: Float64Array;
  private readonly absentSum: Float64Array;
  private absentWeight = 0;
  private absentWeightedTarget = 0;
  private readonly targetPresent: Float64Array;
  private readonly targetAbsent: Float64Array;
  private readonly index: Int32Array;
  /** Total weight added, for normalising random samples. */
  weight = 0;
  samples = 0;

  constructor(readonly n: number, readonly delta: number) {
    this.gramPresent = new Float64Array(n * n);
    this.gramAbsent = new Float64Array(n * n);
    this.absentSum = new Float64Array(n);
    this.targetPresent = new Float64Array(n);
    this.targetAbsent = new Float64Array(n);
    this.index = new Int32Array(n);
  }

  /** Adds coalition z with weight w and y = f(z) − f(∅). */
  add(z: Uint8Array, w: number, y: number): void {
    const n = this.n;
    const target = y - (z[n - 1] ? this.delta : 0);
    let present = 0;
    for (let j = 0; j < n; j++) if (z[j]) present++;
    const usePresent = present <= n - present;
    let count = 0;
    for (let j = 0; j < n; j++) if ((z[j] !== 0) === usePresent) this.index[count++] = j;
    const gram = usePresent ? this.gramPresent : this.gramAbsent;
    const vec = usePresent ? this.targetPresent : this.targetAbsent;
    for (let a = 0; a < count; a++) {
      const i = this.index[a];
      vec[i] += w * target;
      const row = i * n;
      for (let b = 0; b < count; b++) gram[row + this.index[b]] += w;
    }
    if (!usePresent) {
      for (let a = 0; a < count; a++) this.absentSum[this.index[a]] += w;
      this.absentWeight += w;
      this.absentWeightedTarget += w * target;
    }
    this.weight += w;
    this.samples++;
  }

  /** G = Σ w z zᵀ and r = Σ w ỹ z, scaled and added into the given arrays. */
  addInto(g: Float64Array, r: Float64Array, scale: number): void {
    const n = this.n;
    const c = this.absentWeight;
    for (let i = 0; i < n; i++) {
      const row = i * n;
      for (let j = 0; j < n; j++) {
        g[row + j] += scale * (this.gramPresent[row + j] + c - this.absentSum[i] - this.absentSum[j] + this.gramAbsent[row + j]);
      }
      r[i] += scale * (this.targetPresent[i] + this.absentWeightedTarget - this.targetAbsent[i]);
    }
  }
}

/**
 * Solves the constrained regression from weighted parts (each part's sums multiplied by its scale), so
 * enumerated and sampled coalitions can be weighted separately. Returns φ with Σφ = Δ exactly (up to rounding).
 */
export function solveKernelRegression(parts: Array<[KernelRegressionSums, number]>, n: number, delta: number): Float64Array {
  const phi = new Float64Array(n);
  if (n === 1) {
    phi[0] = delta;
    return phi;
  }
  const g = new Float64Array(n * n);
  const r = new Float64Array(n);
  for (const [sums, scale] of parts) if (scale !== 0) sums.addInto(g, r, scale);
  const m = n - 1;
  const last = n - 1;
  const a = new Float64Array(m * m);
  const b = new Float64Array(m);
  const gll = g[last * n + last];
  for (let j = 0; j < m; j++) {
    const gjl = g[j * n + last];
    for (let k = 0; k < m; k++) a[j * m + k] = g[j * n + k] - gjl - g[k * n + last] + gll;
    b[j] = r[j] - r[last];
  }
  const { x } = solveSymmetric(a, b, m);
  let sum = 0;
  for (let j = 0; j < m; j++) {
    phi[j] = x[j];
    sum += x[j];
  }
  phi[last] = delta - sum;
  return phi;
}

/** Binomial coefficient C(n, k) as a double (exact below 2^53). */
export function binomial(n: number, k: number): number {
  if (k < 0 || k > n) return 0;
  const kk = Math.min(k, n - k);
  let c = 1;
  for (let i = 1; i <= kk; i++) c = (c * (n - kk + i)) / i;
  // Each partial product is itself a binomial coefficient, so every step is an exact integer below 2^53.
  return c;
}

/** Shapley kernel weight of one coalition of size s among n features: (n−1) / (C(n,s)·s·(n−s)). */
export function shapleyKernelWeight(n: number, s: number): number {
  return (n - 1) / (binomial(n, s) * s * (n - s));
}
