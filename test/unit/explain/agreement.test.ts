import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { alignBySpan, averageRanks, kendallTauB, rankAgreement, spearman, topKOverlap } from '../../../src/engine/explain/agreement';

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

describe('rank agreement of two attributions (two methods, or two models)', () => {
  test('identical orders agree fully; reversed disagree', () => {
    const same = rankAgreement([3, 2, 1, -1], [30, 20, 10, -5]);
    assert.equal(same.spearman, 1);
    assert.equal(same.kendall, 1);
    assert.equal(same.signAgreement, 1);
    assert.deepEqual(same.topK, { k: 2, overlap: 1, shared: [0, 1] });
    const reversed = rankAgreement([1, 2, 3, 4], [4, 3, 2, 1], 2);
    assert.equal(reversed.spearman, -1);
    assert.equal(reversed.topK.overlap, 0);
    const signs = rankAgreement([1, -2, 0, 4], [1, 2, 5, -4]);
    assert.equal(signs.signAgreement, 1 / 3, 'of the three features non-zero on both sides, one has the same sign');
  });
  test('features are aligned by span: the same word wherever each side put it', () => {
    const a = [{ text: 'ab', start: 0, end: 2, value: 1 }, { text: 'cd', start: 3, end: 5, value: 2 }];
    const b = [{ start: 3, end: 5, value: 5 }, { start: 0, end: 2, value: 4 }, { start: 6, end: 7, value: 9 }];
    assert.deepEqual(alignBySpan(a, b), { a: [1, 2], b: [4, 5], words: [{ text: 'ab', start: 0, end: 2 }, { text: 'cd', start: 3, end: 5 }] });
  });
});
