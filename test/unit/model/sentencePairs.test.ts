// Sentence pairs through the engine, on the NLI-style fixture (a BERT pair classifier with three labels),
// checked against PyTorch (logits, attention, hidden states for the pair input) and against
// @huggingface/tokenizers (ids and token type ids of the pair encoding).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Tokenizer as ReferenceTokenizer } from '@huggingface/tokenizers';
import type { AttentionResult, ExplanationResult, MethodName } from '../../../src/protocol/engineApi';
import { segmentBlock, segmentShares } from '../../../src/render/segmentAttention';
import { QUIET, sharedServices } from '../../support/engineService';
import { fixtureModel, readReference, RefTensor, SENTIMENT_DATA, TOKENIZERS } from '../../support/fixtureModels';
import { maxAbsDiff } from '../../support/tensorDifference';

const NAME = 'bert-nli-op14';

interface NliReference {
  inputs: Record<string, RefTensor>;
  outputs: { logits: RefTensor };
  attentions: (RefTensor & { layer: number })[];
  hidden_states: (RefTensor & { index: number })[];
  pairs: [string, string][];
  logits_type_ids_zero: RefTensor;
  logits_words_masked: RefTensor;
}

const ref = readReference(NAME) as unknown as NliReference;
const opened = sharedServices();
const engine = () => opened({ modelPath: fixtureModel(NAME), options: { threads: 1 } });

/** Row b of a [B, ...] reference tensor. */
function row(t: RefTensor, b: number): number[] {
  const size = t.data.length / t.shape[0];
  return t.data.slice(b * size, (b + 1) * size);
}

/** Real (unpadded) length of reference row b. */
function realLength(b: number): number {
  return row(ref.inputs.attention_mask, b).reduce((s, v) => s + v, 0);
}

describe('sentence pairs: encoding', () => {
  test('the engine encodes each reference pair as [CLS] A [SEP] B [SEP] with the ids and token types PyTorch was given', async () => {
    const s = await engine();
    for (const [i, [a, b]] of ref.pairs.entries()) {
      const encoded = await s.handle('tokenize', { text: a, textPair: b }, QUIET);
      const n = realLength(i);
      assert.deepEqual(encoded.tokens.map((t) => t.id), row(ref.inputs.input_ids, i).slice(0, n));
      assert.deepEqual(encoded.textPair, b);
      const types = row(ref.inputs.token_type_ids, i).slice(0, n);
      assert.deepEqual(encoded.tokens.map((t) => t.segment), encoded.tokens.map((_, k) => (types[k] === 1 ? 1 : 0)));
      for (const w of encoded.words) assert.equal((w.segment === 1 ? b : a).slice(w.start, w.end), w.text);
    }
  });

  test('pair ids and token type ids agree with @huggingface/tokenizers on the real bert-base-uncased pieces', async () => {
    const s = await engine();
    const trimmed = JSON.parse(fs.readFileSync(path.join(fixtureModel(NAME), 'tokenizer.json'), 'utf8'));
    const referenceTrimmed = new ReferenceTokenizer(trimmed, {});
    const full = new ReferenceTokenizer(JSON.parse(fs.readFileSync(path.join(TOKENIZERS, 'bert-base-uncased', 'tokenizer.json'), 'utf8')), {});
    const lines = fs.readFileSync(path.join(SENTIMENT_DATA, 'yelp_labelled.txt'), 'utf8').split('\n').map((l) => l.split('\t')[0].trim()).filter(Boolean);
    const pairs: [string, string][] = [...ref.pairs, ['Is the food good?', 'The food was really good.']];
    for (let i = 0; i + 1 < 60; i += 2) pairs.push([lines[i], lines[i + 1]]);
    for (const [a, b] of pairs) {
      const mine = await s.handle('tokenize', { text: a, textPair: b }, QUIET);
      if (mine.truncation) continue; // the reference library does not truncate
      const expected = referenceTrimmed.encode(a, { text_pair: b, return_token_type_ids: true });
      assert.deepEqual(mine.tokens.map((t) => t.id), expected.ids, `${a} ‖ ${b}`);
      assert.deepEqual(mine.tokens.map((t) => t.segment), expected.token_type_ids, `${a} ‖ ${b}`);
    }
    // The reference pairs' words are all in the trimmed vocabulary: the same pieces as the full tokenizer's.
    for (const [a, b] of ref.pairs) assert.deepEqual(referenceTrimmed.encode(a, { text_pair: b }).tokens, full.encode(a, { text_pair: b }).tokens);
  });
});

describe('sentence pairs: the model against PyTorch', () => {
  test('logits of each pair match PyTorch within 1e-5, and differ from the same ids with token type 0', async () => {
    const s = await engine();
    for (const [i, [a, b]] of ref.pairs.entries()) {
      const p = await s.handle('predict', { text: a, textPair: b }, QUIET);
      const logits = [0, 1, 2].map((id) => p.candidates.find((c) => c.id === id)!.logit);
      const want = row(ref.outputs.logits, i);
      assert.ok(maxAbsDiff(logits, want) < 1e-5, `pair ${i}: ${logits} vs ${want}`);
      const flat = row(ref.logits_type_ids_zero, i);
      assert.ok(maxAbsDiff(logits, flat) > 0.1, `pair ${i}: token types must reach the model (${logits} vs ${flat})`);
      assert.deepEqual(p.candidates.map((c) => c.label).sort(), ['contradiction', 'entailment', 'neutral']);
    }
  });

  test('attention of every layer and head and every hidden state match PyTorch within 1e-5', async () => {
    const s = await engine();
    for (const [i, [a, b]] of ref.pairs.entries()) {
      const r = await s.handle('attention', { text: a, textPair: b, hidden: true }, QUIET);
      const n = realLength(i);
      const width = ref.inputs.input_ids.shape[1];
      assert.equal(r.attentions.length, 2);
      for (const t of r.attentions) {
        const want = ref.attentions.find((x) => x.layer === t.layer)!;
        const heads = want.shape[1];
        assert.deepEqual(t.shape, [1, heads, n, n]);
        const expected: number[] = [];
        const w = row(want, i);
        for (let h = 0; h < heads; h++) for (let q = 0; q < n; q++) for (let k = 0; k < n; k++) expected.push(w[(h * width + q) * width + k]);
        assert.ok(maxAbsDiff(t.data, expected) < 1e-5, `layer ${t.layer}`);
      }
      for (const h of r.hiddenStates) {
        const want = ref.hidden_states.find((x) => x.index === h.index)!;
        const d = want.shape[2];
        const expected = row(want, i).slice(0, n * d);
        assert.ok(maxAbsDiff(h.data, expected) < 1e-5, `hidden state ${h.index}`);
      }
    }
  });

  test('the cross-segment shares and blocks are the sums of the PyTorch attention over the other text', async () => {
    const s = await engine();
    const [a, b] = ref.pairs[1];
    const r: AttentionResult = await s.handle('attention', { text: a, textPair: b, hidden: false }, QUIET);
    const width = ref.inputs.input_ids.shape[1];
    const types = row(ref.inputs.token_type_ids, 1);
    const ids = row(ref.inputs.input_ids, 1);
    const special = (k: number) => ids[k] === ids[0] || ids[k] === ids[realLength(1) - 1];
    const inA = [...Array(realLength(1)).keys()].filter((k) => !special(k) && types[k] === 0);
    const inB = [...Array(realLength(1)).keys()].filter((k) => !special(k) && types[k] === 1);
    const shares = segmentShares(r);
    assert.equal(shares.length, 2);
    for (const layer of shares) {
      const w = row(ref.attentions.find((x) => x.layer === layer.layer)!, 1);
      layer.aToB.forEach((v, h) => {
        let sum = 0;
        for (const q of inA) for (const k of inB) sum += w[(h * width + q) * width + k];
        assert.ok(Math.abs(v - sum / inA.length) < 1e-5, `layer ${layer.layer} head ${h}: ${v} vs ${sum / inA.length}`);
        assert.ok(layer.aToA[h] + v <= 1 + 1e-6);
      });
    }
    const block = segmentBlock(r.attentions[1], r.encoded, 2, 'word', 1);
    assert.deepEqual(block.rows.map((u) => u.label), ['he', 'was', 'not', 'at', 'home']);
    assert.deepEqual(block.cols.map((u) => u.label), ['the', 'man', 'went', 'to', 'the', 'house', '.']);
    const w1 = row(ref.attentions.find((x) => x.layer === 1)!, 1);
    block.rows.forEach((_, ri) =>
      block.cols.forEach((_, ci) => {
        const want = w1[(2 * width + inB[ri]) * width + inA[ci]];
        assert.ok(Math.abs(block.data[ri * block.cols.length + ci] - want) < 1e-5);
      }),
    );
  });
});

describe('sentence pairs: explanations', () => {
  for (const method of ['partition-shap', 'exact-shapley', 'occlusion'] as MethodName[]) {
    test(`${method}: words of both texts, offsets into their own text, output and base value from PyTorch`, async () => {
      const s = await engine();
      const [a, b] = ref.pairs[1];
      const r: ExplanationResult = await s.handle('explain', { text: a, textPair: b, method, target: 'entailment' }, QUIET);
      assert.equal(r.textPair, b);
      assert.deepEqual(r.features.map((f) => `${f.segment}:${f.text}`), [
        ...['the', 'man', 'went', 'to', 'the', 'house', '.'].map((w) => `0:${w}`),
        ...['he', 'was', 'not', 'at', 'home'].map((w) => `1:${w}`),
      ]);
      for (const f of r.features) assert.equal((f.segment === 1 ? b : a).slice(f.start, f.end), f.text);
      // f(x) is the PyTorch logit of the pair; f(all words removed) the logit with every word masked.
      assert.ok(Math.abs(r.outputValue - row(ref.outputs.logits, 1)[0]) < 1e-5, `output ${r.outputValue}`);
      assert.ok(Math.abs(r.baseValue - row(ref.logits_words_masked, 1)[0]) < 1e-5, `base ${r.baseValue}`);
      if (method !== 'occlusion') {
        const sum = r.features.reduce((t, f) => t + f.value, 0);
        assert.ok(Math.abs(sum - (r.outputValue - r.baseValue)) < 1e-5, `efficiency: ${sum} vs ${r.outputValue - r.baseValue}`);
      }
    });
  }

  test('token level: each token feature reads its characters from its own text', async () => {
    const s = await engine();
    const r = await s.handle('explain', { text: 'a man is playing music', textPair: 'a man is playing a song', method: 'occlusion', level: 'token' }, QUIET);
    assert.equal(r.features.filter((f) => f.segment === 1).map((f) => f.text).join(' '), 'a man is playing a song');
    assert.equal(r.features.filter((f) => f.segment === 0).map((f) => f.text).join(' '), 'a man is playing music');
  });

  test('a single text keeps its old shape: no segment on tokens, words or features', async () => {
    const s = await engine();
    const r = await s.handle('explain', { text: 'a man is playing music', method: 'occlusion' }, QUIET);
    assert.equal(r.textPair, undefined);
    assert.ok(r.features.every((f) => !('segment' in f)));
    assert.ok(r.encoded.tokens.every((t) => !('segment' in t)));
  });
});
