// Words as a reader counts them: contractions whole, quotes at a word's edge still punctuation; and
// explanations that leave punctuation out.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ExplainParams, ExplanationResult } from '../../../src/protocol/engineApi';
import { QUIET, sharedServices } from '../../support/engineService';
import { fixtureModel, readReference } from '../../support/fixtureModels';
import { CASES, tokenizersFor } from './tokenizerCases';

const TEXT = "It isn't John's fault: l'homme said 'no' and the students' rock'n'roll can’t stop.";
/** The words a reader sees, with every punctuation mark a word of its own. */
const READER_WORDS = ['It', "isn't", "John's", 'fault', ':', "l'homme", 'said', "'", 'no', "'", 'and', 'the', 'students', "'", "rock'n'roll", 'can’t', 'stop', '.'];

describe('word grouping keeps contractions whole', () => {
  for (const c of CASES) {
    test(`${c.name}: contractions and elisions are one word, edge quotes stay punctuation`, () => {
      const e = tokenizersFor(c).ours.encode(TEXT, { addSpecialTokens: false });
      // Byte-level BPE and SentencePiece keep a space as a token of its own in places; those are not words a reader counts.
      const words = e.words.map((w) => w.text).filter((w) => w.trim() !== '');
      assert.deepEqual(words, READER_WORDS);
      for (const w of e.words) assert.equal(TEXT.slice(w.start, w.end), w.text);
      // Every token of the text still belongs to exactly one word.
      const owned = e.words.flatMap((w) => w.tokenIndices).sort((a, b) => a - b);
      assert.deepEqual(owned, e.tokens.map((_, i) => i).filter((i) => !e.tokens[i].special));
    });
  }
});

const opened = sharedServices();
const bagOfWords = () => opened({ modelPath: fixtureModel('additive-bow') });

async function explain(params: ExplainParams): Promise<ExplanationResult> {
  return (await bagOfWords()).handle('explain', params, QUIET);
}

describe('explanations can leave punctuation out', () => {
  // The bag-of-words model adds one weight per token: a word's exact Shapley value is the sum of its tokens' weights.
  const weights = (readReference('additive-bow') as unknown as { weights: number[] }).weights;
  const text = "this film isn't good , at all !";

  test("with punctuation left out, the words keep their closed-form values and ',' and '!' stay in every input", async () => {
    const withMarks = await explain({ text, method: 'exact-shapley', target: 'POSITIVE' });
    const without = await explain({ text, method: 'exact-shapley', target: 'POSITIVE', punctuation: 'omit' });
    assert.deepEqual(withMarks.features.map((f) => f.text), ['this', 'film', "isn't", 'good', ',', 'at', 'all', '!']);
    assert.deepEqual(without.features.map((f) => f.text), ['this', 'film', "isn't", 'good', 'at', 'all']);
    assert.equal(without.provenance.punctuation, 'omit');
    const input = await (await bagOfWords()).current!.prepare(text);
    const coefficient = (word: string) => {
      const w = input.encoding.words.find((x) => x.text === word)!;
      return w.tokenIndices.reduce((s, t) => s + weights[input.encoding.ids[t]], 0);
    };
    for (const f of without.features) assert.ok(Math.abs(f.value - coefficient(f.text)) < 1e-5, `${f.text}: ${f.value} vs ${coefficient(f.text)}`);
    // The marks are present in the empty coalition too: the base value moves by exactly their weights.
    assert.ok(Math.abs(without.baseValue - (withMarks.baseValue + coefficient(',') + coefficient('!'))) < 1e-5);
    const sum = without.features.reduce((s, f) => s + f.value, 0);
    assert.ok(Math.abs(sum - (without.outputValue - without.baseValue)) < 1e-5, 'efficiency holds');
  });

  test('at token level too, punctuation tokens get no value', async () => {
    const r = await explain({ text, method: 'occlusion', target: 'POSITIVE', level: 'token', punctuation: 'omit' });
    assert.ok(r.features.every((f) => !/^[,!']$/.test(f.text)), r.features.map((f) => f.text).join(' '));
    assert.deepEqual(r.features.map((f) => f.text).slice(2, 5), ['is', 'n', 't'], 'the letters of "isn\'t" are features, its apostrophe is not');
  });

  test('a text of punctuation alone has nothing left to explain, and says why', async () => {
    await assert.rejects(explain({ text: '?! ...', method: 'occlusion', punctuation: 'omit' }), /only punctuation, and punctuation is left out/);
  });
});
