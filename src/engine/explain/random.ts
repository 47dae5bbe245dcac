/**
 * Seeded pseudo-random numbers for the sampling explainers.
 *
 * xoshiro128** in 32-bit integer arithmetic, seeded through splitmix32, so the same seed gives
 * bit-identical streams on every platform and Node version (Math.random cannot be seeded).
 */
export class SeededRandom {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** @param seed any finite number; its low 32 bits (and, for large seeds, the high bits too) seed the state. */
  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new Error(`seed must be a finite number, got ${seed}`);
    // Fold the high bits in so seeds differing only above 2^32 still give different streams.
    let x = (Math.trunc(seed) >>> 0) ^ Math.imul(Math.trunc(seed / 4294967296) >>> 0, 0x9e3779b1);
    const next = (): number => {
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // the all-zero state is a fixed point
  }

  /** Next 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform float in [0, 1) with 53 random bits. */
  nextFloat(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n), without modulo bias. */
  nextInt(n: number): number {
    if (!(n >= 1) || n > 4294967296 || !Number.isInteger(n)) throw new Error(`nextInt needs an integer in [1, 2^32], got ${n}`);
    // Rejection keeps every value equally likely when 2^32 is not a multiple of n.
    const limit = 4294967296 - (4294967296 % n);
    for (;;) {
      const r = this.nextUint32();
      if (r < limit) return r % n;
    }
  }

  /**
   * Writes into `out` the first k entries of a uniformly random permutation of 0..n-1
   * (a partial Fisher–Yates shuffle of `scratch`, which must hold n entries and is left permuted).
   */
  sampleWithoutReplacement(scratch: Int32Array, k: number, out: Int32Array): void {
    const n = scratch.length;
    for (let i = 0; i < k; i++) {
      const j = i + this.nextInt(n - i);
      const tmp = scratch[i];
      scratch[i] = scratch[j];
      scratch[j] = tmp;
      out[i] = scratch[i];
    }
  }

  /** Index drawn with probability proportional to `cumulative[i] - cumulative[i-1]` (cumulative sums, last = total). */
  nextWeightedIndex(cumulative: Float64Array): number {
    const u = this.nextFloat() * cumulative[cumulative.length - 1];
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] > u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
