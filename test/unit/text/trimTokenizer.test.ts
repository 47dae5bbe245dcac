import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Tokenizer as ReferenceTokenizer } from '@huggingface/tokenizers';
import { loadTokenizer, Tokenizer } from '../../../src/engine/text/tokenizer';
import { TrimKeep, trimTokenizer } from '../../../src/engine/text/trimTokenizer';
import { parseOnnxModel } from '../../../src/engine/model/onnxProto';
import { REPO_ROOT, TOKENIZERS } from '../../support/fixtureModels';
import { CASES } from './tokenizerCases';

const BERT = CASES[0].json;
const GPT2 = CASES[1].json;
const UNIGRAM = CASES[2].json;

function special(id: number, content: string) {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}

/** A small WordPiece tokenizer with BERT's pipeline. */
function smallWordPiece(): any {
  const pieces = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'a', 'b', 'd', 'g', 'o', 'n', '##a', '##b', '##d', '##o', 'good', 'not', '##ness', 'bad'];
  return {
    ...BERT,
    added_tokens: ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'].map((c, i) => special(i, c)),
    post_processor: {
      ...BERT.post_processor,
      special_tokens: { '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] } },
    },
    model: { ...BERT.model, vocab: Object.fromEntries(pieces.map((p, i) => [p, i])) },
  };
}

/** A small BPE tokenizer that splits at spaces. */
function smallBpe(): any {
  const pieces = ['<unk>', 'a', 'b', 'c', 'd', 'x', 'ab', 'abc', 'cd', 'xx', 'abcd'];
  return {
    version: '1.0',
    added_tokens: [special(0, '<unk>')],
    normalizer: null,
    pre_tokenizer: { type: 'WhitespaceSplit' },
    post_processor: null,
    decoder: null,
    model: { type: 'BPE', unk_token: '<unk>', vocab: Object.fromEntries(pieces.map((p, i) => [p, i])), merges: ['a b', 'c d', 'ab c', 'x x', 'ab cd'] },
  };
}

describe('trimTokenizer with a keep list', () => {
  test('WordPiece: listed words, characters with their ## forms, the unknown and template tokens, renumbered in order', () => {
    const trimmed = trimTokenizer(smallWordPiece(), { words: ['[PAD]', 'good', '##ness'], characters: 'ad' });
    assert.deepEqual(trimmed.model.vocab, { '[PAD]': 0, '[UNK]': 1, '[CLS]': 2, '[SEP]': 3, a: 4, d: 5, '##a': 6, '##d': 7, good: 8, '##ness': 9 });
    assert.deepEqual(trimmed.added_tokens.map((t: { id: number; content: string }) => [t.content, t.id]), [['[PAD]', 0], ['[UNK]', 1], ['[CLS]', 2], ['[SEP]', 3]]);
    assert.deepEqual(trimmed.post_processor.special_tokens['[SEP]'].ids, [3]);
    const t = loadTokenizer(trimmed);
    assert.equal(t.vocabSize, 10);
    const e = t.encode('goodness dad bad');
    assert.deepEqual(e.tokens.map((k) => k.piece), ['[CLS]', 'good', '##ness', 'd', '##a', '##d', '[UNK]', '[SEP]']);
    assert.deepEqual(e.ids, [2, 8, 9, 5, 6, 7, 1, 3]);
    assert.deepEqual(e.ids, new ReferenceTokenizer(trimmed, {}).encode('goodness dad bad').ids);
  });

  test('ids follow when kept entries are far apart: the template and added tokens point at the same pieces', () => {
    const trimmed = trimTokenizer(BERT, { words: ['[MASK]', 'good'], characters: '' });
    assert.deepEqual(trimmed.model.vocab, { '[UNK]': 0, '[CLS]': 1, '[SEP]': 2, '[MASK]': 3, good: 4 });
    assert.deepEqual(trimmed.post_processor.special_tokens['[CLS]'].ids, [1]);
    assert.deepEqual(trimmed.added_tokens.map((t: { id: number; content: string }) => [t.content, t.id]), [['[UNK]', 0], ['[CLS]', 1], ['[SEP]', 2], ['[MASK]', 3]]);
    const t = loadTokenizer(trimmed);
    assert.deepEqual(t.special, { cls: 1, sep: 2, mask: 3, unk: 0 });
    assert.deepEqual(t.encode('good [MASK]').ids, [1, 4, 3, 2]);
  });

  test('BPE: a listed word keeps the characters and pieces its merges pass through, and the merges between them', () => {
    const trimmed = trimTokenizer(smallBpe(), { words: ['abc'], characters: '' });
    assert.deepEqual(trimmed.model.vocab, { '<unk>': 0, a: 1, b: 2, c: 3, ab: 4, abc: 5 });
    assert.deepEqual(trimmed.model.merges, ['a b', 'ab c']);
    const t = loadTokenizer(trimmed);
    assert.deepEqual(t.encode('abc ba').tokens.map((k) => k.piece), ['abc', 'b', 'a']);
    // abcd is built as ab + cd, so it needs c, d and cd, which abc alone does not.
    const more = trimTokenizer(smallBpe(), { words: ['abcd', 'xx'], characters: '' });
    assert.deepEqual(Object.keys(more.model.vocab), ['<unk>', 'a', 'b', 'c', 'd', 'x', 'ab', 'cd', 'xx', 'abcd']);
    assert.deepEqual(more.model.merges, ['a b', 'c d', 'x x', 'ab cd']);
    assert.deepEqual(loadTokenizer(more).encode('abcd xxx').tokens.map((k) => k.piece), ['abcd', 'xx', 'x']);
  });

  test('byte-level BPE keeps its 256 byte symbols; listed words come out whole, as with the full tokenizer', () => {
    const words = ['Ġunbelievably', 'Ġacting', 'ĠEnglish'];
    const full = loadTokenizer(GPT2);
    const trimmed = trimTokenizer(GPT2, { words });
    const t = loadTokenizer(trimmed);
    assert.ok(t.vocabSize > 256 && t.vocabSize < 300, `${t.vocabSize}`);
    for (const text of [' unbelievably acting English', 'naïve 👍🏽 text\twith\nodd spaces', 'zzzqqqxx']) {
      const e = t.encode(text);
      assert.deepEqual(e.ids, new ReferenceTokenizer(trimmed, {}).encode(text).ids, text);
      assert.equal(t.decode(e.ids), text, 'bytes cover every text');
    }
    assert.deepEqual(t.encode(' unbelievably acting English').tokens.map((k) => k.piece), full.encode(' unbelievably acting English').tokens.map((k) => k.piece));
  });

  test('Unigram: the unknown id follows the renumbering', () => {
    const trimmed = trimTokenizer(UNIGRAM, { words: ['<pad>', '▁good', '▁was'], characters: 'abc' });
    assert.deepEqual(trimmed.model.vocab.map(([p]: [string]) => p), ['<pad>', '</s>', '<unk>', '▁was', '▁good', 'a', 'b', 'c']);
    assert.equal(trimmed.model.unk_id, 2);
    const t = loadTokenizer(trimmed);
    assert.deepEqual(t.encode('was good').ids, new ReferenceTokenizer(trimmed, {}).encode('was good').ids);
  });

  test('{first: N} with no characters is the numeric form; a word the vocabulary lacks is an error', () => {
    assert.deepEqual(trimTokenizer(BERT, { first: 3000, characters: '' }), trimTokenizer(BERT, 3000));
    assert.deepEqual(trimTokenizer(GPT2, { first: 3000 }), trimTokenizer(GPT2, 3000));
    assert.throws(() => trimTokenizer(BERT, { words: ['zzzqqqxx'] }), /the word "zzzqqqxx" is not in the vocabulary/);
  });
});

interface Recipe {
  from: string;
  keep?: TrimKeep;
  keepFirst?: number;
}

/** Every fixture folder that carries a tokenizer recipe with a keep list. */
function recipeFixtures(): { name: string; dir: string; recipe: Recipe & { keep: TrimKeep } }[] {
  const out = [];
  for (const base of [path.join(REPO_ROOT, 'test/fixtures/models'), path.join(REPO_ROOT, 'test/fixtures/inspect')]) {
    for (const name of fs.readdirSync(base).sort()) {
      const file = path.join(base, name, 'tokenizer.recipe.json');
      if (!fs.existsSync(file)) continue;
      const recipe = JSON.parse(fs.readFileSync(file, 'utf8')) as Recipe;
      if (recipe.keep) out.push({ name, dir: path.join(base, name), recipe: recipe as Recipe & { keep: TrimKeep } });
    }
  }
  return out;
}

/** Rows of the vocabulary tables a graph gathers with input_ids. */
function gatheredTableRows(file: string): number[] {
  const model = parseOnnxModel(new Uint8Array(fs.readFileSync(file)), path.basename(file));
  const inits = new Map(model.graph.initializers.map((i) => [i.name, i]));
  return model.graph.nodes
    .filter((n) => n.opType === 'Gather' && n.inputs[1] === 'input_ids' && inits.has(n.inputs[0]))
    .map((n) => inits.get(n.inputs[0])!.dims[0]);
}

describe('the fixtures\' trimmed tokenizers', () => {
  const fixtures = recipeFixtures();
  const full = new Map<string, { json: any; tokenizer: Tokenizer }>();
  const fullOf = (from: string) => {
    let f = full.get(from);
    if (!f) {
      const json = JSON.parse(fs.readFileSync(path.join(TOKENIZERS, from, 'tokenizer.json'), 'utf8'));
      f = { json, tokenizer: loadTokenizer(json) };
      full.set(from, f);
    }
    return f;
  };

  test('every BERT-family and GPT-2 fixture has a keep list', () => {
    const names = fixtures.map((f) => f.name);
    for (const name of ['bert-cls-op14', 'bert-mlm-op17', 'distilbert-cls-op14', 'gpt2-op14', 'gpt2-past-op14', 'additive-bow', 'and-bow', 'bert-decisive-head']) {
      assert.ok(names.includes(name), name);
    }
    const bert = fixtures.filter((f) => f.recipe.from === 'bert-base-uncased').map((f) => JSON.stringify(f.recipe));
    assert.equal(new Set(bert).size, 1, 'the BERT family shares one vocabulary');
  });

  for (const { name, dir, recipe } of fixtures) {
    test(`${name}: the vocabulary size is the model's, and the kept words read as before`, () => {
      const { json: fullJson, tokenizer: fullTok } = fullOf(recipe.from);
      const trimmed = trimTokenizer(fullJson, recipe.keep);
      const t = loadTokenizer(trimmed);
      const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
      assert.equal(t.vocabSize, config.vocab_size);
      const onnxDir = path.join(dir, 'onnx');
      let tables = 0;
      for (const file of fs.readdirSync(onnxDir).filter((f) => f.endsWith('.onnx'))) {
        for (const rows of gatheredTableRows(path.join(onnxDir, file))) {
          assert.equal(rows, t.vocabSize, `${file}: embedding rows`);
          tables++;
        }
      }
      if (name !== 'and-bow') assert.ok(tables > 0, 'an embedding table was found');

      // Dense, in original order, and every listed word decodes to the same text as in the full tokenizer.
      const kept = Object.entries(trimmed.model.vocab as Record<string, number>).sort((a, b) => a[1] - b[1]);
      assert.deepEqual(kept.map(([, id]) => id), kept.map((_, i) => i));
      const original = kept.map(([piece]) => fullTok.tokenToId(piece)!);
      assert.ok(original.every((id, i) => i === 0 || id > original[i - 1]), 'original order kept');
      for (const w of recipe.keep.words ?? []) {
        const id = t.tokenToId(w);
        assert.ok(id !== undefined, w);
        assert.equal(t.decode([id]), fullTok.decode([fullTok.tokenToId(w)!]), w);
      }
    });
  }

  for (const from of ['bert-base-uncased', 'gpt2']) {
    test(`${from}: sentences of kept words tokenize as with the full tokenizer, without unknown tokens`, () => {
      const fixture = fixtures.find((f) => f.recipe.from === from);
      assert.ok(fixture);
      const { json: fullJson, tokenizer: fullTok } = fullOf(from);
      const trimmed = trimTokenizer(fullJson, fixture.recipe.keep);
      const t = loadTokenizer(trimmed);
      const reference = new ReferenceTokenizer(trimmed, {});
      const space = from === 'gpt2' ? 'Ġ' : '';
      const words = Object.keys(trimmed.model.vocab)
        .filter((p) => p.startsWith(space) && /^[a-z]{2,}$/.test(p.slice(space.length)))
        .map((p) => p.slice(space.length));
      assert.ok(words.length > 100, `${words.length} whole words`);
      const sentences = [
        'the acting was fine but the story was weak',
        'The film was wonderful, the acting superb and the ending moving.',
        'this movie was great fun',
      ];
      for (let i = 0; i < words.length; i += 9) sentences.push(words.slice(i, i + 9).join(' ') + '.');
      for (const s of sentences) {
        const text = from === 'gpt2' ? ` ${s}` : s;
        const e = t.encode(text);
        assert.deepEqual(e.tokens.map((k) => k.piece), fullTok.encode(text).tokens.map((k) => k.piece), text);
        assert.deepEqual(e.ids, reference.encode(text).ids, text);
        if (t.special.unk !== undefined) assert.ok(!e.ids.includes(t.special.unk), text);
      }
    });
  }
});
