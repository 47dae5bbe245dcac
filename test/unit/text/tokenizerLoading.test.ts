import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Tokenizer as ReferenceTokenizer } from '@huggingface/tokenizers';
import { loadModelTokenizer } from '../../../src/engine/model/modelFolder';
import { loadTokenizer } from '../../../src/engine/text/tokenizer';
import { TokenizerError } from '../../../src/engine/text/tokenizerError';
import { trimTokenizer } from '../../../src/engine/text/trimTokenizer';
import { NormalizedString } from '../../../src/engine/text/normalizedString';
import { buildNormalizer } from '../../../src/engine/text/normalizers';
import { TOKENIZERS } from '../../support/fixtureModels';
import { CASES } from './tokenizerCases';

describe('loading tokenizer files', () => {
  test('a folder without tokenizer.json gives an error naming the folder and the fix', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-lens-no-tokenizer-'));
    try {
      fs.writeFileSync(path.join(dir, 'config.json'), '{}');
      assert.throws(
        () => loadModelTokenizer({ folder: dir }),
        (e: unknown) =>
          e instanceof TokenizerError && e.code === 'missing-file' && e.message.includes(dir) && e.message.includes('tokenizer.json') && e.message.includes('save_pretrained'),
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a real folder loads with its special tokens from tokenizer_config.json', () => {
    const dir = path.join(TOKENIZERS, 'gpt2');
    const t = loadModelTokenizer({ folder: dir, tokenizer: path.join(dir, 'tokenizer.json'), tokenizerConfig: path.join(dir, 'tokenizer_config.json') });
    assert.equal(t.kind, 'bpe-byte-level');
    assert.equal(t.vocabSize, 50257);
    assert.deepEqual(t.special, { bos: 50256, eos: 50256, unk: 50256 });
  });

  test('unsupported and malformed files are named clearly', () => {
    assert.throws(() => loadTokenizer({ model: { type: 'WordLevel', vocab: { a: 0 }, unk_token: 'a' } }), /WordLevel model; ONNX Lens supports WordPiece, BPE and Unigram/);
    assert.throws(() => loadTokenizer({ version: '1.0' }), (e: unknown) => e instanceof TokenizerError && e.code === 'malformed' && /no "model"/.test(e.message));
    assert.throws(() => loadTokenizer([1, 2]), /does not hold a JSON object/);
    assert.throws(
      () => loadTokenizer({ normalizer: { type: 'Mystery' }, model: { type: 'BPE', vocab: { a: 0 }, merges: [] } }),
      /"Mystery" normalizer/,
    );
    assert.throws(() => loadTokenizer({ model: { type: 'BPE', vocab: { a: 0 }, merges: ['a b'] } }), /Merge 0 .* missing from the vocabulary/);
  });

  test('the older WordPiece format without model.type loads as WordPiece', () => {
    const bert = CASES[0].json;
    assert.equal(bert.model.type, undefined);
    assert.equal(loadTokenizer(bert).kind, 'wordpiece');
  });
});

describe('trimTokenizer', () => {
  for (const from of ['bert-base-uncased', 'gpt2']) {
    test(`${from} trimmed to 3000 ids still agrees with the reference`, () => {
      const full = JSON.parse(fs.readFileSync(path.join(TOKENIZERS, from, 'tokenizer.json'), 'utf8'));
      const trimmed = trimTokenizer(full, 3000);
      const ours = loadTokenizer(trimmed);
      const reference = new ReferenceTokenizer(trimmed, {});
      assert.equal(ours.vocabSize, 3000);
      assert.equal(full.model.vocab.the !== undefined || full.model.vocab.Ġthe !== undefined, true, 'the original is untouched');
      if (Array.isArray(trimmed.model.merges)) {
        assert.ok(trimmed.model.merges.length > 0 && trimmed.model.merges.length < full.model.merges.length);
        for (const m of trimmed.model.merges) {
          const [a, b] = m.split(' ');
          assert.ok(a in trimmed.model.vocab && b in trimmed.model.vocab && a + b in trimmed.model.vocab);
        }
      }
      for (const s of ['The movie was unbelievably good!', 'tokenization of 👍🏽 naïve text']) {
        const ids = ours.encode(s).ids;
        assert.ok(ids.every((id) => id < 3000));
        assert.deepEqual(ids, reference.encode(s).ids);
      }
    });
  }
});

describe('alignment through normalization', () => {
  function units(s: NormalizedString): Array<[string, number, number]> {
    return [...s.text].map((_, i) => [s.text[i], s.starts[i], s.ends[i]] as [string, number, number]).slice(0, s.text.length);
  }

  test('BERT normalization: accents, lowercasing, controls and CJK keep original positions', () => {
    const bert = buildNormalizer(CASES[0].json.normalizer);
    const text = 'Éa\u0007 e\u0301中';
    const n = bert(NormalizedString.fromOriginal(text));
    // the bell character is deleted; the combining accent is stripped; 中 gets spaces around it
    assert.equal(n.text, 'ea e 中 ');
    assert.deepEqual(
      units(n).map(([ch, a, b]) => [ch, text.slice(a, b)]),
      [['e', 'É'], ['a', 'a'], [' ', ' '], ['e', 'e'], [' ', '中'], ['中', '中'], [' ', '中']],
    );
  });

  test('NFKC expansion and composition map every unit to the characters behind it', () => {
    const text = 'ﬁ Ｈ e\u0301 😀';
    const n = NormalizedString.fromOriginal(text).normalizeForm('NFKC');
    assert.equal(n.text, 'fi H é 😀');
    const at = (i: number): string => text.slice(n.starts[i], n.ends[i]);
    assert.deepEqual([at(0), at(1), at(3), at(5), at(7), at(8)], ['ﬁ', 'ﬁ', 'Ｈ', 'e\u0301', '😀', '😀']);
    assert.deepEqual(n.originalRange(0, 2), { start: 0, end: 1 });
    assert.deepEqual(n.originalRange(7, 9), { start: 7, end: 9 });
  });

  test('prepended text has an empty range and is trimmed from token ranges', () => {
    const n = NormalizedString.fromOriginal('hi there').prepend('▁').replaceAll(/ /g, '▁');
    assert.equal(n.text, '▁hi▁there');
    assert.deepEqual(n.originalRange(0, 3), { start: 0, end: 2 });
    assert.deepEqual(n.originalRange(3, 9), { start: 3, end: 8 });
    assert.deepEqual(n.originalRange(0, 1), { start: 0, end: 0 });
  });
});
