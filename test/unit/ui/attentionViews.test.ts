import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AttentionResult, TokenView } from '../../../src/protocol/engineApi';
import { activationGrid, activationViews, topNeurons } from '../../../src/render/activationViews';
import {
  attentionMatrixView,
  attentionOverview,
  attentionUnits,
  groupMatrix,
  headThumbnails,
  maxPool,
  quantise,
  topAttendedUnits,
  unitAt,
} from '../../../src/render/attentionViews';

// "[CLS] un ##believ ##able film [SEP]": one word split in three, one whole word.
const TEXT = 'unbelievable film';
const tokens: TokenView[] = [
  { id: 101, text: '[CLS]', start: 0, end: 0, special: true, wordIndex: -1 },
  { id: 1, text: 'un', start: 0, end: 2, special: false, wordIndex: 0 },
  { id: 2, text: '##believ', start: 2, end: 8, special: false, wordIndex: 0 },
  { id: 3, text: '##able', start: 8, end: 12, special: false, wordIndex: 0 },
  { id: 4, text: 'film', start: 13, end: 17, special: false, wordIndex: 1 },
  { id: 102, text: '[SEP]', start: 17, end: 17, special: true, wordIndex: -1 },
];
const words = [
  { text: 'unbelievable', start: 0, end: 12, tokenIndices: [1, 2, 3] },
  { text: 'film', start: 13, end: 17, tokenIndices: [4] },
];

/** Rows that sum to 1: head h of layer l puts weight on key (q + h + l) mod n, the rest spread evenly. */
function syntheticResult(layers = 2, heads = 3, n = tokens.length, hidden = 4): AttentionResult {
  const attentions = [];
  const hiddenStates = [];
  for (let l = 0; l < layers; l++) {
    const data = new Float32Array(heads * n * n);
    for (let h = 0; h < heads; h++) {
      for (let q = 0; q < n; q++) {
        for (let k = 0; k < n; k++) data[h * n * n + q * n + k] = 0.5 / n;
        data[h * n * n + q * n + ((q + h + l) % n)] += 0.5;
      }
    }
    attentions.push({ layer: l, kind: 'self' as const, shape: [1, heads, n, n] as [number, number, number, number], data });
  }
  for (let i = 0; i <= layers; i++) {
    const data = new Float32Array(n * hidden);
    for (let s = 0; s < n; s++) for (let d = 0; d < hidden; d++) data[s * hidden + d] = (i + 1) * (d === s % hidden ? 3 : 1) * (d % 2 ? -1 : 1);
    hiddenStates.push({ index: i, stack: 'encoder' as const, shape: [1, n, hidden] as [number, number, number], data });
  }
  return { encoded: { text: TEXT, tokens, words }, attentions, hiddenStates };
}

describe('attention units', () => {
  test('sub-words group into words; special tokens stay their own units', () => {
    const units = attentionUnits(tokens, words, 'word');
    assert.deepEqual(units.map((u) => u.label), ['[CLS]', 'unbelievable', 'film', '[SEP]']);
    assert.deepEqual(units[1].tokenIndices, [1, 2, 3]);
    assert.equal(attentionUnits(tokens, words, 'token').length, 6);
    assert.equal(unitAt(units, 13, 17), 2);
  });
  test('grouped rows still sum to 1 (mean over query tokens, sum over key tokens)', () => {
    const r = syntheticResult();
    const units = attentionUnits(tokens, words, 'word');
    const m = groupMatrix(r.attentions[0].data.subarray(0, 36), 6, units, units);
    for (let i = 0; i < units.length; i++) {
      const sum = Array.from(m.subarray(i * 4, i * 4 + 4)).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - 1) < 1e-6, `row ${i} sums to ${sum}`);
    }
  });
  test('quantise scales to the maximum; max-pool keeps sharp peaks', () => {
    const q = quantise(new Float32Array([0, 0.25, 0.5]));
    assert.deepEqual(Array.from(q.data), [0, 128, 255]);
    assert.equal(q.scale, 0.5);
    const eye = new Float32Array(16);
    for (let i = 0; i < 4; i++) eye[i * 4 + i] = 1;
    const pooled = maxPool(eye, 4, 4, 2);
    assert.deepEqual(Array.from(pooled.data), [1, 0, 0, 1]);
  });
});

describe('attention views', () => {
  test('thumbnails: one per layer × head, each scaled to its own maximum', () => {
    const r = syntheticResult(2, 3);
    const t = headThumbnails(r, 'self', 'token', 4)!;
    assert.equal(t.layers.length, 2);
    assert.equal(t.heads, 3);
    assert.equal(t.rows, 4);
    assert.equal(t.data.length, 2 * 3 * 16);
    assert.equal(t.scales.length, 6);
    for (let i = 0; i < 6; i++) assert.equal(Math.max(...t.data.subarray(i * 16, (i + 1) * 16)), 255);
  });
  test('overview and matrix of a layer at word level', () => {
    const r = syntheticResult();
    const o = attentionOverview(r, TEXT, 'word');
    assert.deepEqual(o.units[0].rows.map((u) => u.label), ['[CLS]', 'unbelievable', 'film', '[SEP]']);
    const m = attentionMatrixView(r, { kind: 'self', layer: 1, heads: [-1, 0, 2, 7], level: 'word' });
    assert.deepEqual(m.heads, [-1, 0, 2]);
    assert.equal(m.rows, 4);
    assert.equal(m.data.length, 3 * 16);
    assert.throws(() => attentionMatrixView(r, { kind: 'cross', layer: 0, heads: [0], level: 'word' }));
  });
  test('a 512-token input with 12 × 12 heads reduces to 64 × 64 thumbnails', () => {
    const n = 512;
    const big: TokenView[] = Array.from({ length: n }, (_, i) => ({ id: i, text: `t${i}`, start: i * 2, end: i * 2 + 1, special: false, wordIndex: i }));
    const attentions = Array.from({ length: 12 }, (_, l) => ({ layer: l, kind: 'self' as const, shape: [1, 12, n, n] as [number, number, number, number], data: new Float32Array(12 * n * n).fill(1 / n) }));
    const r: AttentionResult = { encoded: { text: '', tokens: big, words: big.map((t, i) => ({ text: t.text, start: t.start, end: t.end, tokenIndices: [i] })) }, attentions, hiddenStates: [] };
    const o = attentionOverview(r, '', 'token');
    assert.equal(o.grids[0].data.length, 12 * 12 * 64 * 64);
    assert.equal(o.grids[0].rows, 64);
  });
  test('the words a word attends to most leave out itself and special tokens', () => {
    const r = syntheticResult(1, 1);
    const top = topAttendedUnits(r, 1, 'word', 2);
    assert.ok(top.length > 0);
    assert.ok(top.every((t) => !t.unit.special && t.unit.label !== 'unbelievable'));
  });
});

describe('activations', () => {
  test('norms per token and layer; top neurons by magnitude', () => {
    const r = syntheticResult(2, 1, 6, 4);
    const g = activationGrid(r)!;
    assert.deepEqual(g.layers, [0, 1, 2]);
    assert.equal(g.norms.length, 6 * 3);
    // Token 0 at layer 0: values (3, -1, 1, -1) → √12.
    assert.ok(Math.abs(g.norms[0] - Math.sqrt(12)) < 1e-6);
    const top = topNeurons(r, 'encoder', 2, 1, 2);
    assert.equal(top[0].neuron, 1);
    assert.equal(top[0].value, -9);
    assert.equal(activationViews(r).length, 1);
    assert.equal(activationViews({ ...r, hiddenStates: [] }).length, 0);
  });
});
