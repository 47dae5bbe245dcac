import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureModel, readReference } from '../../support/fixtureModels';
import { describeRun, jsonOf, runCli } from './cliProcess';

const A = 'the man went to the house.';
const B = 'he was not at home';
let nli: string;

before(() => {
  nli = fixtureModel('bert-nli-op14');
});

describe('onnx-lens with --pair (sentence pairs)', () => {
  test('predict --pair prints the pair classifier\'s labels with the PyTorch logits', async () => {
    const run = await runCli(['predict', '--model', nli, '--pair', B, '--json', A]);
    assert.equal(run.code, 0, describeRun(run));
    const p = jsonOf(run);
    const want = (readReference('bert-nli-op14').outputs.logits.data as number[]).slice(3, 6);
    for (const c of p.candidates) assert.ok(Math.abs(c.logit - want[c.id]) < 1e-5, `${c.label}: ${c.logit} vs ${want[c.id]}`);
    assert.equal(p.encoded.textPair, B);
    const text = await runCli(['predict', '--model', nli, '--pair', B, A]);
    assert.match(text.stdout, /^Prediction/m);
    assert.match(text.stdout, /entailment/);
  });

  test('explain --pair --json: words of both texts, each with its segment and offsets into its own text', async () => {
    const run = await runCli(['explain', '--model', nli, '--method', 'exact-shapley', '--pair', B, '--json', A]);
    assert.equal(run.code, 0, describeRun(run));
    const r = jsonOf(run);
    assert.equal(r.text, A);
    assert.equal(r.textPair, B);
    const bySegment = [0, 1].map((s) => r.features.filter((f: { segment: number }) => f.segment === s).map((f: { text: string }) => f.text).join(' '));
    assert.deepEqual(bySegment, ['the man went to the house .', 'he was not at home']);
    for (const f of r.features) assert.equal((f.segment === 1 ? B : A).slice(f.start, f.end), f.text);
    const sum = r.features.reduce((s: number, f: { value: number }) => s + f.value, 0);
    assert.ok(Math.abs(sum - (r.outputValue - r.baseValue)) < 1e-4);
  });

  test('explain --pair prints each text on its own line, marked A and B, and marks each word\'s text', async () => {
    const run = await runCli(['explain', '--model', nli, '--method', 'occlusion', '--pair', B, A]);
    assert.equal(run.code, 0, describeRun(run));
    assert.match(run.stdout, /^ {2}A {2}the man went to the house\.$/m);
    assert.match(run.stdout, /^ {2}B {2}he was not at home$/m);
    assert.match(run.stdout, /^ {2}B home +[+-]\d/m);
    assert.match(run.stdout, /^ {2}A house +[+-]\d/m);
  });

  test('attention --pair: segments on tokens, and per layer and head the share of attention across the pair', async () => {
    const run = await runCli(['attention', '--model', nli, '--pair', B, '--json', '--no-hidden', A]);
    assert.equal(run.code, 0, describeRun(run));
    const j = jsonOf(run);
    assert.equal(j.textPair, B);
    assert.deepEqual(j.tokens.map((t: { segment: number }) => t.segment), [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
    assert.equal(j.acrossPair.length, 2);
    for (const layer of j.acrossPair) {
      assert.equal(layer.aToB.length, 4);
      for (const [h, v] of layer.aToB.entries()) assert.ok(v > 0 && v + layer.aToA[h] < 1 + 1e-6);
    }
    const text = await runCli(['attention', '--model', nli, '--pair', B, '--layer', '1', A]);
    assert.equal(text.code, 0, describeRun(text));
    assert.match(text.stdout, /Sentence pair: A = tokens 1–7 \(token type 0\), B = tokens 9–13 \(token type 1\)\./);
    assert.match(text.stdout, /Across the pair/);
    assert.match(text.stdout, /^ {2}1 +\d+\.\d% +\d+\.\d%/m);
  });
});
