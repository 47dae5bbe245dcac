import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { flattenTree } from '../../../src/engine/explain/featureTree';
import { buildPairHierarchy, buildTextHierarchy, type TextWord } from '../../../src/engine/explain/textHierarchy';

function words(text: string): TextWord[] {
  return [...text.matchAll(/\S+/g)].map((m) => ({ text: m[0], start: m.index as number, end: (m.index as number) + m[0].length }));
}

const leaf = (feature: number) => ({ feature });
const pair = (a: unknown, b: unknown) => ({ children: [a, b] });

describe('text hierarchy', () => {
  test('sentences, then clauses, then balanced runs of neighbouring words', () => {
    const text = 'The cat sat, on the mat. Dogs bark!';
    // Sentence 1 (6 words) vs sentence 2 (2 words); sentence 1 splits at the comma into 3 + 3;
    // a run of three splits 2 + 1.
    const expected = pair(
      pair(pair(pair(leaf(0), leaf(1)), leaf(2)), pair(pair(leaf(3), leaf(4)), leaf(5))),
      pair(leaf(6), leaf(7)),
    );
    assert.deepEqual(buildTextHierarchy(words(text), text), expected);
  });
  test('punctuation between words (not attached to them) also splits, and brackets open a clause', () => {
    const text = 'alpha beta ( gamma delta ) epsilon';
    const ws = words(text).filter((w) => /\w/.test(w.text));
    // Clauses: [alpha beta] [gamma delta] [epsilon]; most even split by word count: 2 | 3.
    const expected = pair(pair(leaf(0), leaf(1)), pair(pair(leaf(2), leaf(3)), leaf(4)));
    assert.deepEqual(buildTextHierarchy(ws, text), expected);
  });
  test('every word appears exactly once and the tree stays shallow for long text', () => {
    const text = Array.from({ length: 40 }, (_, i) => `word${i}${i % 7 === 6 ? '.' : i % 3 === 2 ? ',' : ''}`).join(' ');
    const ws = words(text);
    const tree = buildTextHierarchy(ws, text);
    const flat = flattenTree(tree, ws.length);
    let depth = 0;
    const measure = (node: number, d: number): void => {
      depth = Math.max(depth, d);
      for (const c of flat.children[node]) measure(c, d + 1);
    };
    measure(0, 0);
    assert.ok(depth <= 10, `depth ${depth}`);
    assert.ok(flat.children.every((c) => c.length === 0 || c.length === 2), 'binary');
  });

  test('a sentence pair: the two texts are the root\'s groups, each with its own structure', () => {
    const a = 'the man went home.';
    const b = 'he slept, then ate';
    const ws = [...words(a).map((w) => ({ ...w, segment: 0 as const })), ...words(b).map((w) => ({ ...w, segment: 1 as const }))];
    const expected = pair(
      pair(pair(leaf(0), leaf(1)), pair(leaf(2), leaf(3))),
      // "he slept," | "then ate": the comma of text B splits it, offsets read in text B.
      pair(pair(leaf(4), leaf(5)), pair(leaf(6), leaf(7))),
    );
    assert.deepEqual(buildPairHierarchy(ws, a, b), expected);
    // Words given out of segment order still land in their own text's group.
    const mixed = [ws[4], ws[0], ws[5], ws[1]];
    assert.deepEqual(buildPairHierarchy(mixed, a, b), pair(pair(leaf(1), leaf(3)), pair(leaf(0), leaf(2))));
    // One text without words: the other text's tree alone.
    assert.deepEqual(buildPairHierarchy(ws.slice(4), a, b), buildTextHierarchy(ws.slice(4), b));
  });
});
