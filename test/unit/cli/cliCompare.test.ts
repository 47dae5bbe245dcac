import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureModel } from '../../support/fixtureModels';
import { describeRun, jsonOf, runCli } from './cliProcess';

const TEXT = 'this movie was great fun';

describe('onnx-lens compare', () => {
  test('fp32 vs quantized: drift, agreement, size and speed match the separate runs', async () => {
    const bert = fixtureModel('bert-cls-op14');
    const run = await runCli(['compare', '--model', bert, '--model', bert, '--variant', 'fp32', '--variant', 'quantized', '--method', 'exact-shapley', '--json', TEXT]);
    assert.equal(run.code, 0, describeRun(run));
    const c = jsonOf(run);
    assert.equal(c.text, TEXT);
    assert.deepEqual(c.models.map((m: { variant: string }) => m.variant), ['fp32', 'quantized']);

    const pa = jsonOf(await runCli(['predict', '--model', bert, '--json', TEXT]));
    const pb = jsonOf(await runCli(['predict', '--model', bert, '--variant', 'quantized', '--json', TEXT]));
    const prob = (p: { candidates: { label: string; probability: number }[] }, label: string) => p.candidates.find((x) => x.label === label)!.probability;
    const expected = Math.max(...['NEGATIVE', 'POSITIVE'].map((l) => Math.abs(prob(pa, l) - prob(pb, l))));
    assert.ok(Math.abs(c.drift.maxAbsProbabilityDelta - expected) < 1e-6, `drift ${c.drift.maxAbsProbabilityDelta} vs ${expected}`);
    assert.equal(c.drift.comparedLabels, 2);
    assert.equal(c.drift.sameTopLabel, pa.candidates[0].label === pb.candidates[0].label);

    // Both explain the same target with the same settings, over the same words.
    const [ea, eb] = c.models.map((m: { explanation: any }) => m.explanation);
    assert.equal(eb.target.label, ea.target.label);
    assert.equal(eb.provenance.method, 'exact-shapley');
    assert.equal(c.agreement.comparable, true);
    assert.ok(c.agreement.spearman >= -1 && c.agreement.spearman <= 1);
    assert.ok(c.agreement.kendallTauB >= -1 && c.agreement.kendallTauB <= 1);
    assert.ok(c.agreement.topK.overlap >= 0 && c.agreement.topK.overlap <= 1);
    const single = jsonOf(await runCli(['explain', '--model', bert, '--variant', 'quantized', '--method', 'exact-shapley', '--target', ea.target.label, '--json', TEXT]));
    assert.deepEqual(eb.features.map((f: { value: number }) => f.value), single.features.map((f: { value: number }) => f.value));

    assert.equal(c.size.bytesA, c.models[0].bytes);
    assert.ok(c.size.bytesB < c.size.bytesA, 'the quantized export is smaller');
    assert.ok(Math.abs(c.size.ratio - c.size.bytesB / c.size.bytesA) < 1e-12);
    assert.ok(c.speed.predictSpeedup > 0 && c.speed.explainSpeedup > 0);
    assert.ok(c.models.every((m: { timing: { predictMs: number; explainMs: number } }) => m.timing.predictMs > 0 && m.timing.explainMs > 0));
  });

  test('a model compared with itself: no drift and full agreement', async () => {
    const bert = fixtureModel('bert-cls-op14');
    const run = await runCli(['compare', '--model', bert, '--model', bert, '--method', 'exact-shapley', '--json', TEXT]);
    assert.equal(run.code, 0, describeRun(run));
    const c = jsonOf(run);
    assert.equal(c.drift.maxAbsProbabilityDelta, 0);
    assert.equal(c.drift.sameTopLabel, true);
    assert.equal(c.agreement.spearman, 1);
    assert.equal(c.agreement.kendallTauB, 1);
    assert.equal(c.agreement.topK.overlap, 1);
  });

  test('text output names both models and every word', async () => {
    const bert = fixtureModel('bert-cls-op14');
    const run = await runCli(['compare', '--model', bert, '--model', bert, '--variant', 'fp32', '--variant', 'quantized', '--method', 'occlusion', TEXT]);
    assert.equal(run.code, 0, describeRun(run));
    assert.match(run.stdout, /^A .*\(bert, fp32\)/m);
    assert.match(run.stdout, /^B .*\(bert, quantized\)/m);
    assert.match(run.stdout, /max \|Δprobability\| \d\.\d{4}/);
    assert.match(run.stdout, /Spearman -?\d\.\d{3}, Kendall τ-b -?\d\.\d{3}, top-\d overlap \d\.\d{2}/);
    assert.match(run.stdout, /^Size: A .*, B .*×/m);
    assert.match(run.stdout, /^Speed: predict A .*explain A/m);
    for (const w of TEXT.split(' ')) assert.match(run.stdout, new RegExp(`^  ${w} +[+-]\\d`, 'm'));
  });

  test('models with different tokenizers: agreement is marked not comparable', async () => {
    const run = await runCli(['compare', '--model', fixtureModel('bert-cls-op14'), '--model', fixtureModel('gpt2-op14'), '--method', 'occlusion', '--json', 'the film was good']);
    assert.equal(run.code, 0, describeRun(run));
    const c = jsonOf(run);
    // GPT-2 cannot explain the classifier's label; it explains its own prediction and says so.
    assert.ok(c.notes.some((n: string) => /explains its own prediction/.test(n)), JSON.stringify(c.notes));
    assert.equal(c.agreement.sameTarget, false);
  });
});
