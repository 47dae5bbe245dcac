import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRandom } from '../../../src/engine/explain/random';
import { argmax, chooseToken, logSoftmax, samplingDistribution, type SamplingSettings } from '../../../src/engine/generate/sampling';

const sample = (over: Partial<SamplingSettings>): SamplingSettings => ({ strategy: 'sample', temperature: 1, topK: 0, topP: 1, ...over });
/** Logits whose softmax is exactly the given probabilities. */
const logitsOf = (p: number[]) => Float32Array.from(p.map(Math.log));

function close(actual: ArrayLike<number>, expected: number[], tolerance = 1e-6): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(actual[i] - expected[i]) < tolerance, `entry ${i}: ${actual[i]} vs ${expected[i]}`);
}

describe('choosing the next token', () => {
  test('greedy takes the most probable token, the lowest id among ties', () => {
    assert.equal(argmax(Float32Array.of(0.1, 3, -2, 3)), 1);
    assert.equal(chooseToken(Float32Array.of(-1, 5, 2), { strategy: 'greedy', temperature: 1, topK: 0, topP: 1 }, new SeededRandom(1)), 1);
  });

  test('log-probabilities sum to one and survive logits far from zero', () => {
    const lp = logSoftmax(Float32Array.of(1000, 1001, 999));
    const total = Array.from(lp).reduce((s, x) => s + Math.exp(x), 0);
    assert.ok(Math.abs(total - 1) < 1e-12);
    assert.ok(Math.abs(lp[1] - lp[0] - 1) < 1e-9);
  });

  test('top-p keeps the smallest head whose probability reaches p, as Hugging Face counts it from the tail', () => {
    const logits = logitsOf([0.15, 0.5, 0.05, 0.3]);
    // From the tail: 0.05, then 0.05 + 0.15 = 0.2 ≤ 1 − 0.8 go; 0.5 and 0.3 stay.
    const d = samplingDistribution(logits, sample({ topP: 0.8 }));
    assert.deepEqual(d.ids, [1, 3]);
    close(d.probabilities, [0.5 / 0.8, 0.3 / 0.8]);
    // With p = 0.81 the tail may only lose 0.19: 0.15 stays.
    assert.deepEqual(samplingDistribution(logits, sample({ topP: 0.81 })).ids, [1, 3, 0]);
    // p = 1 keeps everything; a tiny p keeps the most probable token only.
    assert.deepEqual(samplingDistribution(logits, sample({ topP: 1 })).ids, [1, 3, 0, 2]);
    assert.deepEqual(samplingDistribution(logits, sample({ topP: 1e-9 })).ids, [1]);
  });

  test('top-k keeps the k largest logits (and ties with the k-th), temperature flattens or sharpens', () => {
    const logits = Float32Array.of(2, 1, 1, 0, 3);
    assert.deepEqual(samplingDistribution(logits, sample({ topK: 2 })).ids, [4, 0]);
    assert.deepEqual(samplingDistribution(logits, sample({ topK: 3 })).ids, [4, 0, 1, 2]);
    // Temperature 2 on probabilities 0.8 / 0.2: ∝ √0.8 : √0.2 = 2 : 1.
    close(samplingDistribution(logitsOf([0.8, 0.2]), sample({ temperature: 2 })).probabilities, [2 / 3, 1 / 3]);
    close(samplingDistribution(logitsOf([0.8, 0.2]), sample({ temperature: 0.5 })).probabilities, [0.64 / 0.68, 0.04 / 0.68]);
  });

  test('draws follow the filtered distribution and the same seed gives the same draws', () => {
    const logits = logitsOf([0.1, 0.2, 0.3, 0.4]);
    const settings = sample({ topK: 3 });
    const rng = new SeededRandom(7);
    const n = 20000;
    const counts = new Array(4).fill(0);
    for (let i = 0; i < n; i++) counts[chooseToken(logits, settings, rng)]++;
    assert.equal(counts[0], 0, 'top-k removed the least probable token');
    const expected = [0, 0.2 / 0.9, 0.3 / 0.9, 0.4 / 0.9];
    for (let t = 1; t < 4; t++) {
      const se = Math.sqrt((expected[t] * (1 - expected[t])) / n);
      assert.ok(Math.abs(counts[t] / n - expected[t]) < 4 * se, `token ${t}: ${counts[t] / n} vs ${expected[t]}`);
    }
    const draw = (seed: number) => {
      const r = new SeededRandom(seed);
      return Array.from({ length: 50 }, () => chooseToken(logits, sample({}), r)).join(',');
    };
    assert.equal(draw(3), draw(3));
    assert.notEqual(draw(3), draw(4));
  });
});
