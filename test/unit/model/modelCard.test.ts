import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkTokenizerFits, inspectModel, ModelCard } from '../../../src/engine/model/modelCard';
import { ModelError } from '../../../src/engine/model/modelError';
import { fixtureFolder, TOKENIZERS } from '../../support/fixtureModels';
import { tempDir } from '../../support/tempFolders';
import { GRAPHS } from './referenceFixtures';

interface Expected {
  family: string;
  task: string;
  layers: number;
  heads: number;
  hidden: number;
  vocab: number;
  labels?: string[];
  decoderLayers?: number;
}

const BERT_CLS: Expected = { family: 'bert', task: 'sequence-classification', layers: 2, heads: 4, hidden: 32, vocab: 900, labels: ['NEGATIVE', 'POSITIVE'] };
const EXPECTED: Record<string, Expected> = {
  'bert-cls-op14': BERT_CLS,
  'bert-cls-op17': BERT_CLS,
  'bert-sdpa-op14': BERT_CLS,
  'bert-cls-unnamed-op14': BERT_CLS,
  'bert-mlm-op14': { family: 'bert', task: 'masked-lm', layers: 2, heads: 4, hidden: 32, vocab: 900 },
  'bert-mlm-op17': { family: 'bert', task: 'masked-lm', layers: 2, heads: 4, hidden: 32, vocab: 900 },
  'distilbert-cls-op14': { family: 'distilbert', task: 'sequence-classification', layers: 2, heads: 4, hidden: 32, vocab: 900, labels: ['negative', 'neutral', 'positive'] },
  'distilbert-cls-op17': { family: 'distilbert', task: 'sequence-classification', layers: 2, heads: 4, hidden: 32, vocab: 900, labels: ['negative', 'neutral', 'positive'] },
  'gpt2-op14': { family: 'gpt2', task: 'causal-lm', layers: 2, heads: 4, hidden: 32, vocab: 663 },
  'gpt2-op17': { family: 'gpt2', task: 'causal-lm', layers: 2, heads: 4, hidden: 32, vocab: 663 },
  'gpt2-past-op14': { family: 'gpt2', task: 'causal-lm', layers: 2, heads: 4, hidden: 32, vocab: 663 },
  't5-op14': { family: 't5', task: 'seq2seq', layers: 2, heads: 4, hidden: 32, vocab: 248, decoderLayers: 2 },
  't5-op17': { family: 't5', task: 'seq2seq', layers: 2, heads: 4, hidden: 32, vocab: 248, decoderLayers: 2 },
};

function check(card: ModelCard, want: Expected, source: 'config' | 'graph'): void {
  assert.equal(card.family.value, want.family);
  assert.equal(card.task.value, want.task);
  assert.deepEqual([card.layers.value, card.heads.value, card.hiddenSize.value, card.vocabSize.value], [want.layers, want.heads, want.hidden, want.vocab]);
  for (const f of [card.layers, card.heads, card.hiddenSize, card.vocabSize]) assert.equal(f.source, source);
  assert.equal(card.decoderLayers?.value, want.decoderLayers);
  if (want.labels && source === 'config') assert.deepEqual(card.labels?.value, want.labels);
  if (want.labels && source === 'graph') assert.deepEqual(card.labels?.value, want.labels.map((_, i) => `LABEL_${i}`));
  assert.equal(card.attention.status, 'exposed');
}

/** Copy of a fixture's graph files without config.json. */
function withoutConfig(dir: string): string {
  const copy = tempDir('noconfig');
  fs.cpSync(path.join(dir, 'onnx'), path.join(copy, 'onnx'), { recursive: true });
  return copy;
}

describe('inspectModel on fixtures', () => {
  for (const [name, want] of Object.entries(EXPECTED)) {
    test(`${name}: config and graph agree`, async (t) => {
      const dir = fixtureFolder(name);
      const card = await inspectModel(dir, { requireTokenizer: false });
      check(card, want, 'config');
      assert.deepEqual(card.warnings, []);
      assert.equal(card.quantized, false);
      assert.equal(card.variant, 'fp32');
      assert.ok(card.opset === 14 || card.opset === 17);
      assert.equal(card.opset, Number(name.match(/op(\d+)/)?.[1]));
    });
    test(`${name}: without config.json the graph alone gives the same card`, async (t) => {
      const dir = fixtureFolder(name);
      const card = await inspectModel(withoutConfig(dir), { requireTokenizer: false });
      check(card, want, 'graph');
      assert.equal(card.family.source, 'graph');
      assert.equal(card.task.source, 'graph');
    });
  }

  test('quantized variants are recognised and still described correctly', async (t) => {
    for (const name of ['bert-cls-op14', 'distilbert-cls-op14', 'bert-mlm-op14']) {
      const dir = fixtureFolder(name);
      const card = await inspectModel(dir, { requireTokenizer: false, variant: 'quantized' });
      assert.equal(card.quantized, true);
      assert.equal(card.variant, 'quantized');
      check(card, EXPECTED[name], 'config');
      const fp32 = await inspectModel(dir, { requireTokenizer: false });
      assert.ok(card.files[0].bytes < fp32.files[0].bytes / 2, 'int8 file is much smaller');
    }
  });

  test('a config that disagrees with the graph is overruled, with a warning', async (t) => {
    const dir = fixtureFolder('bert-cls-op14');
    const copy = withoutConfig(dir);
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    config.num_hidden_layers = 12;
    config.num_attention_heads = 12;
    fs.writeFileSync(path.join(copy, 'config.json'), JSON.stringify(config));
    const card = await inspectModel(copy, { requireTokenizer: false });
    assert.deepEqual([card.layers.value, card.layers.source, card.heads.value, card.heads.source], [2, 'graph', 4, 'graph']);
    assert.deepEqual([card.vocabSize.value, card.vocabSize.source], [900, 'config']);
    assert.ok(card.warnings.some((w) => /layer count is 12, but the graph has 2/.test(w)));
    assert.ok(card.warnings.some((w) => /head count is 12, but the graph has 4/.test(w)));
  });

  test('the parameter count equals the BERT formula from config.json', async (t) => {
    const dir = fixtureFolder('bert-cls-op14');
    const card = await inspectModel(dir, { requireTokenizer: false });
    const c = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    const d = c.hidden_size;
    const ff = c.intermediate_size;
    const embeddings = (c.vocab_size + c.max_position_embeddings + c.type_vocab_size) * d + 2 * d;
    const layer = 4 * (d * d + d) + 2 * d + (d * ff + ff) + (ff * d + d) + 2 * d;
    const heads = d * d + d + d * 2 + 2;
    assert.equal(card.parameters, embeddings + c.num_hidden_layers * layer + heads);
  });

  test('files carry sizes and SHA-256 hashes', async (t) => {
    const dir = fixtureFolder('t5-op14');
    const card = await inspectModel(dir, { requireTokenizer: false });
    assert.deepEqual(card.files.map((f) => f.role), ['encoder', 'decoder']);
    for (const f of card.files) {
      assert.equal(f.bytes, fs.statSync(f.path).size);
      assert.equal(f.sha256, execFileSync('sha256sum', [f.path], { encoding: 'utf8' }).split(' ')[0]);
    }
    assert.deepEqual(card.inputs.map((i) => i.name), ['input_ids', 'attention_mask', 'encoder_attention_mask', 'encoder_hidden_states']);
  });
});

describe('fused attention in a card', () => {
  test('a fused com.microsoft.Attention graph reports recomputed attention and its heads', async () => {
    const card = await inspectModel(path.join(GRAPHS, 'fused-attention'), { requireTokenizer: false });
    assert.equal(card.attention.status, 'recomputed');
    assert.deepEqual([card.layers.value, card.heads.value, card.hiddenSize.value, card.vocabSize.value], [1, 2, 16, 20]);
    assert.equal(card.heads.source, 'graph');
  });
});

describe('models ONNX Lens refuses', () => {
  const isModelError = (code: string, pattern: RegExp) => (e: unknown) => e instanceof ModelError && e.code === code && pattern.test(e.message);

  test('a graph that is not a transformer names its inputs', async () => {
    await assert.rejects(inspectModel(path.join(GRAPHS, 'not-transformer'), { requireTokenizer: false }),
      isModelError('not-a-transformer', /model\.onnx is not a transformer text model: it has no input_ids input \(its inputs: features \[batch, 4\]\)/));
  });

  test('a bag-of-words model with token ids but no attention opens, saying what it lacks', async (t) => {
    const dir = fixtureFolder('and-bow');
    const card = await inspectModel(dir, { requireTokenizer: false });
    assert.equal(card.attention.count, 0);
    assert.ok(card.warnings.some((w) => /no attention Softmax: attention views, rollout and flow are unavailable/.test(w)), card.warnings.join(' | '));
  });

  test('image inputs are listed as unsupported', async () => {
    await assert.rejects(inspectModel(path.join(GRAPHS, 'vision-text'), { requireTokenizer: false }),
      isModelError('unsupported-inputs', /non-text inputs \(pixel_values\)/));
  });

  test('a tokenizer larger than the embedding table is refused', async (t) => {
    const dir = fixtureFolder('gpt2-op14');
    const card = await inspectModel(dir, { requireTokenizer: false });
    // The real GPT-2 tokenizer (50,257 tokens) against this fixture's trimmed 663-row table.
    const tokenizer = JSON.parse(fs.readFileSync(path.join(TOKENIZERS, 'gpt2', 'tokenizer.json'), 'utf8'));
    const size = Object.keys(tokenizer.model.vocab).length + (tokenizer.added_tokens?.length ?? 0) - 1;
    assert.ok(size > 50000);
    assert.throws(() => checkTokenizerFits(card, size), isModelError('vocabulary-mismatch', /tokenizer has \d+ tokens but the model's embedding table has only 663 rows/));
    assert.doesNotThrow(() => checkTokenizerFits(card, 663));
  });
});
