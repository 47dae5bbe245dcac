import type { ValueFunction } from '../../../src/engine/explain/estimate';
import { SeededRandom } from '../../../src/engine/explain/random';

/** A value function over a plain per-coalition function that records every call and every coalition asked. */
export interface RecordingValueFunction {
  f: ValueFunction;
  calls: number;
  asked: string[];
}

export function recording(g: (z: Uint8Array) => number): RecordingValueFunction {
  const rec: RecordingValueFunction = {
    calls: 0,
    asked: [],
    f: async (coalitions) => {
      rec.calls++;
      for (const c of coalitions) rec.asked.push(Array.from(c).join(''));
      return Float64Array.from(coalitions.map(g));
    },
  };
  return rec;
}

/** f(S) = Σ_{j∈S} w_j + c. */
export function additive(w: number[], c: number): (z: Uint8Array) => number {
  return (z) => w.reduce((s, wj, j) => s + (z[j] ? wj : 0), c);
}

/** A sigmoid of a random quadratic form of the coalition: smooth, non-additive, with every order of interaction. */
export function randomNonlinear(n: number, seed: number): (z: Uint8Array) => number {
  const rng = new SeededRandom(seed);
  const g = (): number => rng.nextFloat() * 2 - 1;
  const lin = Array.from({ length: n }, g);
  const quad = Array.from({ length: n }, () => Array.from({ length: n }, () => 0.5 * g()));
  return (z) => {
    let s = -0.3;
    for (let i = 0; i < n; i++) {
      if (!z[i]) continue;
      s += lin[i];
      for (let j = i + 1; j < n; j++) if (z[j]) s += quad[i][j];
    }
    return 1 / (1 + Math.exp(-s));
  };
}

/** Shapley values by averaging marginal contributions over all n! orderings (an independent reference, n ≤ 8). */
export function shapleyByPermutations(n: number, g: (z: Uint8Array) => number, consistent?: (order: number[]) => boolean): number[] {
  const phi = new Array<number>(n).fill(0);
  let count = 0;
  const perm: number[] = [];
  const used = new Array<boolean>(n).fill(false);
  const visit = (): void => {
    if (perm.length === n) {
      if (consistent && !consistent(perm)) return;
      count++;
      const z = new Uint8Array(n);
      let prev = g(z);
      for (const j of perm) {
        z[j] = 1;
        const cur = g(z);
        phi[j] += cur - prev;
        prev = cur;
      }
      return;
    }
    for (let j = 0; j < n; j++) {
      if (used[j]) continue;
      used[j] = true;
      perm.push(j);
      visit();
      perm.pop();
      used[j] = false;
    }
  };
  visit();
  return phi.map((p) => p / count);
}

/**
 * Whether an ordering keeps every group contiguous (the orderings Owen values average over): for each group
 * of the nested structure, its members occupy consecutive positions.
 */
export function keepsGroupsTogether(groups: number[][]): (order: number[]) => boolean {
  return (order) => {
    const pos = new Array<number>(order.length);
    order.forEach((j, p) => (pos[j] = p));
    return groups.every((g) => {
      const ps = g.map((j) => pos[j]);
      return Math.max(...ps) - Math.min(...ps) === g.length - 1;
    });
  };
}

export function rms(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s / a.length);
}

export function sum(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
}
