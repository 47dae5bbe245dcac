import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pairFromSelections } from '../../../src/ui/commands/pairSelection';

const DOC = 'premise: A man is playing a song.\nhypothesis: A man is asleep.\n';
const at = (s: string) => DOC.indexOf(s);
const sel = (s: string) => ({ start: at(s), end: at(s) + s.length });

describe('Explain Sentence Pair: which two texts', () => {
  test('two selections: the earlier one in the document is segment A, whatever order they were made in', () => {
    const choice = pairFromSelections(DOC, [sel('A man is asleep.'), sel('A man is playing a song.')], '[SEP]');
    assert.deepEqual(choice, { a: { text: 'A man is playing a song.', offset: at('A man is playing') }, b: { text: 'A man is asleep.', offset: at('A man is asleep') } });
  });

  test('two selections with spaces around them: the texts are trimmed, offsets point at their first character', () => {
    const choice = pairFromSelections(DOC, [{ start: at('premise:') + 8, end: at('\nhypothesis') + 1 }, { start: at('hypothesis:') + 11, end: DOC.length }], '[SEP]');
    assert.ok('a' in choice);
    assert.equal(choice.a.text, 'A man is playing a song.');
    assert.equal(choice.a.offset, at('A man is playing'));
    assert.equal(choice.b.text, 'A man is asleep.');
    assert.equal(DOC.slice(choice.b.offset, choice.b.offset + choice.b.text.length), choice.b.text);
  });

  test('one selection split at the separator; empty selections next to it are ignored', () => {
    const doc = 'The cat sat on the mat. [SEP] A cat is sitting.';
    const choice = pairFromSelections(doc, [{ start: 0, end: doc.length }, { start: 5, end: 5 }], '[SEP]');
    assert.deepEqual(choice, { a: { text: 'The cat sat on the mat.', offset: 0 }, b: { text: 'A cat is sitting.', offset: doc.indexOf('A cat') } });
    const tab = pairFromSelections('left\tright', [{ start: 0, end: 10 }], '\t');
    assert.deepEqual(tab, { a: { text: 'left', offset: 0 }, b: { text: 'right', offset: 5 } });
  });

  test('only the first separator splits: a second one belongs to segment B', () => {
    const doc = 'a || b || c';
    const choice = pairFromSelections(doc, [{ start: 0, end: doc.length }], '||');
    assert.ok('b' in choice);
    assert.equal(choice.b.text, 'b || c');
  });
});
