import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Estimate } from '../../../src/engine/explain/estimate';
import { explain, explainFinal } from '../../../src/engine/explain/explainer';
import { pearson } from '../../../src/engine/explain/agreement';
import { additive, randomNonlinear, recording } from './valueFunctions';

const W = [0.7, -1.3, 2.1, 0.05, -0.4, 1.6, -2.2, 0.9];
const C = 0.25;

/**
 * The ridge solution LIME's sampling gives on average, in closed form. With y exactly linear, β solves
 * (Cov + αI)β = Cov·w, Cov the weighted covariance of the 0/1 design. Under LIME's sampling (k removed ~ U{1..n},
 * then a uniform subset) plus the original row, the expected Cov has one diagonal value a and one off-diagonal
 * value b, so its eigenvalues are a − b (directions summing to zero) and a + (n−1)b (the all-ones direction):
 * β̄ = w⊥·λ⊥/(λ⊥+α) + w∥·λ∥/(λ∥+α).
 */
function expectedLimeCoefficients(w: number[], samples: number, alpha: number, width = 25): number[] {
  const n = w.length;
  let ew = 0;
  let ewx = 0;
  let ewxx = 0;
  for (let k = 1; k <= n; k++) {
    const p = n - k;
    const d = 100 * (1 - Math.sqrt(p / n));
    const omega = Math.sqrt(Math.exp(-(d * d) / (width * width)));
    ew += omega / n;
    ewx += (omega * p) / n / n;
    ewxx += (omega * p * (p - 1)) / (n * (n - 1)) / n;
  }
  const m = samples - 1;
  const sw = 1 + m * ew;
  const sx = 1 + m * ewx;
  const a = sx - (sx * sx) / sw;
  const b = 1 + m * ewxx - (sx * sx) / sw;
  const lPerp = a - b;
  const lPar = a + (n - 1) * b;
  const mean = w.reduce((s, x) => s + x, 0) / n;
  return w.map((wj) => (wj - mean) * (lPerp / (lPerp + alpha)) + mean * (lPar / (lPar + alpha)));
}

describe('LIME on the additive model', () => {
  test('without the ridge penalty the surrogate is exact: coefficients w, intercept c, R² 1', async () => {
    const e = await explainFinal('lime', W.length, recording(additive(W, C)).f, { budget: 6000, seed: 1, lime: { alpha: 0 } });
    W.forEach((w, j) => assert.ok(Math.abs(e.values[j] - w) < 1e-9, `${j}: ${e.values[j]}`));
    assert.ok(Math.abs((e.fit?.intercept ?? 0) - C) < 1e-9);
    assert.ok(Math.abs((e.fit?.r2 ?? 0) - 1) < 1e-12);
  });

  test('with alpha 1 (LIME default) the coefficients shrink by the computed amount', async () => {
    const e = await explainFinal('lime', W.length, recording(additive(W, C)).f, { budget: 6000, seed: 2 });
    const expected = expectedLimeCoefficients(W, 5000, 1);
    const shrink = Math.max(...W.map((w, j) => Math.abs(w - expected[j])));
    const miss = Math.max(...W.map((_, j) => Math.abs(e.values[j] - expected[j])));
    console.log(`LIME alpha=1 shrinkage: largest |w − β̄| ${shrink.toExponential(2)}, largest |β − β̄| ${miss.toExponential(2)}`);
    assert.ok(shrink > 1e-4, 'the penalty does shrink');
    assert.ok(miss < 0.25 * shrink, 'sampling moves the coefficients by a fraction of the shrinkage only');
    for (let j = 0; j < W.length; j++) assert.ok(Math.abs(e.values[j]) < Math.abs(W[j]), 'every coefficient shrinks towards 0');
    assert.ok((e.fit?.r2 ?? 0) > 0.9999);
    assert.ok(pearson(e.values, W) > 0.99999);
  });
});

describe('LIME sampling', () => {
  const g = randomNonlinear(12, 3);
  test('same seed gives identical bits, different seeds different samples', async () => {
    const run = (seed: number): Promise<Estimate> => explainFinal('lime', 12, recording(g).f, { budget: 800, seed });
    const [a, b, c] = [await run(7), await run(7), await run(8)];
    assert.deepEqual(new Uint8Array(a.values.buffer), new Uint8Array(b.values.buffer));
    assert.notDeepEqual(Array.from(a.values), Array.from(c.values));
  });
  test('one call per round, no coalition twice, within budget; samples capped by the budget', async () => {
    const rec = recording(g);
    let rounds = 0;
    let last: Estimate | undefined;
    for await (const e of explain('lime', 12, rec.f, { budget: 3000, seed: 1 })) {
      rounds++;
      last = e;
    }
    assert.equal(rec.calls, rounds);
    assert.equal(new Set(rec.asked).size, rec.asked.length);
    assert.ok(rec.asked.length <= 3000);
    assert.equal(last?.final, true);
    assert.equal(last?.error?.kind, 'change-between-rounds');
  });
  test('the removal count is uniform in 1..n and the original is included', async () => {
    const n = 6;
    const seen: number[] = new Array(n + 1).fill(0);
    let sawOriginal = false;
    const counting = async (cs: Uint8Array[]): Promise<Float64Array> => {
      for (const c of cs) {
        const removed = c.reduce((s, v) => s + (v ? 0 : 1), 0);
        seen[removed]++;
        if (removed === 0) sawOriginal = true;
      }
      return Float64Array.from(cs.map((c) => c[0] + 2 * c[1]));
    };
    await explainFinal('lime', n, counting, { budget: 5000, seed: 3, lime: { numSamples: 4000 } });
    assert.ok(sawOriginal);
    // Distinct coalitions with k removed: at most C(6,k); all of them appear for 4000 draws.
    assert.deepEqual(seen.slice(1), [6, 15, 20, 15, 6, 1]);
  });
});
