import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bucketOf, divergingRgba, maxAbs, ranksByMagnitude } from '../../../src/render/attributionScale';
import { highlightRanges, rangeAt } from '../../../src/ui/editor/attributionRanges';
import { applyChanges, shiftRanges } from '../../../src/ui/editor/rangeShift';

describe('attribution buckets', () => {
  test('the strongest word gets the strongest bucket of its sign; weak words stay unpainted', () => {
    assert.deepEqual(bucketOf(2, 2), { sign: 'positive', level: 5 });
    assert.deepEqual(bucketOf(-2, 2), { sign: 'negative', level: 5 });
    assert.deepEqual(bucketOf(0.5, 2), { sign: 'positive', level: 2 });
    assert.equal(bucketOf(0.05, 2), undefined);
    assert.equal(bucketOf(1, 0), undefined);
    assert.equal(bucketOf(Number.NaN, 1), undefined);
  });
  test('buckets never decrease with |value|', () => {
    let last = 0;
    for (let v = 0; v <= 1; v += 0.01) {
      const b = bucketOf(v, 1)?.level ?? 0;
      assert.ok(b >= last);
      last = b;
    }
    assert.equal(last, 5);
  });
  test('ranks by magnitude, ties in input order', () => {
    assert.deepEqual(ranksByMagnitude([0.1, -0.9, 0.5, 0.5]), [4, 1, 2, 3]);
    assert.equal(maxAbs([1, -3, 2]), 3);
    assert.equal(divergingRgba(0), 'rgba(239, 68, 68, 0)');
    assert.match(divergingRgba(-1), /^rgba\(59, 130, 246, 0\.8\)$/);
  });
  test('highlight ranges of a sentence pair: the second text\'s words at its own document offset, one colour scale', () => {
    const features = [
      { text: 'man', start: 2, end: 5, value: 1, tokenIndices: [2], segment: 0 as const },
      { text: 'asleep', start: 9, end: 15, value: -2, tokenIndices: [6], segment: 1 as const },
    ];
    const ranges = highlightRanges({ features }, 100, undefined, 300);
    assert.deepEqual(ranges.map((r) => [r.start, r.end]), [[102, 105], [309, 315]]);
    assert.deepEqual(ranges.map((r) => r.bucket), [3, -5]);
    // Without a second offset (a single text) every feature counts from the first.
    assert.deepEqual(highlightRanges({ features: [features[0]] }, 100).map((r) => r.start), [102]);
  });
  test('highlight ranges: document offsets, colour ids following attribution order', () => {
    const features = [
      { text: 'great', start: 4, end: 9, value: 0.9, tokenIndices: [1] },
      { text: 'but', start: 10, end: 13, value: -0.1, tokenIndices: [2] },
      { text: 'slow', start: 14, end: 18, value: -0.6, tokenIndices: [3] },
      { text: 'a', start: 0, end: 1, value: 0.001, tokenIndices: [0] },
    ];
    const ranges = highlightRanges({ features }, 100);
    assert.deepEqual(ranges.map((r) => [r.start, r.end]), [[104, 109], [110, 113], [114, 118], [100, 101]]);
    assert.deepEqual(ranges.map((r) => r.colorId), ['onnxLens.attribution.positive5', 'onnxLens.attribution.negative1', 'onnxLens.attribution.negative4', undefined]);
    assert.deepEqual(ranges.map((r) => r.rank), [1, 3, 2, 4]);
    assert.equal(rangeAt(ranges, 106)?.text, 'great');
    assert.equal(rangeAt(ranges, 50), undefined);
  });
});

describe('highlights follow edits', () => {
  const ranges = [
    { start: 0, end: 4, id: 'this' },
    { start: 5, end: 10, id: 'movie' },
    { start: 11, end: 16, id: 'rocks' },
  ];
  test('an insertion before shifts, after leaves alone', () => {
    const out = shiftRanges(ranges, { rangeOffset: 4, rangeLength: 0, text: '  ' });
    assert.deepEqual(out.map((r) => [r.id, r.start, r.end]), [['this', 0, 4], ['movie', 7, 12], ['rocks', 13, 18]]);
  });
  test('editing inside a word drops only that word', () => {
    const out = shiftRanges(ranges, { rangeOffset: 6, rangeLength: 2, text: 'XYZ' });
    assert.deepEqual(out.map((r) => [r.id, r.start, r.end]), [['this', 0, 4], ['rocks', 12, 17]]);
  });
  test('letters typed against a word change the word; punctuation does not', () => {
    assert.deepEqual(shiftRanges(ranges, { rangeOffset: 10, rangeLength: 0, text: 's' }).map((r) => r.id), ['this', 'rocks']);
    assert.deepEqual(shiftRanges(ranges, { rangeOffset: 10, rangeLength: 0, text: '!' }).map((r) => r.id), ['this', 'movie', 'rocks']);
    assert.deepEqual(shiftRanges(ranges, { rangeOffset: 11, rangeLength: 0, text: 'un' }).map((r) => r.id), ['this', 'movie']);
  });
  test('deleting a line before everything shifts all; several changes apply from the end', () => {
    const out = applyChanges(ranges, [
      { rangeOffset: 0, rangeLength: 0, text: 'Well, ' },
      { rangeOffset: 16, rangeLength: 0, text: '!!' },
    ]);
    assert.deepEqual(out.map((r) => [r.id, r.start, r.end]), [['this', 6, 10], ['movie', 11, 16], ['rocks', 17, 22]]);
  });
});
