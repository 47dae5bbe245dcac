import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateEdits, robustness } from '../../../src/engine/inspect/robustness';
import { NEUTRAL_WORDS, SYNONYMS, synonymOf } from '../../../src/engine/inspect/synonyms';
import { predictPrepared } from '../../../src/engine/run/predict';
import { QUIET } from '../../support/engineService';
import { openFixture } from './inspectSupport';

const TEXT = 'this film was not good at all, the story was slow and the acting was bad';

describe('text edits', () => {
  const words = [
    { text: 'The', start: 0, end: 3 },
    { text: 'movie', start: 4, end: 9 },
    { text: 'was', start: 10, end: 13 },
    { text: 'good', start: 14, end: 18 },
    { text: '.', start: 18, end: 19 },
  ];
  const text = 'The movie was good.';

  test('each kind of edit writes the text a reader expects and says what it did', () => {
    const del = generateEdits(text, words, ['delete'], 10, 1);
    assert.deepEqual(del.map((e) => e.text).sort(), ['The movie good.', 'The movie was.', 'The was good.', 'movie was good.'].sort());
    const swap = generateEdits(text, words, ['swap'], 10, 1);
    assert.deepEqual(swap.map((e) => e.text).sort(), ['The movie good was.', 'The was movie good.', 'movie The was good.'].sort());
    const syn = generateEdits(text, words, ['synonym'], 10, 1);
    assert.deepEqual(syn.map((e) => e.text).sort(), ['The film was good.', 'The movie was fine.'].sort());
    const noise = generateEdits(text, words, ['char-noise'], 10, 1);
    for (const e of noise) {
      assert.equal(e.text.split(' ').length, 4, e.text);
      assert.notEqual(e.text, text);
    }
    const ins = generateEdits(text, words, ['insert'], 10, 1);
    for (const e of ins) assert.equal(e.text.split(' ').length, 5, e.text);
  });

  test('an inserted word stands apart: never glued to a word, never before punctuation', () => {
    const t = 'It took a long time, still good (really). Fine!';
    const ws = splitWords(t);
    const edits = generateEdits(t, ws, ['insert'], 100, 2);
    assert.ok(edits.length >= 6, `${edits.length} insertions`);
    for (const e of edits) {
      const word = NEUTRAL_WORDS.find((w) => e.edit.startsWith(`inserted "${w}"`))!;
      assert.ok(word, e.edit);
      // The word stands alone: a space after it, and a space, an opening bracket or the start before it.
      const at = e.text.toLowerCase().search(new RegExp(`(^|[\\s(])${word} `));
      assert.ok(at >= 0, `${e.edit}: ${e.text}`);
      const from = at === 0 && e.text.toLowerCase().startsWith(word) ? 0 : at + 1;
      // Taking it out again gives the original text back (up to the capital a first word moves to it).
      const back = e.text.slice(0, from) + e.text.slice(from + word.length + 1);
      assert.equal(back.toLowerCase(), t.toLowerCase(), `${e.edit}: ${e.text}`);
      assert.doesNotMatch(e.text, /\p{L}(also|then|now|here|still|anyway|basically|somehow) /iu, e.text);
    }
  });

  test('the word map sends every untouched word to its place in the edited text', () => {
    for (const e of generateEdits(text, words, ['delete', 'swap', 'insert', 'synonym', 'char-noise'], 50, 3)) {
      e.moved.forEach((m, i) => {
        if (m) assert.equal(e.text.slice(m.start, m.end), words[i].text, `${e.edit}: word ${i}`);
      });
      assert.ok(e.moved.some((m) => m === undefined) || e.kind === 'swap' || e.kind === 'insert', e.edit);
    }
  });

  test('the same seed gives the same variants; another seed another order; the budget caps them', () => {
    const a = generateEdits(TEXT, splitWords(TEXT), ['delete', 'swap', 'insert', 'synonym', 'char-noise'], 12, 7);
    const b = generateEdits(TEXT, splitWords(TEXT), ['delete', 'swap', 'insert', 'synonym', 'char-noise'], 12, 7);
    const c = generateEdits(TEXT, splitWords(TEXT), ['delete', 'swap', 'insert', 'synonym', 'char-noise'], 12, 8);
    assert.deepEqual(a.map((e) => e.text), b.map((e) => e.text));
    assert.notDeepEqual(a.map((e) => e.text), c.map((e) => e.text));
    assert.equal(a.length, 12);
    // Round robin: the first five are one of each kind.
    assert.deepEqual(new Set(a.slice(0, 5).map((e) => e.kind)).size, 5);
  });

  test('the synonym list has a few hundred pairs and keeps capitalization', () => {
    assert.ok(SYNONYMS.size >= 400, `${SYNONYMS.size} words`);
    assert.equal(synonymOf('Good'), 'Fine');
    assert.equal(synonymOf('GOOD'), 'FINE');
    assert.equal(synonymOf('film'), 'movie');
    assert.equal(synonymOf('zyzzyva'), undefined);
  });
});

function splitWords(text: string) {
  return [...text.matchAll(/[\p{L}']+|[^\s\p{L}]/gu)].map((m) => ({ text: m[0], start: m.index!, end: m.index! + m[0].length }));
}

describe('robustness on a model', () => {
  test('each variant’s prediction is what the model says on that text alone; flips and distances follow', async () => {
    const model = await openFixture('bert-cls-op14');
    const r = await robustness(model, { text: TEXT, maxVariants: 10, seed: 3 }, QUIET);
    assert.equal(r.variants.length, 10);
    const original = await predictPrepared(model, await model.prepare(TEXT), 2);
    const p0 = [0, 1].map((id) => original.candidates.find((c) => c.id === id)!.probability);
    for (const v of r.variants) {
      const alone = await predictPrepared(model, await model.prepare(v.text), 2);
      assert.equal(v.predicted, alone.candidates[0].label);
      assert.ok(Math.abs(v.probability - alone.candidates[0].probability) < 1e-6);
      assert.equal(v.flipped, alone.candidates[0].label !== original.candidates[0].label);
      const p = [0, 1].map((id) => alone.candidates.find((c) => c.id === id)!.probability);
      assert.ok(Math.abs(v.totalVariation - Math.abs(p[0] - p0[0])) < 1e-6, 'two classes: TV = |Δp|');
      assert.ok(Math.abs(v.targetProbabilityChange - (p[r.target.id] - p0[r.target.id])) < 1e-6);
      assert.ok(v.sharedWords! > 0);
    }
    const again = await robustness(model, { text: TEXT, maxVariants: 10, seed: 3 }, QUIET);
    assert.deepEqual(again.variants, r.variants, 'reproducible with a seed');
  });

  test('additive model: the shared words keep their attributions, so rank agreement is 1 up to float ties', async () => {
    const model = await openFixture('additive-bow');
    const r = await robustness(model, { text: TEXT, kinds: ['delete', 'swap', 'insert'], maxVariants: 9, seed: 1, target: 'POSITIVE' }, QUIET);
    assert.equal(r.variants.length, 9);
    for (const v of r.variants) {
      assert.ok(v.sharedWords! >= 12, `${v.edit}: ${v.sharedWords}`);
      // Repeated words ("was", "the") tie in exact arithmetic; float32 sums break those ties either way.
      assert.ok(v.attributionSpearman! > 0.99, `${v.edit}: ${v.attributionSpearman}`);
    }
    assert.ok(r.summary.meanAttributionSpearman! > 0.99);
  });

  test('method "none" skips explanations; unknown kinds are refused', async () => {
    const model = await openFixture('bert-cls-op14');
    const r = await robustness(model, { text: 'a great story', method: 'none', maxVariants: 3 }, QUIET);
    assert.equal(r.original.attributions, undefined);
    assert.equal(r.evaluations, 1 + r.variants.length);
    await assert.rejects(() => robustness(model, { text: 'a great story', kinds: ['shout' as never] }, QUIET), /Unknown perturbation/);
  });
});
