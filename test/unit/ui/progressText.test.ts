import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { durationText } from '../../../src/render/durationText';
import { estimateText, progressMessage } from '../../../src/ui/commands/explainParams';

describe('the progress line of a long run', () => {
  test('without an estimate: how far it is', () => {
    assert.equal(progressMessage({ done: 120, total: 500 }), '120 / 500 evaluations');
    assert.equal(progressMessage({ done: 120, total: 500, message: 'partition-shap: 120 evaluations' }), 'partition-shap: 120 evaluations (120 / 500)');
  });

  test('with the engine’s estimate: said before the work starts, then the time left', () => {
    assert.equal(progressMessage({ done: 0, total: 500, estimatedMs: 52_000, elapsedMs: 0 }), '0 / 500 evaluations · estimated 52 s');
    assert.equal(estimateText({ done: 100, total: 500, estimatedMs: 52_000, elapsedMs: 12_000 }), 'about 40 s left of an estimated 52 s');
    assert.equal(estimateText({ done: 499, total: 500, estimatedMs: 52_000, elapsedMs: 61_000 }), 'taking longer than the estimated 52 s');
    assert.equal(estimateText({ done: 10, total: 500, estimatedMs: 406_000, elapsedMs: 1_000 }), 'about 6 min 45 s left of an estimated 6 min 46 s');
    assert.equal(estimateText({ done: 10, total: 500 }), undefined);
    assert.equal(estimateText({ done: 10, total: 500, estimatedMs: Number.NaN }), undefined);
  });

  test('the engine’s own message, which says the time left too, does not make the line say it twice', () => {
    const line = progressMessage({ done: 120, total: 500, estimatedMs: 52_000, elapsedMs: 12_000, message: 'kernel-shap: 120 of up to 500 evaluations, about 40 s left' });
    assert.equal(line, '120 / 500 evaluations · about 40 s left of an estimated 52 s');
  });

  test('durations read as people say them', () => {
    assert.deepEqual([200, 1_250, 8_000, 59_400, 80_000, 600_000, 5_400_000].map(durationText), ['200 ms', '1.3 s', '8 s', '59 s', '1 min 20 s', '10 min', 'about 1.5 h']);
  });
});
