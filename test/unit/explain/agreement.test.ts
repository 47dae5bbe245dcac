import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { averageRanks, kendallTauB, spearman, topKOverlap } from '../../../src/engine/explain/agreement';

describe('rank agreement with ties', () => {
  const a = [1, 2, 2, 3];
  const b = [1, 3, 2, 2];
  test('average ranks', () => {
    assert.deepEqual(Array.from(averageRanks(a)), [1, 2.5, 2.5, 4]);
    assert.deepEqual(Array.from(averageRanks(b)), [1, 4, 2.5, 2.5]);
  });
  test('Spearman: Pearson of the average ranks, by hand 0.5', () => {
    // Centred ranks: a (−1.5, 0, 0, 1.5), b (−1.5, 1.5, 0, 0): Σab = 2.25, Σa² = Σb² = 4.5 → 2.25/4.5.
    assert.ok(Math.abs(spearman(a, b) - 0.5) < 1e-15);
  });
  test('Kendall tau-b, by hand 0.4', () => {
    // Pairs: (0,1) C, (0,2) C, (0,3) C, (1,2) tied in a, (1,3) D, (2,3) tied in b.
    // (3 − 1) / √((6 − 1)(6 − 1)) = 2/5.
    assert.ok(Math.abs(kendallTauB(a, b) - 0.4) < 1e-15);
  });
  test('perfect and reversed orders; constant input is undefined', () => {
    assert.equal(spearman([1, 2, 3], [10, 20, 30]), 1);
    assert.equal(kendallTauB([1, 2, 3], [3, 2, 1]), -1);
    assert.ok(Number.isNaN(spearman([1, 1, 1], [1, 2, 3])));
    assert.ok(Number.isNaN(kendallTauB([1, 1, 1], [1, 2, 3])));
  });
});

describe('top-k overlap', () => {
  const a = [0.9, -2, 0.1, 1.5];
  const b = [1, 0.2, -3, 1.4];
  test('by absolute value: {1,3} vs {2,3} share one of two', () => {
    assert.equal(topKOverlap(a, b, 2, 'absolute'), 0.5);
  });
  test('by signed value: {3,0} vs {3,0} share both', () => {
    assert.equal(topKOverlap(a, b, 2, 'signed'), 1);
  });
  test('k out of range is an error', () => {
    assert.throws(() => topKOverlap(a, b, 5), /k must be/);
  });
});
