import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CASES, HARD_STRINGS, sentimentLines, tokenizersFor, TokenizerCase } from './tokenizerCases';
import { Encoding, Token } from '../../../src/engine/text/tokenizer';
import { BYTE_TO_CHAR } from '../../../src/engine/text/byteLevelAlphabet';

const SENTENCES = sentimentLines(200);
const TEXTS = [...HARD_STRINGS, ...SENTENCES];

// Independent re-statements of what each tokenizer does to text, used to check that a token's range
// really holds the characters that produced it.
function bertNormalize(s: string): string {
  return s.normalize('NFD').replace(/\p{Mn}/gu, '').toLowerCase().replace(/[\p{C}]/gu, '');
}

const CHAR_TO_BYTE = new Map(BYTE_TO_CHAR.map((c, b) => [c, b] as [string, number]));
const BYTE_PIECE = /^<0x([0-9A-F]{2})>$/;

function pieceBytes(c: TokenizerCase, piece: string): number[] {
  if (c.kind === 'bpe-byte-level') return [...piece].map((ch) => CHAR_TO_BYTE.get(ch) as number);
  const m = BYTE_PIECE.exec(piece);
  if (m) return [parseInt(m[1], 16)];
  return [...Buffer.from(piece.replace(/▁/g, ' '), 'utf8')];
}

function trimSpaceBytes(bytes: number[]): number[] {
  const ws = new Set([0x20, 0x09, 0x0a, 0x0d, 0x0b, 0x0c]);
  let a = 0;
  let z = bytes.length;
  while (a < z && ws.has(bytes[a])) a++;
  while (z > a && ws.has(bytes[z - 1])) z--;
  return a === z ? bytes : bytes.slice(a, z);
}

function content(e: Encoding): Token[] {
  return e.tokens.filter((t) => !t.special);
}

function isInsidePair(text: string, i: number): boolean {
  const hi = text.charCodeAt(i - 1);
  const lo = text.charCodeAt(i);
  return i > 0 && i < text.length && hi >= 0xd800 && hi <= 0xdbff && lo >= 0xdc00 && lo <= 0xdfff;
}

/** Checks every token of one encoding against the original text. */
function checkOffsets(c: TokenizerCase, text: string, e: Encoding): void {
  const where = `${c.name} on ${JSON.stringify(text)}`;
  const tokens = content(e);
  let lastStart = 0;
  let lastEnd = 0;
  for (const t of tokens) {
    assert.ok(t.start >= 0 && t.start <= t.end && t.end <= text.length, `${where}: range ${t.start}-${t.end} of ${t.piece}`);
    assert.ok(t.start >= lastStart && t.end >= lastEnd, `${where}: offsets go backwards at ${t.piece}`);
    assert.ok(!isInsidePair(text, t.start) && !isInsidePair(text, t.end), `${where}: ${t.piece} cuts a surrogate pair`);
    lastStart = t.start;
    lastEnd = t.end;
  }

  if (c.kind === 'wordpiece') {
    for (const t of tokens) {
      const slice = text.slice(t.start, t.end);
      if (t.piece === '[UNK]') {
        assert.ok(slice.length > 0 && !/\s/u.test(slice), `${where}: [UNK] covers ${JSON.stringify(slice)}`);
      } else if (t.piece.startsWith('[') && t.piece.endsWith(']') && slice === t.piece) {
        // an added token typed in the text
      } else {
        assert.equal(bertNormalize(slice), t.piece.replace(/^##/, ''), `${where}: token ${t.piece}`);
      }
    }
    return;
  }

  // Byte-level and byte-fallback tokens may hold part of a character: check runs of tokens whose ranges
  // overlap (one character's bytes), comparing UTF-8 bytes.
  const unk = c.kind === 'unigram' ? '<unk>' : c.kind === 'bpe-byte-fallback' ? '<unk>' : undefined;
  let i = 0;
  while (i < tokens.length) {
    let j = i + 1;
    let end = tokens[i].end;
    while (j < tokens.length && tokens[j].start < end) {
      end = Math.max(end, tokens[j].end);
      j++;
    }
    const run = tokens.slice(i, j);
    const slice = text.slice(tokens[i].start, end);
    if (run.some((t) => t.piece === unk)) {
      assert.ok(slice.length > 0 && !/^\s+$/u.test(slice), `${where}: ${unk} covers ${JSON.stringify(slice)}`);
    } else if (run.length === 1 && run[0].piece === slice && run[0].id === tokensFromSpecial(c, slice)) {
      // an added token typed in the text
    } else {
      const bytes = trimSpaceBytes(run.flatMap((t) => pieceBytes(c, t.piece)));
      const expected: string = c.kind === 'unigram' ? slice.normalize('NFKC') : slice;
      const expectedBytes: number[] = /^\s*$/u.test(expected) && expected.length > 0 ? trimSpaceBytes([...Buffer.from(expected, 'utf8')]) : [...Buffer.from(expected, 'utf8')];
      if (bytes.every((b) => b === 0x20) && expected.length === 0) {
        // a `▁` added in front of the text: it covers no character
      } else {
        assert.deepEqual(bytes, expectedBytes, `${where}: tokens ${run.map((t) => t.piece).join(' ')} vs ${JSON.stringify(slice)}`);
      }
    }
    i = j;
  }
}

function tokensFromSpecial(c: TokenizerCase, s: string): number | undefined {
  return tokenizersFor(c).ours.tokenToId(s);
}

for (const c of CASES) {
  describe(`${c.name}: offsets are exact editor positions`, () => {
    const { ours } = tokenizersFor(c);

    test('every token slices back to the characters that produced it', () => {
      for (const s of TEXTS) checkOffsets(c, s, ours.encode(s));
    });

    test('every letter and digit of the text is covered by a token', () => {
      for (const s of TEXTS) {
        const tokens = content(ours.encode(s));
        for (const m of s.matchAll(/[\p{L}\p{N}]/gu)) {
          const i = m.index as number;
          assert.ok(tokens.some((t) => t.start <= i && i < t.end), `${c.name}: ${JSON.stringify(m[0])} at ${i} of ${JSON.stringify(s)} is in no token`);
        }
      }
    });

    test('offsets stay in UTF-16 units after emoji (not code points)', () => {
      const text = '👍🏽 good';
      const good = content(ours.encode(text)).filter((t) => text.slice(t.start, t.end).includes('good') || text.slice(t.start, t.end) === 'g');
      assert.ok(good.length > 0);
      assert.equal(text.slice(good[0].start, good[good.length - 1].end), 'good');
      assert.equal(good[0].start, 5);
    });

    test('words group sub-words, isolate punctuation, and leave special tokens out', () => {
      for (const s of TEXTS) {
        const e = ours.encode(s);
        e.tokens.forEach((t, i) => {
          if (t.special && t.start === t.end) assert.equal(t.wordIndex, -1, `${c.name}: special ${t.piece} has a word`);
          if (t.wordIndex >= 0) assert.ok(e.words[t.wordIndex].tokenIndices.includes(i));
        });
        for (const w of e.words) {
          assert.equal(w.text, s.slice(w.start, w.end));
          for (const k of w.tokenIndices) {
            assert.ok(e.tokens[k].start >= w.start && e.tokens[k].end <= w.end, `${c.name}: token outside its word`);
          }
        }
      }
      const e = ours.encode('Hello, world!', { addSpecialTokens: false });
      assert.deepEqual(e.words.map((w) => w.text), ['Hello', ',', 'world', '!']);
    });
  });
}

describe('sub-word grouping on real vocabularies', () => {
  test('BERT: "unbelievably" is one word of five WordPiece tokens', () => {
    const { ours } = tokenizersFor(CASES[0]);
    const e = ours.encode('That was unbelievably good.');
    const word = e.words.find((w) => w.text === 'unbelievably');
    assert.ok(word);
    assert.deepEqual(word.tokenIndices.map((i) => e.tokens[i].piece), ['un', '##bel', '##ie', '##va', '##bly']);
    assert.deepEqual(word.tokenIndices.map((i) => e.tokens[i].text), ['un', 'bel', 'ie', 'va', 'bly']);
    assert.deepEqual(e.words.map((w) => w.text), ['That', 'was', 'unbelievably', 'good', '.']);
  });

  test('GPT-2: " tokenization" is one word of two tokens, offsets without the space', () => {
    const { ours } = tokenizersFor(CASES[1]);
    const text = 'We love tokenization';
    const e = ours.encode(text);
    const word = e.words.find((w) => w.text === 'tokenization');
    assert.ok(word);
    assert.deepEqual(word.tokenIndices.map((i) => e.tokens[i].piece), ['Ġtoken', 'ization']);
    assert.deepEqual(word.tokenIndices.map((i) => e.tokens[i].text), [' token', 'ization']);
    assert.equal(e.tokens[word.tokenIndices[0]].start, text.indexOf('tokenization'));
  });

  test('GPT-2: the bytes of one emoji split over tokens share the emoji\'s whole range', () => {
    const { ours } = tokenizersFor(CASES[1]);
    const text = 'ok 👍🏽';
    const e = ours.encode(text);
    const thumb = e.tokens.filter((t) => t.start === 3 && t.end === 5);
    const tone = e.tokens.filter((t) => t.start === 5 && t.end === 7);
    assert.ok(thumb.length >= 2 && tone.length >= 1, JSON.stringify(e.tokens.map((t) => [t.piece, t.start, t.end])));
    assert.equal(e.words.length, 2);
    assert.equal(e.words[1].text, '👍🏽');
  });

  test('SentencePiece fixtures: pieces without ▁ continue the word', () => {
    for (const c of [CASES[2], CASES[3]]) {
      const { ours } = tokenizersFor(c);
      const e = ours.encode('the tokenizers predict', { addSpecialTokens: false });
      assert.deepEqual(e.words.map((w) => w.text), ['the', 'tokenizers', 'predict'], c.name);
      assert.ok(e.words[1].tokenIndices.length > 1, `${c.name}: "tokenizers" is more than one piece`);
    }
  });
});

describe('special tokens', () => {
  test('BERT: [CLS] at 0, [SEP] at the end; pairs get token types 0 then 1', () => {
    const { ours } = tokenizersFor(CASES[0]);
    const text = 'good food';
    const e = ours.encode(text);
    assert.equal(e.tokens[0].piece, '[CLS]');
    assert.deepEqual([e.tokens[0].start, e.tokens[0].end, e.tokens[0].special], [0, 0, true]);
    const last = e.tokens[e.tokens.length - 1];
    assert.deepEqual([last.piece, last.start, last.end, last.wordIndex], ['[SEP]', text.length, text.length, -1]);
    assert.deepEqual(ours.special, { cls: 101, sep: 102, mask: 103, pad: 0, unk: 100 });

    const p = ours.encode('is it good?', { pair: 'yes' });
    assert.deepEqual(p.tokens.map((t) => t.piece), ['[CLS]', 'is', 'it', 'good', '?', '[SEP]', 'yes', '[SEP]']);
    assert.deepEqual(p.typeIds, [0, 0, 0, 0, 0, 0, 1, 1]);
    assert.deepEqual(p.tokens.map((t) => t.sequence), [0, 0, 0, 0, 0, 0, 1, 1]);
    assert.deepEqual([p.tokens[6].start, p.tokens[6].end], [0, 3]);
  });

  test('BERT: [MASK] typed in the text becomes the mask token with its own range', () => {
    const { ours } = tokenizersFor(CASES[0]);
    const text = 'The food was [MASK].';
    const e = ours.encode(text);
    const mask = e.tokens.find((t) => t.id === ours.special.mask);
    assert.ok(mask);
    assert.equal(text.slice(mask.start, mask.end), '[MASK]');
    assert.equal(mask.special, true);
    assert.equal(mask.wordIndex, -1);
    assert.deepEqual(e.words.map((w) => w.text), ['The', 'food', 'was', '.']);
    // lowercase "[mask]" is ordinary text: [ mask ]
    assert.ok(!ours.encode('the [mask]').ids.includes(103));
  });

  test('GPT-2: no special tokens by default; <|endoftext|> in text is recognised', () => {
    const { ours } = tokenizersFor(CASES[1]);
    assert.ok(ours.encode('Hello world').tokens.every((t) => !t.special));
    const text = 'end<|endoftext|>start';
    const e = ours.encode(text);
    const eot = e.tokens.find((t) => t.id === 50256);
    assert.ok(eot);
    assert.equal(text.slice(eot.start, eot.end), '<|endoftext|>');
    assert.equal(ours.special.eos, 50256);
  });

  test('T5-like: a trailing </s> at the end of the text', () => {
    const { ours } = tokenizersFor(CASES[2]);
    const text = 'the movie was good';
    const e = ours.encode(text);
    const last = e.tokens[e.tokens.length - 1];
    assert.deepEqual([last.piece, last.id, last.start, last.end, last.special], ['</s>', 1, text.length, text.length, true]);
    assert.ok(e.tokens.slice(0, -1).every((t) => !t.special));
    assert.equal(ours.special.eos, 1);
  });

  test('Llama-like: a leading <s>', () => {
    const { ours } = tokenizersFor(CASES[3]);
    const e = ours.encode('the movie was good');
    assert.deepEqual([e.tokens[0].piece, e.tokens[0].id, e.tokens[0].start, e.tokens[0].end], ['<s>', 1, 0, 0]);
    assert.ok(e.tokens.slice(1).every((t) => !t.special));
    assert.equal(ours.special.bos, 1);
  });

  test('empty text gives only the special tokens', () => {
    assert.deepEqual(tokenizersFor(CASES[0]).ours.encode('').ids, [101, 102]);
    assert.deepEqual(tokenizersFor(CASES[1]).ours.encode('').ids, []);
    assert.deepEqual(tokenizersFor(CASES[2]).ours.encode('').ids, [1]);
    assert.deepEqual(tokenizersFor(CASES[3]).ours.encode('').ids, [1]);
  });
});

describe('display text of tokens', () => {
  test('byte-level, WordPiece, Metaspace and byte-fallback pieces read as text', () => {
    const gpt2 = tokenizersFor(CASES[1]).ours;
    assert.equal(gpt2.displayToken(gpt2.tokenToId('Ġhello') as number), ' hello');
    const bert = tokenizersFor(CASES[0]).ours;
    assert.equal(bert.displayToken(bert.tokenToId('##ing') as number), 'ing');
    const uni = tokenizersFor(CASES[2]).ours;
    assert.equal(uni.displayToken(uni.tokenToId('▁movie') as number), ' movie');
    const llama = tokenizersFor(CASES[3]).ours;
    assert.equal(llama.displayToken(llama.tokenToId('<0x41>') as number), 'A');
    // one byte of a three-byte character cannot be shown as a character
    assert.equal(llama.displayToken(llama.tokenToId('<0xE2>') as number), '<0xE2>');
    assert.equal(llama.decode(llama.encode('€ 👍').ids, true), '€ 👍');
  });
});

describe('truncation', () => {
  for (const c of CASES) {
    test(`${c.name}: keeps special tokens, reports what was cut, and the kept part re-encodes the same`, () => {
      const { ours } = tokenizersFor(c);
      const text = SENTENCES.slice(0, 20).join(' ');
      const full = ours.encode(text);
      const maxLength = 16;
      const e = ours.encode(text, { maxLength });
      assert.equal(e.ids.length, maxLength);
      assert.ok(e.truncation);
      const specials = full.tokens.filter((t) => t.special).length;
      assert.equal(e.truncation.maxTokens, maxLength);
      assert.equal(e.truncation.droppedTokens, full.ids.length - maxLength);
      assert.deepEqual(e.tokens.filter((t) => t.special).map((t) => t.id), full.tokens.filter((t) => t.special).map((t) => t.id));
      const kept = content(e);
      assert.equal(kept.length, maxLength - specials);
      assert.equal(e.truncation.keptChars, kept[kept.length - 1].end);
      assert.equal(e.truncation.keptChars + e.truncation.droppedChars, text.length);
      const again = content(ours.encode(text.slice(0, e.truncation.keptChars)));
      assert.deepEqual(again.map((t) => t.id), kept.map((t) => t.id));
      assert.equal(ours.encode('short', { maxLength: 512 }).truncation, undefined);
    });
  }
});

describe('truncation of sentence pairs', () => {
  test('BERT: a pair is cut longest first, with the lengths Hugging Face keeps', () => {
    const { ours } = tokenizersFor(CASES[0]);
    const text = (n: number) => 'abcdefghijklmnop'.slice(0, n).split('').join(' ');
    // [first, second] lengths in tokens → what tokenizers' truncate_encodings keeps at 7 (its own test table).
    const table: [number, number, number, number][] = [
      [0, 2, 0, 2], [0, 8, 0, 7], [2, 2, 2, 2], [2, 4, 2, 4], [2, 8, 2, 5], [4, 2, 4, 2], [4, 4, 3, 4],
      [4, 8, 3, 4], [8, 0, 7, 0], [8, 2, 5, 2], [8, 4, 4, 3], [8, 8, 3, 4],
    ];
    for (const [n1, n2, k1, k2] of table) {
      const e = ours.encode(text(n1), { pair: text(n2), maxLength: 7 + 3 });
      const kept = [0, 1].map((s) => e.tokens.filter((t) => !t.special && t.sequence === s).length);
      assert.deepEqual(kept, [k1, k2], `${n1} + ${n2} tokens`);
      assert.equal(e.ids.length, Math.min(n1 + n2, 7) + 3);
      assert.equal(e.truncation?.droppedTokens, n1 + n2 > 7 ? n1 + n2 - 7 : undefined);
    }
  });
});

describe('long input', () => {
  test('a 100,000-character text encodes with every tokenizer', () => {
    let text = '';
    for (let i = 0; text.length < 100_000; i++) text += SENTENCES[i % SENTENCES.length] + (i % 7 === 0 ? ' 👍🏽\n' : ' ');
    text = text.slice(0, 100_000);
    for (const c of CASES) {
      const { ours } = tokenizersFor(c);
      const t0 = performance.now();
      const e = ours.encode(text);
      const ms = performance.now() - t0;
      const t1 = performance.now();
      const cut = ours.encode(text, { maxLength: 512 });
      const msCut = performance.now() - t1;
      console.log(`  ${c.name}: 100,000 characters → ${e.ids.length} tokens in ${ms.toFixed(0)} ms (${msCut.toFixed(0)} ms with maxLength 512)`);
      assert.ok(e.ids.length > 10_000);
      assert.equal(cut.ids.length, 512);
      assert.ok(cut.truncation && cut.truncation.droppedChars > 90_000);
      const lastWord = e.words[e.words.length - 1];
      assert.ok(lastWord.end > 99_000);
    }
  });
});
