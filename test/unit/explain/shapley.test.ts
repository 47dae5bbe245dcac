import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Estimate, MethodName } from '../../../src/engine/explain/estimate';
import { explain, explainFinal } from '../../../src/engine/explain/explainer';
import { DEFAULT_BUDGET } from '../../../src/engine/explain/methodBudgets';
import { CancelledError } from '../../../src/engine/run/cancellation';
import type { FeatureTree } from '../../../src/engine/explain/featureTree';
import {
  additive,
  keepsGroupsTogether,
  randomNonlinear,
  recording,
  rms,
  shapleyByPermutations,
  sum,
} from './valueFunctions';

const close = (actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what = ''): void => {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < actual.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `${what}[${i}]: ${actual[i]} vs ${expected[i]} (tol ${tol})`);
  }
};

const W = [0.7, -1.3, 2.1, 0.05, -0.4, 1.6, -2.2, 0.9];

describe('additive model f(S) = Σ w_j + c', () => {
  const g = additive(W, 0.25);
  for (const method of ['exact-shapley', 'kernel-shap', 'partition-shap'] as MethodName[]) {
    test(`${method} returns the weights`, async () => {
      const e = await explainFinal(method, W.length, recording(g).f, { budget: 200, seed: 3 });
      close(e.values, W, 1e-6, method);
      assert.ok(Math.abs(e.baseValue - 0.25) < 1e-12 && Math.abs(e.fullValue - (sum(W) + 0.25)) < 1e-12);
    });
  }
  test('occlusion returns the weights exactly, with n + 2 evaluations in one call', async () => {
    const rec = recording(g);
    const e = await explainFinal('occlusion', W.length, rec.f, { budget: 1, seed: 0 });
    close(e.values, W, 1e-12);
    assert.equal(rec.calls, 1);
    assert.equal(e.evaluations, W.length + 2);
    assert.match(e.budgetClamped ?? '', /raised to 10/);
    // No budget asked for (0, the method's default): its n + 2 evaluations, and no note about a budget.
    const unasked = await explainFinal('occlusion', W.length, recording(g).f, { budget: DEFAULT_BUDGET.occlusion, seed: 0 });
    assert.equal(unasked.evaluations, W.length + 2);
    assert.equal(unasked.budgetClamped, undefined);
    const window = await explainFinal('occlusion-window', W.length, recording(g).f, { budget: DEFAULT_BUDGET['occlusion-window'], seed: 0, window: 3 });
    assert.equal(window.budgetClamped, undefined);
  });
  test('occlusion-window: each feature gets the mean of the sums of the windows containing it', async () => {
    const e = await explainFinal('occlusion-window', W.length, recording(g).f, { budget: 100, seed: 0, window: 3 });
    // Hand reference: window starting at s removes s..s+2 and costs w_s + w_{s+1} + w_{s+2}.
    const windowSum = (s: number): number => W[s] + W[s + 1] + W[s + 2];
    const expected = W.map((_, j) => {
      const starts = [j - 2, j - 1, j].filter((s) => s >= 0 && s + 2 < W.length);
      return starts.reduce((a, s) => a + windowSum(s), 0) / starts.length;
    });
    close(e.values, expected, 1e-12);
  });
});

describe('AND interaction f = x_a · x_b', () => {
  const n = 5;
  const a = 1;
  const b = 3;
  const g = (z: Uint8Array): number => z[a] * z[b];
  test('exact Shapley gives ½ to a and b, 0 to the dummies', async () => {
    const e = await explainFinal('exact-shapley', n, recording(g).f, { budget: 0, seed: 0 });
    close(e.values, [0, 0.5, 0, 0.5, 0], 1e-12);
    assert.equal(e.error?.kind, 'exact');
  });
  test('Owen values on a flat tree equal Shapley', async () => {
    const flat: FeatureTree = { children: Array.from({ length: n }, (_, j) => ({ feature: j })) };
    const e = await explainFinal('partition-shap', n, recording(g).f, { budget: 1000, seed: 0, hierarchy: flat });
    close(e.values, [0, 0.5, 0, 0.5, 0], 1e-12);
  });
  test('a and b in one group: top game {a,b} vs the rest gives the group 1, inside it ½ each', async () => {
    // Top level: players G = {1,3}, {0}, {2}, {4}; v(T) = 1 iff G ∈ T, so G takes 1 and the others 0.
    // Inside G, in any context, x_1·x_3 is symmetric in 1 and 3: ½ each.
    const tree: FeatureTree = { children: [{ children: [{ feature: 1 }, { feature: 3 }] }, { feature: 0 }, { feature: 2 }, { feature: 4 }] };
    const e = await explainFinal('partition-shap', n, recording(g).f, { budget: 1000, seed: 0, hierarchy: tree });
    close(e.values, [0, 0.5, 0, 0.5, 0], 1e-12);
  });
  test('a split from b: Owen closed form differs from Shapley for a three-way AND', async () => {
    // f = x0·x1·x2, tree {{0,1},{2,3}}. Top game between G1={0,1} and G2={2,3}: v(G1)=v(G2)=0, v(both)=1,
    // so ½ each. In G1 (context G2 absent: f ≡ 0; present, weight ½: f = x0·x1, ½ each) → ¼, ¼.
    // In G2 (context G1 absent: 0; present, weight ½: f = x2, feature 2 takes 1) → ½, 0.
    // Owen = (¼, ¼, ½, 0), whereas Shapley = (⅓, ⅓, ⅓, 0).
    const h = (z: Uint8Array): number => z[0] * z[1] * z[2];
    const tree: FeatureTree = { children: [{ children: [{ feature: 0 }, { feature: 1 }] }, { children: [{ feature: 2 }, { feature: 3 }] }] };
    const owen = await explainFinal('partition-shap', 4, recording(h).f, { budget: 100, seed: 0, hierarchy: tree });
    close(owen.values, [0.25, 0.25, 0.5, 0], 1e-12);
    const shap = await explainFinal('exact-shapley', 4, recording(h).f, { budget: 16, seed: 0 });
    close(shap.values, [1 / 3, 1 / 3, 1 / 3, 0], 1e-12);
  });
});

describe('against independent enumeration of orderings', () => {
  test('exact Shapley equals the average over all 7! orderings on a nonlinear function', async () => {
    const g = randomNonlinear(7, 11);
    const e = await explainFinal('exact-shapley', 7, recording(g).f, { budget: 128, seed: 0 });
    close(e.values, shapleyByPermutations(7, g), 1e-12);
  });
  test('Partition SHAP equals the Owen value (orderings keeping groups together) on a nested tree', async () => {
    const g = randomNonlinear(7, 12);
    // ((0 1) (2 (3 4))) (5 6): every group's members must be contiguous in the ordering.
    const tree: FeatureTree = {
      children: [
        { children: [{ children: [{ feature: 0 }, { feature: 1 }] }, { children: [{ feature: 2 }, { children: [{ feature: 3 }, { feature: 4 }] }] }] },
        { children: [{ feature: 5 }, { feature: 6 }] },
      ],
    };
    const groups = [[0, 1], [3, 4], [2, 3, 4], [0, 1, 2, 3, 4], [5, 6]];
    const reference = shapleyByPermutations(7, g, keepsGroupsTogether(groups));
    const e = await explainFinal('partition-shap', 7, recording(g).f, { budget: 10_000, seed: 0, hierarchy: tree });
    close(e.values, reference, 1e-12);
    // Exact, but Owen values: they differ from the Shapley values of the same function.
    assert.equal(e.error?.kind, 'exact-owen');
    assert.ok(Math.max(...shapleyByPermutations(7, g).map((x, j) => Math.abs(x - e.values[j]))) > 1e-3);
    const flat = await explainFinal('partition-shap', 7, recording(g).f, { budget: 10_000, seed: 0, hierarchy: { children: [0, 1, 2, 3, 4, 5, 6].map((feature) => ({ feature })) } });
    close(flat.values, shapleyByPermutations(7, g), 1e-12);
    assert.equal(flat.error?.kind, 'exact', 'a flat hierarchy gives the Shapley values');
  });
  test('a three-child group is a three-player Shapley game inside the tree', async () => {
    const g = randomNonlinear(6, 13);
    const tree: FeatureTree = { children: [{ children: [{ feature: 0 }, { feature: 1 }, { feature: 2 }] }, { children: [{ feature: 3 }, { feature: 4 }, { feature: 5 }] }] };
    const reference = shapleyByPermutations(6, g, keepsGroupsTogether([[0, 1, 2], [3, 4, 5]]));
    const e = await explainFinal('partition-shap', 6, recording(g).f, { budget: 10_000, seed: 0, hierarchy: tree });
    close(e.values, reference, 1e-12);
  });
});

describe('efficiency Σφ = f(full) − f(empty)', () => {
  for (const method of ['exact-shapley', 'kernel-shap', 'partition-shap'] as MethodName[]) {
    test(`${method}, every estimate, on random nonlinear functions`, async () => {
      for (const seed of [1, 2, 3]) {
        const n = method === 'exact-shapley' ? 10 : 24;
        const g = randomNonlinear(n, seed);
        for await (const e of explain(method, n, recording(g).f, { budget: 300, seed })) {
          assert.ok(Math.abs(sum(e.values) - (e.fullValue - e.baseValue)) < 1e-9, `${method} seed ${seed}: ${sum(e.values)}`);
        }
      }
    });
  }
});

describe('KernelSHAP', () => {
  test('with budget ≥ 2^n equals exact Shapley, in one call', async () => {
    for (const n of [2, 3, 6, 9]) {
      const g = randomNonlinear(n, 40 + n);
      const exact = await explainFinal('exact-shapley', n, recording(g).f, { budget: 0, seed: 0 });
      const rec = recording(g);
      const kernel = await explainFinal('kernel-shap', n, rec.f, { budget: 2 ** n, seed: 5 });
      close(kernel.values, exact.values, 1e-9, `n=${n}`);
      assert.equal(kernel.error?.kind, 'exact');
      assert.equal(rec.calls, 1);
    }
  });

  test('error to exact shrinks as the budget grows (12 features)', async () => {
    const n = 12;
    const budgets = [64, 128, 256, 512, 1024, 2048];
    const seeds = [1, 2, 3, 4, 5, 6];
    const errors = budgets.map(() => 0);
    for (const fseed of [100, 200]) {
      const g = randomNonlinear(n, fseed);
      const exact = await explainFinal('exact-shapley', n, recording(g).f, { budget: 0, seed: 0 });
      for (let b = 0; b < budgets.length; b++) {
        for (const seed of seeds) {
          const e = await explainFinal('kernel-shap', n, recording(g).f, { budget: budgets[b], seed });
          errors[b] += rms(e.values, exact.values) / (seeds.length * 2);
        }
      }
    }
    const lx = budgets.map(Math.log);
    const ly = errors.map(Math.log);
    const mx = lx.reduce((a, x) => a + x, 0) / lx.length;
    const my = ly.reduce((a, y) => a + y, 0) / ly.length;
    const slope = lx.reduce((a, x, i) => a + (x - mx) * (ly[i] - my), 0) / lx.reduce((a, x) => a + (x - mx) ** 2, 0);
    console.log(`kernel-shap RMS error vs exact, n=12: ${budgets.map((b, i) => `${b}:${errors[i].toExponential(2)}`).join(' ')}; slope of log error vs log budget ${slope.toFixed(2)}`);
    assert.ok(errors[errors.length - 1] < errors[0] / 4, 'error at 2048 is well below the error at 64');
    assert.ok(slope < -0.4, `error falls at least like budget^-0.4 (slope ${slope})`);
  });

  test('beyond exact reach (16 features) reports a small, positive standard error', async () => {
    const n = 16;
    const g = randomNonlinear(n, 77);
    const e = await explainFinal('kernel-shap', n, recording(g).f, { budget: 2000, seed: 9 });
    assert.equal(e.error?.kind, 'std-error');
    assert.ok((e.error?.max ?? 0) > 0 && (e.error?.max ?? 1) < 0.1);
  });

  test('same seed gives identical bits, a different seed different samples', async () => {
    const g = randomNonlinear(15, 5);
    const run = async (seed: number): Promise<Estimate> => explainFinal('kernel-shap', 15, recording(g).f, { budget: 400, seed });
    const [a, b, c] = [await run(1), await run(1), await run(2)];
    assert.deepEqual(new Uint8Array(a.values.buffer), new Uint8Array(b.values.buffer));
    assert.notDeepEqual(Array.from(a.values), Array.from(c.values));
  });

  test('batching: budget 512 → one call per round, no coalition asked twice, budget respected', async () => {
    const rec = recording(randomNonlinear(20, 8));
    let rounds = 0;
    let last: Estimate | undefined;
    for await (const e of explain('kernel-shap', 20, rec.f, { budget: 512, seed: 4 })) {
      rounds++;
      last = e;
    }
    assert.equal(rec.calls, rounds);
    assert.ok(rounds >= 2 && rounds <= 9, `rounds ${rounds}`);
    assert.equal(new Set(rec.asked).size, rec.asked.length);
    assert.ok(rec.asked.length <= 512 && rec.asked.length >= 500, `evaluations ${rec.asked.length}`);
    assert.equal(last?.evaluations, rec.asked.length);
    assert.equal(last?.final, true);
  });
});

describe('Partition SHAP budget and batching', () => {
  test('never asks a coalition twice, stays within budget, and converges to the full expansion', async () => {
    const n = 32;
    const g = randomNonlinear(n, 21);
    const full = await explainFinal('partition-shap', n, recording(g).f, { budget: 100_000, seed: 0 });
    assert.equal(full.error?.kind, 'exact-owen');
    let previousError = Infinity;
    for (const budget of [100, 400, full.evaluations]) {
      const rec = recording(g);
      let rounds = 0;
      let last: Estimate | undefined;
      for await (const e of explain('partition-shap', n, rec.f, { budget, seed: 0 })) {
        rounds++;
        last = e;
      }
      assert.equal(new Set(rec.asked).size, rec.asked.length);
      assert.ok(rec.asked.length <= budget);
      assert.equal(rec.calls, rounds);
      const err = rms(last!.values, full.values);
      assert.ok(err <= previousError + 1e-15, `budget ${budget}: error ${err} after ${previousError}`);
      previousError = err;
    }
    assert.ok(previousError < 1e-12);
  });
});

describe('bad input', () => {
  const g = additive([1, 2, 3], 0);
  test('no features is a clear error', async () => {
    await assert.rejects(explainFinal('kernel-shap', 0, recording(g).f, { budget: 10, seed: 0 }), /nothing to explain/);
  });
  test('exact Shapley above 14 features points to the sampling methods', async () => {
    await assert.rejects(explainFinal('exact-shapley', 20, recording(g).f, { budget: 10, seed: 0 }), /kernel-shap.*partition-shap/);
  });
  test('one feature: φ = f(full) − f(empty) for every method', async () => {
    for (const method of ['exact-shapley', 'kernel-shap', 'partition-shap', 'lime', 'occlusion', 'occlusion-window'] as MethodName[]) {
      const e = await explainFinal(method, 1, recording((z) => 3 + 4 * z[0]).f, { budget: 50, seed: 0 });
      assert.deepEqual(Array.from(e.values), [4], method);
    }
  });
  test('budget 0 and 1e9 are clamped and reported', async () => {
    const small = await explainFinal('kernel-shap', 10, recording(randomNonlinear(10, 1)).f, { budget: 0, seed: 0 });
    assert.equal(small.budgetUsed, 22);
    assert.match(small.budgetClamped ?? '', /raised to 22/);
    assert.ok(small.evaluations <= 22);
    assert.ok(Math.abs(sum(small.values) - (small.fullValue - small.baseValue)) < 1e-9);
    const large = await explainFinal('kernel-shap', 10, recording(randomNonlinear(10, 1)).f, { budget: 1e9, seed: 0 });
    assert.match(large.budgetClamped ?? '', /lowered to 100000/);
    assert.equal(large.evaluations, 1024);
  });
  test('cancellation between rounds throws CancelledError', async () => {
    let rounds = 0;
    const run = async (): Promise<void> => {
      for await (const _ of explain('kernel-shap', 20, recording(randomNonlinear(20, 1)).f, { budget: 2000, seed: 0, isCancelled: () => rounds >= 2 })) {
        rounds++;
      }
    };
    await assert.rejects(run(), CancelledError);
    assert.equal(rounds, 2);
  });
  test('a hierarchy that misses or repeats a feature is rejected', async () => {
    const tree: FeatureTree = { children: [{ feature: 0 }, { feature: 0 }, { feature: 2 }] };
    await assert.rejects(explainFinal('partition-shap', 3, recording(g).f, { budget: 50, seed: 0, hierarchy: tree }), /twice/);
  });
  test('a value function returning the wrong number of values is reported', async () => {
    const bad = async (): Promise<Float64Array> => new Float64Array(1);
    await assert.rejects(explainFinal('occlusion', 3, bad, { budget: 50, seed: 0 }), /returned 1 values for 5 coalitions/);
  });
});
