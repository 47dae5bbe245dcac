import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { faithfulness, rankByValue } from '../../../src/engine/explain/faithfulness';
import { additive, recording } from './valueFunctions';

const W = [0.7, -1.3, 2.1, 0.05, -0.4, 1.6, -2.2, 0.9];
const C = 0.25;

describe('faithfulness on the additive model', () => {
  test('comprehensiveness, sufficiency and curves equal their closed forms, from one call', async () => {
    const rec = recording(additive(W, C));
    const report = await faithfulness(W, rec.f);
    assert.equal(rec.calls, 1);
    assert.equal(new Set(rec.asked).size, rec.asked.length);
    // Ranked by value: 2.1, 1.6, 0.9, 0.7, 0.05, -0.4, -1.3, -2.2 (features 2, 5, 7, 0, 3, 4, 1, 6).
    assert.deepEqual(rankByValue(W), [2, 5, 7, 0, 3, 4, 1, 6]);
    const sorted = [2.1, 1.6, 0.9, 0.7, 0.05, -0.4, -1.3, -2.2];
    const top = (k: number): number => sorted.slice(0, k).reduce((s, x) => s + x, 0);
    const total = top(8);
    // n = 8: k = ceil(0.08)=1, ceil(0.4)=1, ceil(0.8)=1, ceil(1.6)=2, ceil(4)=4.
    assert.deepEqual(report.bins.map((b) => b.k), [1, 1, 1, 2, 4]);
    for (const b of report.bins) {
      assert.ok(Math.abs(b.comprehensiveness - top(b.k)) < 1e-12);
      assert.ok(Math.abs(b.sufficiency - (total - top(b.k))) < 1e-12);
    }
    const aopcComp = (3 * top(1) + top(2) + top(4)) / 5;
    assert.ok(Math.abs(report.comprehensiveness - aopcComp) < 1e-12);
    assert.ok(Math.abs(report.sufficiency - (total - aopcComp)) < 1e-12);
    // Deletion after t steps: c + total − top(t); insertion: c + top(t).
    for (let t = 0; t <= 8; t++) {
      assert.ok(Math.abs(report.deletion.values[t] - (C + total - top(t))) < 1e-12);
      assert.ok(Math.abs(report.insertion.values[t] - (C + top(t))) < 1e-12);
    }
    // Trapezoid over x = t/8 of the rescaled insertion curve top(t)/total; deletion is its mirror 1 − that.
    let area = 0;
    for (let t = 0; t < 8; t++) area += (top(t) + top(t + 1)) / 2 / total / 8;
    assert.ok(Math.abs(report.insertion.normalizedArea - area) < 1e-12);
    assert.ok(Math.abs(report.deletion.normalizedArea - (1 - area)) < 1e-12);
    assert.ok(report.deletion.normalizedArea < report.insertion.normalizedArea, 'a faithful ranking deletes steeply and inserts steeply');
  });

  test('a reversed ranking scores worse on every measure', async () => {
    const good = await faithfulness(W, recording(additive(W, C)).f);
    const bad = await faithfulness(W.map((w) => -w), recording(additive(W, C)).f);
    assert.ok(bad.comprehensiveness < good.comprehensiveness);
    assert.ok(bad.sufficiency > good.sufficiency);
    assert.ok(bad.deletion.area > good.deletion.area);
    assert.ok(bad.insertion.area < good.insertion.area);
  });

  test('full and empty values supplied by the caller are not evaluated again', async () => {
    const rec = recording(additive(W, C));
    const report = await faithfulness(W, rec.f, { fullValue: C + 0.6, baseValue: C });
    assert.ok(!rec.asked.includes('11111111') && !rec.asked.includes('00000000'));
    assert.equal(report.fullValue, C + 0.6);
  });
});

describe('faithfulness of a long input', () => {
  test('past 100 features the curves take several a step: closed forms at each point, the bins exact, ~2 × 100 evaluations', async () => {
    const n = 250;
    const w = Array.from({ length: n }, (_, j) => Math.sin(j * 1.7) * (1 + (j % 7)));
    const rec = recording(additive(w, C));
    const report = await faithfulness(w, rec.f);
    const sorted = [...w].sort((a, b) => b - a);
    const top = (k: number): number => sorted.slice(0, k).reduce((a, x) => a + x, 0);
    const total = top(n);
    const counts = Array.from(report.deletion.counts);
    assert.equal(counts[0], 0);
    assert.equal(counts[counts.length - 1], n);
    assert.ok(counts.slice(1, -1).every((c, i) => c - counts[i] === 3), 'a step of ⌈250 / 100⌉ = 3 features');
    assert.equal(report.deletion.values.length, counts.length);
    counts.forEach((t, i) => {
      assert.ok(Math.abs(report.deletion.values[i] - (C + total - top(t))) < 1e-9, `deletion after ${t}`);
      assert.ok(Math.abs(report.insertion.values[i] - (C + top(t))) < 1e-9, `insertion after ${t}`);
    });
    // The bins' k (3, 13, 25, 50, 125) are evaluated exactly, on the curve or beside it.
    assert.deepEqual(report.bins.map((b) => b.k), [3, 13, 25, 50, 125]);
    for (const b of report.bins) assert.ok(Math.abs(b.comprehensiveness - top(b.k)) < 1e-9);
    let area = 0;
    for (let i = 0; i + 1 < counts.length; i++) area += ((top(counts[i]) + top(counts[i + 1])) / 2 / total) * ((counts[i + 1] - counts[i]) / n);
    assert.ok(Math.abs(report.insertion.normalizedArea - area) < 1e-9);
    assert.ok(report.evaluations <= 2 * counts.length + 10 && report.evaluations < 2 * n / 2, `${report.evaluations} evaluations`);
  });
});

