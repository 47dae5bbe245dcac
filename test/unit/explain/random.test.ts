import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRandom } from '../../../src/engine/explain/random';

describe('seeded random numbers', () => {
  test('same seed, same stream; different seed, different stream', () => {
    const draw = (seed: number): number[] => {
      const r = new SeededRandom(seed);
      return Array.from({ length: 50 }, () => r.nextUint32());
    };
    assert.deepEqual(draw(42), draw(42));
    assert.notDeepEqual(draw(42), draw(43));
    assert.notDeepEqual(draw(1), draw(1 + 2 ** 32));
  });
  test('nextInt is uniform (chi-square over 10 bins, 100k draws)', () => {
    const r = new SeededRandom(7);
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 100_000; i++) counts[r.nextInt(10)]++;
    const chi2 = counts.reduce((s, c) => s + (c - 10_000) ** 2 / 10_000, 0);
    assert.ok(chi2 < 27.9, `chi2 ${chi2}`); // 99.9 % quantile for 9 degrees of freedom
  });
  test('nextFloat lies in [0, 1) with mean ½', () => {
    const r = new SeededRandom(8);
    let s = 0;
    for (let i = 0; i < 100_000; i++) {
      const x = r.nextFloat();
      assert.ok(x >= 0 && x < 1);
      s += x;
    }
    assert.ok(Math.abs(s / 100_000 - 0.5) < 0.005);
  });
  test('sampling without replacement gives distinct indices and covers all subsets evenly', () => {
    const r = new SeededRandom(9);
    const scratch = Int32Array.from({ length: 5 }, (_, i) => i);
    const out = new Int32Array(5);
    const counts = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) {
      r.sampleWithoutReplacement(scratch, 2, out);
      assert.notEqual(out[0], out[1]);
      const key = [out[0], out[1]].sort().join();
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    assert.equal(counts.size, 10);
    for (const c of counts.values()) assert.ok(Math.abs(c - 2000) < 200);
  });
});
