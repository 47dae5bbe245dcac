import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { activations } from '../../../src/engine/inspect/activations';
import { logitLens } from '../../../src/engine/inspect/logitLens';
import { LoadedModel } from '../../../src/engine/model/loadedModel';
import { generationFixture, readReference } from '../../support/fixtureModels';
import { maxAbsDiff } from '../../support/tensorDifference';
import { openFixture, readInspectReference } from './inspectSupport';

/** Row 0 of a fixture reference: its unpadded ids and, per hidden state, its [S, D] values. */
function referenceRow0(name: string) {
  const ref = readReference(name);
  const [, s] = ref.inputs.input_ids.shape;
  const n = ref.inputs.attention_mask.data.slice(0, s).reduce((a, x) => a + x, 0);
  const ids = ref.inputs.input_ids.data.slice(0, n);
  const states = ref.hidden_states.map((h) => {
    const d = h.shape[2];
    return { index: h.index, d, data: h.data.slice(0, n * d) };
  });
  return { ids, n, states };
}

function norm(v: number[]): number {
  return Math.sqrt(v.reduce((a, x) => a + x * x, 0));
}

describe('activations', () => {
  for (const name of ['bert-cls-op14', 'gpt2-op14', 'distilbert-cls-op17']) {
    test(`${name}: norms and layer updates equal those of the PyTorch hidden states`, async () => {
      const model = await openFixture(name);
      const { ids, n, states } = referenceRow0(name);
      const r = await activations(model, { ids, layer: states.length - 1, token: n - 1, topUnits: 5 });
      assert.equal(r.layers, states.length - 1);
      assert.equal(r.norms.length, states.length);
      let worst = 0;
      for (const s of states) {
        for (let t = 0; t < n; t++) {
          const want = norm(s.data.slice(t * s.d, (t + 1) * s.d));
          worst = Math.max(worst, Math.abs(r.norms[s.index][t] - want) / Math.max(1, want));
        }
      }
      for (let i = 0; i + 1 < states.length; i++) {
        for (let t = 0; t < n; t++) {
          const d = states[i].d;
          const diff = states[i + 1].data.slice(t * d, (t + 1) * d).map((x, j) => x - states[i].data[t * d + j]);
          worst = Math.max(worst, Math.abs(r.updates[i][t] - norm(diff)) / Math.max(1, norm(diff)));
        }
      }
      assert.ok(worst < 1e-5, `relative difference ${worst}`);
      // Top units of the last token at the last hidden state: the largest |value| of the reference row.
      const last = states[states.length - 1];
      const row = last.data.slice((n - 1) * last.d, n * last.d);
      const want = row.map((v, i) => ({ i, a: Math.abs(v) })).sort((x, y) => y.a - x.a).slice(0, 5).map((x) => x.i);
      assert.deepEqual(r.top.units.map((u) => u.unit), want);
      r.top.units.forEach((u) => assert.ok(Math.abs(u.value - row[u.unit]) < 1e-4));
    });
  }

  test('a layer or token that does not exist is refused with the valid range', async () => {
    const model = await openFixture('bert-cls-op14');
    await assert.rejects(() => activations(model, { text: 'a great story', layer: 7 }), /hidden states 0–2/);
    await assert.rejects(() => activations(model, { text: 'a great story', token: 40 }), /tokens 0–4/);
  });
});

interface LensReference {
  input_ids: number[];
  predicted: number;
  layers: { index: number; top_ids: number[]; top_logits: number[]; predicted_rank: number }[];
}

describe('logit lens', () => {
  const ref = readInspectReference<LensReference>('logit-lens.json');
  // gpt2-merged has the same weights in Optimum's merged decoder: its layers sit inside the two branches of an If.
  for (const name of ['gpt2-op14', 'gpt2-op17', 'gpt2-merged']) {
    test(`${name}: the last layer reproduces the model's own logits, and every layer matches PyTorch's ln_f · wteᵀ`, async () => {
      const model = await (name === 'gpt2-merged' ? LoadedModel.open(generationFixture(name), undefined, { threads: 1 }) : openFixture(name));
      const r = await logitLens(model, { ids: ref.input_ids, topK: 20 });
      assert.equal(r.position, ref.input_ids.length - 1);
      assert.equal(r.prediction.id, ref.predicted);
      assert.ok(r.finalLayerMaxAbsDiff < 1e-4, `final layer differs from the model's logits by ${r.finalLayerMaxAbsDiff}`);
      const lastTop = r.layers[r.layers.length - 1].top[0];
      assert.equal(lastTop.id, r.prediction.id);
      assert.equal(r.layers.length, ref.layers.length);
      for (const want of ref.layers) {
        const got = r.layers[want.index];
        assert.deepEqual(got.top.map((c) => c.id), want.top_ids, `layer ${want.index} top ids`);
        assert.ok(maxAbsDiff(got.top.map((c) => c.logit), want.top_logits) < 1e-4, `layer ${want.index} logits`);
        assert.equal(got.predictedRank, want.predicted_rank);
      }
      // The grid's top token at the read position is the detailed list's first candidate.
      r.layers.forEach((l, i) => assert.equal(r.grid[i][r.position].id, l.top[0].id));
      assert.equal(r.grid[0].length, ref.input_ids.length);
    });
  }

  test('masked LM: the lens at the last hidden state gives the fill-mask prediction', async () => {
    const model = await openFixture('bert-mlm-op14');
    const r = await logitLens(model, { text: 'the man went to the [MASK].' });
    assert.ok(r.finalLayerMaxAbsDiff < 1e-4, `${r.finalLayerMaxAbsDiff}`);
    assert.equal(r.layers[r.layers.length - 1].predictedRank, 0);
  });

  test('quantized BERT classifier: the last layer still reproduces the model (the head runs as the graph has it)', async () => {
    const model = await openFixture('bert-cls-op14', 'quantized');
    const r = await logitLens(model, { text: 'this film was not good at all' });
    assert.ok(r.finalLayerMaxAbsDiff < 1e-4, `${r.finalLayerMaxAbsDiff}`);
  });
});
