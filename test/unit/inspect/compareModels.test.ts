import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { compareModels, compareOpen } from '../../../src/engine/inspect/compareModels';
import { predictPrepared } from '../../../src/engine/run/predict';
import { readReference } from '../../support/fixtureModels';
import { PlainModel } from '../../support/plainOnnx';
import { QUIET } from '../../support/engineService';
import { folderOf, openFixture } from './inspectSupport';

/**
 * Bound on |int8 − fp32| logits of the bert-cls-op14 fixture. Measured: 0.34 on its first reference row
 * (against PyTorch, and against the fp32 ONNX file), 0.05 and 0.32 on the other texts below; the bound
 * adds a small margin over the largest.
 */
const QUANTIZATION_LOGIT_ERROR = 0.35;

describe('compare two models', () => {
  test('a model compared with itself: no drift, perfect agreement, no attention difference', async () => {
    const model = await openFixture('bert-cls-op14');
    const r = await compareOpen(model, model, { text: 'this film was not good at all', timingRuns: 2 }, QUIET);
    assert.equal(r.drift.maxAbsProbabilityDiff, 0);
    assert.equal(r.drift.maxAbsLogitDiff, 0);
    assert.equal(r.drift.klDivergence, 0);
    assert.equal(r.drift.top1Agree, true);
    assert.equal(r.attribution!.matchedWords, 7);
    assert.equal(r.attribution!.spearman, 1);
    assert.equal(r.attribution!.kendallTau, 1);
    assert.equal(r.attribution!.topKOverlap, 1);
    assert.equal(r.attention!.length, 2);
    for (const layer of r.attention!) assert.deepEqual(layer.meanAbsDiff, [0, 0, 0, 0]);
    assert.equal(r.sizeRatio, 1);
  });

  test('int8 against fp32 (bert-cls-op14): drift equals the two models run apart, within the quantization error', async () => {
    const fp32 = await openFixture('bert-cls-op14');
    const int8 = await openFixture('bert-cls-op14', 'quantized');
    const plainFp32 = await PlainModel.open(path.join(folderOf('bert-cls-op14'), 'onnx', 'model.onnx'));
    const plainInt8 = await PlainModel.open(path.join(folderOf('bert-cls-op14'), 'onnx', 'model_quantized.onnx'));
    const texts = ['this film was not good at all', 'a great story', 'the plot was slow and the acting was bad'];
    for (const text of texts) {
      const r = await compareOpen(fp32, int8, { text, timingRuns: 1, explain: text === texts[0] }, QUIET);
      // Independent: each ONNX file run by a plain onnxruntime session on the same token ids, with the KL
      // divergence written out here.
      const ids = (await fp32.prepare(text)).encoding.ids;
      const logitsA = Array.from((await plainFp32.logits(ids))[0]);
      const logitsB = Array.from((await plainInt8.logits(ids))[0]);
      const maxLogit = Math.max(...logitsA.map((x, i) => Math.abs(x - logitsB[i])));
      const probs = (l: number[]) => l.map((x) => Math.exp(x) / l.reduce((s, y) => s + Math.exp(y), 0));
      const [pa, pb] = [probs(logitsA), probs(logitsB)];
      const kl = pa.reduce((s, p, i) => s + p * Math.log(p / pb[i]), 0);
      assert.ok(Math.abs(r.drift.maxAbsLogitDiff! - maxLogit) < 1e-5, `${r.drift.maxAbsLogitDiff} vs ${maxLogit}`);
      assert.ok(Math.abs(r.drift.klDivergence! - kl) < 1e-7, `${r.drift.klDivergence} vs ${kl}`);
      assert.ok(r.drift.maxAbsLogitDiff! > 0, 'int8 differs from fp32 at all');
      assert.ok(r.drift.maxAbsLogitDiff! <= QUANTIZATION_LOGIT_ERROR, `${text}: ${r.drift.maxAbsLogitDiff}`);
      console.log(`int8 vs fp32 "${text}": max |Δlogit| ${r.drift.maxAbsLogitDiff!.toFixed(4)}, KL ${r.drift.klDivergence!.toExponential(2)}, max |Δp| ${r.drift.maxAbsProbabilityDiff.toFixed(4)}`);
      assert.equal(r.drift.top1Agree, pa.indexOf(Math.max(...pa)) === pb.indexOf(Math.max(...pb)));
      assert.ok(r.sizeRatio < 1, 'the int8 file is smaller');
    }
  });

  test('the measured quantization error of the fixture (reference rows) is what the bound above states', async () => {
    const ref = readReference('bert-cls-op14');
    const int8 = await openFixture('bert-cls-op14', 'quantized');
    const ids = ref.inputs.input_ids.data.slice(0, 9);
    const text = 'this film was not good at all';
    assert.deepEqual((await int8.prepare(text)).encoding.ids, ids);
    const c = (await predictPrepared(int8, await int8.prepare(text), 2)).candidates;
    const err = Math.max(...[0, 1].map((id) => Math.abs(c.find((x) => x.id === id)!.logit - ref.outputs.logits.data[id])));
    console.log(`bert-cls-op14 int8 vs PyTorch fp32 logits, row 0: ${err.toFixed(4)}`);
    assert.ok(err > 0.01 && err <= QUANTIZATION_LOGIT_ERROR);
  });

  test('the request opens the other variant of the same folder by default, and closes it', async () => {
    const fp32 = await openFixture('bert-cls-op14');
    const r = await compareModels(fp32, { text: 'a great story', timingRuns: 1, explain: false }, QUIET);
    assert.equal(r.a.variant, 'fp32');
    assert.notEqual(r.b.variant, 'fp32');
    assert.equal(r.attribution, undefined);
    assert.ok(r.a.predictMs > 0 && r.b.predictMs > 0 && r.speedRatio > 0);
    const single = await openFixture('bert-cls-op17');
    await assert.rejects(() => compareModels(single, { text: 'a', explain: false }, QUIET), /one variant/);
  });

  test('models with different tasks are refused', async () => {
    const a = await openFixture('bert-cls-op14');
    const b = await openFixture('gpt2-op14');
    await assert.rejects(() => compareOpen(a, b, { text: 'a great story' }, QUIET), /different tasks/);
  });
});
