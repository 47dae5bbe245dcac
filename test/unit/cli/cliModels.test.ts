import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fixtureModel, generationFixture, readGenerationReference } from '../../support/fixtureModels';
import { tempDir } from '../../support/tempFolders';
import { describeRun, jsonOf, runCli } from './cliProcess';

const work = tempDir('cli-models');

interface AttentionLayer {
  layer: number;
  kind: string;
  shape: [number, number, number, number];
  head?: number;
  data: number[];
}

function assertRowsSumToOne(a: AttentionLayer): void {
  const [, heads, q, k] = a.shape;
  assert.equal(a.data.length, heads * q * k, `layer ${a.layer} ${a.kind}: data length matches the shape`);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < q; i++) {
      let s = 0;
      for (let j = 0; j < k; j++) s += a.data[(h * q + i) * k + j];
      assert.ok(Math.abs(s - 1) < 1e-3, `layer ${a.layer} ${a.kind} head ${h} row ${i} sums to ${s}`);
    }
  }
}

describe('onnx-lens inspect', () => {
  test('shows the model card; --json holds the card fields', async () => {
    const bert = fixtureModel('bert-cls-op14');
    const config = JSON.parse(fs.readFileSync(path.join(bert, 'config.json'), 'utf8'));
    const run = await runCli(['inspect', '--model', bert]);
    assert.equal(run.code, 0, describeRun(run));
    assert.match(run.stdout, /family +bert/);
    assert.match(run.stdout, /task +sequence-classification/);
    assert.match(run.stdout, /labels +NEGATIVE, POSITIVE/);
    assert.match(run.stdout, new RegExp(`layers +${config.num_hidden_layers}\\b`));
    assert.match(run.stdout, /input +input_ids int64 /);

    const card = jsonOf(await runCli(['inspect', '--model', bert, '--json']));
    assert.equal(card.family, 'bert');
    assert.equal(card.task, 'sequence-classification');
    assert.deepEqual(card.labels, ['NEGATIVE', 'POSITIVE']);
    assert.equal(card.layers.value, config.num_hidden_layers);
    assert.equal(card.heads.value, config.num_attention_heads);
    assert.equal(card.hiddenSize.value, config.hidden_size);
    assert.equal(card.vocabSize.value, config.vocab_size);
    assert.equal(card.variant, 'fp32');
    assert.match(card.sha256, /^[0-9a-f]{64}$/);
    assert.equal(card.bytes, fs.statSync(path.join(bert, 'onnx', 'model.onnx')).size);

    const quantized = jsonOf(await runCli(['inspect', '--model', bert, '--variant', 'quantized', '--json']));
    assert.equal(quantized.quantized, true);
    assert.ok(quantized.bytes < card.bytes);
  });

  test('a folder whose model.onnx is random bytes exits 2 with a message', async () => {
    const broken = path.join(work, 'broken');
    fs.mkdirSync(path.join(broken, 'onnx'), { recursive: true });
    fs.copyFileSync(path.join(fixtureModel('bert-cls-op14'), 'tokenizer.json'), path.join(broken, 'tokenizer.json'));
    fs.writeFileSync(path.join(broken, 'onnx', 'model.onnx'), Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24)));
    for (const args of [['inspect'], ['predict', 'some text'], ['explain', 'some text']]) {
      const run = await runCli([args[0], '--model', broken, ...args.slice(1)]);
      assert.equal(run.code, 2, `${args[0]}: ${describeRun(run)}`);
      assert.match(run.stderr, /^onnx-lens: error: \S/m);
      assert.equal(run.stdout, '');
    }
  });

  test('a model path that does not exist exits 2', async () => {
    const run = await runCli(['predict', '--model', path.join(work, 'nowhere'), 'text']);
    assert.equal(run.code, 2, describeRun(run));
    assert.match(run.stderr, /does not exist/);
  });
});

describe('onnx-lens predict', () => {
  test('a classifier: every class with probabilities that sum to 1', async () => {
    const bert = fixtureModel('bert-cls-op14');
    const p = jsonOf(await runCli(['predict', '--model', bert, '--json', 'a fine film']));
    assert.equal(p.task, 'sequence-classification');
    assert.deepEqual(p.candidates.map((c: { label: string }) => c.label).sort(), ['NEGATIVE', 'POSITIVE']);
    const total = p.candidates.reduce((s: number, c: { probability: number }) => s + c.probability, 0);
    assert.ok(Math.abs(total - 1) < 1e-5);
    const text = await runCli(['predict', '--model', bert, 'a fine film']);
    assert.equal(text.code, 0, describeRun(text));
    for (const c of p.candidates) assert.match(text.stdout, new RegExp(`${c.label} +${(c.probability * 100).toFixed(1)}%`));
  });

  test('a masked LM, a causal LM and a text-to-text model', async () => {
    const mlm = await runCli(['predict', '--model', fixtureModel('bert-mlm-op14'), '--top', '3', '--json', 'the [MASK] was good']);
    assert.equal(mlm.code, 0, describeRun(mlm));
    const m = jsonOf(mlm);
    assert.equal(m.task, 'masked-lm');
    assert.equal(m.candidates.length, 3);
    const mlmText = await runCli(['predict', '--model', fixtureModel('bert-mlm-op14'), '--top', '3', 'the [MASK] was good']);
    assert.match(mlmText.stdout, /Candidates for the masked token/);
    assert.ok(mlmText.stdout.includes(m.candidates[0].label));

    const gpt = await runCli(['predict', '--model', fixtureModel('gpt2-op14'), 'the movie was']);
    assert.equal(gpt.code, 0, describeRun(gpt));
    assert.match(gpt.stdout, /^Next token/m);

    const t5 = await runCli(['predict', '--model', fixtureModel('t5-op14'), '--json', 'translate English to German: the house']);
    assert.equal(t5.code, 0, describeRun(t5));
    const t = jsonOf(t5);
    assert.equal(t.task, 'seq2seq');
    assert.equal(typeof t.generated.text, 'string');
  });

  test('explain works on a causal LM and a text-to-text model', async () => {
    const gpt = jsonOf(await runCli(['explain', '--model', fixtureModel('gpt2-op14'), '--method', 'exact-shapley', '--json', 'the movie was']));
    assert.equal(gpt.target.kind, 'next-token');
    const sum = gpt.features.reduce((s: number, f: { value: number }) => s + f.value, 0);
    assert.ok(Math.abs(sum - (gpt.outputValue - gpt.baseValue)) < 1e-4);
    const t5 = await runCli(['explain', '--model', fixtureModel('t5-op14'), '--method', 'occlusion', 'translate English to German: the house']);
    assert.equal(t5.code, 0, describeRun(t5));
    assert.match(t5.stdout, /^Explains: /m);
    for (const w of ['translate', 'English', 'German', 'house']) assert.ok(t5.stdout.includes(w), w);
  });
});

describe('onnx-lens attention', () => {
  test('--json: tokens with offsets, every layer, rows that sum to 1, hidden states', async () => {
    const bert = fixtureModel('bert-cls-op14');
    const text = 'a good movie';
    const run = await runCli(['attention', '--model', bert, '--json', text]);
    assert.equal(run.code, 0, describeRun(run));
    const a = jsonOf(run);
    assert.equal(a.text, text);
    assert.equal(a.tokens[0].text, '[CLS]');
    for (const t of a.tokens.filter((t: { special: boolean }) => !t.special)) assert.ok(t.end > t.start && t.end <= text.length);
    assert.deepEqual(a.attentions.map((x: AttentionLayer) => x.layer), [0, 1]);
    for (const layer of a.attentions) {
      assert.equal(layer.kind, 'self');
      assert.deepEqual(layer.shape, [1, 4, a.tokens.length, a.tokens.length]);
      assertRowsSumToOne(layer);
    }
    assert.equal(a.hiddenStates.length, 3, 'embeddings + one per layer');
    assert.deepEqual(a.hiddenStates[0].shape, [1, a.tokens.length, 32]);
    assert.equal(a.hiddenStates[0].data.length, a.tokens.length * 32);
  });

  test('a merged decoder (its layers inside an If): every layer and hidden state as PyTorch has them', async () => {
    const c = readGenerationReference('gpt2-merged').cases[0];
    const run = await runCli(['attention', '--model', generationFixture('gpt2-merged'), '--json', c.prompt]);
    assert.equal(run.code, 0, describeRun(run));
    const a = jsonOf(run);
    assert.deepEqual(a.tokens.map((t: { id: number }) => t.id), c.prompt_ids);
    const want = c.internals!.prompt;
    assert.equal(a.attentions.length, want.attentions.length);
    a.attentions.forEach((layer: AttentionLayer, i: number) => {
      assert.deepEqual(layer.shape, want.attentions[i].shape);
      assert.ok(layer.data.every((v, j) => Math.abs(v - want.attentions[i].data[j]) < 1e-5), `layer ${i}`);
    });
    assert.equal(a.hiddenStates.length, want.hidden_states.length);
    a.hiddenStates.forEach((h: { data: number[] }, i: number) => assert.ok(h.data.every((v, j) => Math.abs(v - want.hidden_states[i].data[j]) < 1e-5), `hidden state ${i}`));
  });

  test('--layer and --head pick one matrix; --no-hidden drops hidden states', async () => {
    const bert = fixtureModel('bert-cls-op14');
    const all = jsonOf(await runCli(['attention', '--model', bert, '--json', 'a good movie']));
    const one = jsonOf(await runCli(['attention', '--model', bert, '--json', '--layer', '1', '--head', '2', '--no-hidden', 'a good movie']));
    assert.equal(one.attentions.length, 1);
    const [layer] = one.attentions;
    const n = all.tokens.length;
    assert.equal(layer.layer, 1);
    assert.equal(layer.head, 2);
    assert.deepEqual(layer.shape, [1, 1, n, n]);
    assert.deepEqual(layer.data, all.attentions[1].data.slice(2 * n * n, 3 * n * n));
    assert.deepEqual(one.hiddenStates, []);

    const badLayer = await runCli(['attention', '--model', bert, '--layer', '9', 'a good movie']);
    assert.equal(badLayer.code, 1);
    assert.match(badLayer.stderr, /Layer 9 does not exist: this model has layers 0–1/);
    const badHead = await runCli(['attention', '--model', bert, '--head', '4', 'a good movie']);
    assert.equal(badHead.code, 1);
    assert.match(badHead.stderr, /Head 4 does not exist/);
  });

  test('text view: the tokens and a matrix row per token', async () => {
    const run = await runCli(['attention', '--model', fixtureModel('bert-cls-op14'), '--layer', '0', 'a good movie']);
    assert.equal(run.code, 0, describeRun(run));
    assert.match(run.stdout, /^Tokens \(\d+\): 0:\[CLS\] 1:a 2:good/m);
    assert.match(run.stdout, /^Layer 0, self attention, mean of 4 heads$/m);
    assert.match(run.stdout, /^ +0 \[CLS\] +│.+│ → /m);
  });

  test('text view of a causal LM: a row lists only the tokens it can attend to, never the later ones', async () => {
    const run = await runCli(['attention', '--model', fixtureModel('gpt2-op14'), '--layer', '0', 'the movie was good']);
    assert.equal(run.code, 0, describeRun(run));
    const rows = run.stdout.split('\n').filter((l) => /^ +\d+ .*→ /.test(l));
    assert.equal(rows.length, 4, describeRun(run));
    rows.forEach((row, i) => {
      const listed = row.slice(row.lastIndexOf('→') + 1).split(',').filter((x) => x.trim());
      // Row i sees tokens 0..i: the first row lists one token (weight 1), the next two, then three at most.
      assert.equal(listed.length, Math.min(3, i + 1), row);
    });
    assert.match(rows[0], /→ the 1\.00$/);
  });

  test('--ids feeds exact token ids and gives the same attention as the text', async () => {
    const bert = fixtureModel('bert-cls-op14');
    const fromText = jsonOf(await runCli(['attention', '--model', bert, '--json', '--no-hidden', 'a good movie']));
    const ids = fromText.tokens.map((t: { id: number }) => t.id).join(',');
    const fromIds = jsonOf(await runCli(['attention', '--model', bert, '--json', '--no-hidden', '--ids', ids]));
    assert.deepEqual(fromIds.tokens.map((t: { id: number }) => t.id), fromText.tokens.map((t: { id: number }) => t.id));
    for (let l = 0; l < fromText.attentions.length; l++) {
      const a = fromText.attentions[l].data;
      const b = fromIds.attentions[l].data;
      assert.ok(a.every((v: number, i: number) => Math.abs(v - b[i]) < 1e-5), `layer ${l} matches`);
    }
  });

  test('bad --ids exit 1', async () => {
    const bert = fixtureModel('bert-cls-op14');
    for (const ids of ['101,abc', '', '5,-3', '999999999']) {
      const run = await runCli(['attention', '--model', bert, '--ids', ids]);
      assert.equal(run.code, 1, `--ids ${JSON.stringify(ids)}: ${describeRun(run)}`);
    }
    const both = await runCli(['attention', '--model', bert, '--ids', '1,2', 'text too']);
    assert.equal(both.code, 1);
  });

  test('a text-to-text model has self, decoder and cross attention, each row summing to 1', async () => {
    const run = await runCli(['attention', '--model', fixtureModel('t5-op14'), '--json', '--no-hidden', 'translate English to German: the house']);
    assert.equal(run.code, 0, describeRun(run));
    const a = jsonOf(run);
    assert.deepEqual([...new Set(a.attentions.map((x: AttentionLayer) => x.kind))].sort(), ['cross', 'decoder', 'self']);
    for (const layer of a.attentions) assertRowsSumToOne(layer);
    const cross = a.attentions.find((x: AttentionLayer) => x.kind === 'cross');
    assert.equal(cross.shape[3], a.tokens.length, 'cross-attention keys are the encoder tokens');
  });
});
