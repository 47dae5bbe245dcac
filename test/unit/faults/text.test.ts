// Hostile and unusual text through the command line: empty, huge, NUL, invalid UTF-8, lone surrogates,
// right-to-left script, joiners, stacked combining marks. Every explanation's JSON must slice the original
// text back into its words: text.slice(start, end) is each word, in order, covering every letter read.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fixtureModel } from '../../support/fixtureModels';
import { tempDir } from '../../support/tempFolders';
import { CliRun, describeRun, jsonOf, runCli } from '../cli/cliProcess';

/** WordPiece (64 tokens) and byte-level BPE: the two ways tokenizers see bytes and characters. */
const MODELS = ['bert-cls-op14', 'gpt2-op14'] as const;
const work = tempDir('text-faults');

interface Explained {
  text: string;
  features: { text: string; start: number; end: number; value: number }[];
  encoded: { tokens: { start: number; end: number; special: boolean; wordIndex: number }[]; words: { text: string; start: number; end: number; tokenIndices: number[] }[]; truncation?: { maxTokens: number; droppedChars: number; message: string } };
}

/**
 * The offsets of an explanation against the original text: each feature and word is text.slice(start, end),
 * words come in order without overlapping, each token lies inside its word, and every letter or digit of the
 * part the model read belongs to a word.
 */
function assertOffsets(r: Explained, original: string, what: string): void {
  assert.equal(r.text, original, `${what}: the JSON holds the text as given`);
  for (const f of r.features) assert.equal(original.slice(f.start, f.end), f.text, `${what}: feature ${JSON.stringify(f.text)}`);
  let end = 0;
  for (const w of r.encoded.words) {
    assert.equal(original.slice(w.start, w.end), w.text, `${what}: word ${JSON.stringify(w.text)}`);
    assert.ok(w.start >= end && w.end > w.start, `${what}: words in order, not overlapping (${w.start}–${w.end} after ${end})`);
    end = w.end;
    for (const t of w.tokenIndices) {
      const tok = r.encoded.tokens[t];
      assert.ok(tok.start >= w.start && tok.end <= w.end, `${what}: token ${t} inside its word`);
    }
  }
  const read = original.length - (r.encoded.truncation?.droppedChars ?? 0);
  const uncovered: number[] = [];
  for (let i = 0; i < read; i++) {
    if (!/[\p{L}\p{N}]/u.test(original[i])) continue;
    if (!r.encoded.words.some((w) => w.start <= i && i < w.end)) uncovered.push(i);
  }
  assert.deepEqual(uncovered.slice(0, 5), [], `${what}: letters outside every word`);
  assert.ok(r.features.length > 0, `${what}: something was explained`);
}

function explainArgs(model: string, extra: string[] = []): string[] {
  return ['explain', '--model', fixtureModel(model), '--method', 'occlusion', '--json', '-q', ...extra];
}

/** Explains each text with every model, as the argument (or from a file when it cannot be an argument). */
async function explainedEverywhere(text: string, what: string, via: 'argument' | 'stdin' | 'jsonl' = 'argument'): Promise<void> {
  for (const model of MODELS) {
    let run: CliRun;
    if (via !== 'jsonl') {
      // A NUL cannot be in an argument; standard input carries it.
      run = via === 'argument' ? await runCli([...explainArgs(model), '--', text]) : await runCli(explainArgs(model), { input: text });
      assert.equal(run.code, 0, `${model}: ${describeRun(run)}`);
      assertOffsets(jsonOf(run), text, `${what}, ${model}`);
    } else {
      // Lone surrogates cannot travel through argv or UTF-8; a JSON line carries them as \u escapes.
      run = await runCli(explainArgs(model, ['--jsonl']), { input: `${JSON.stringify({ text })}\n` });
      assert.equal(run.code, 0, `${model}: ${describeRun(run)}`);
      assertOffsets(JSON.parse(run.stdout.trim()) as Explained, text, `${what}, ${model}`);
    }
  }
}

describe('hostile text', () => {
  test('an empty text exits 1 and says the text is empty', async () => {
    for (const args of [[''], []]) {
      const run = await runCli([...explainArgs('bert-cls-op14'), ...args], { input: '' });
      assert.equal(run.code, 1, describeRun(run));
      assert.match(run.stderr, /The text is empty: give some words to analyse/);
      assert.equal(run.stdout, '');
    }
  });

  test('a text of whitespace only exits 1 and says the text is empty', async () => {
    const run = await runCli(explainArgs('gpt2-op14'), { input: ' \t\u00a0\u2003\r\n  \n' });
    assert.equal(run.code, 1, describeRun(run));
    assert.match(run.stderr, /The text is empty/);
  });

  test('a text of one token is one word with its value', async () => {
    await explainedEverywhere('good', 'one token');
    const r = jsonOf(await runCli([...explainArgs('bert-cls-op14'), 'good']));
    assert.equal(r.features.length, 1);
    assert.ok(Math.abs(r.features[0].value - (r.outputValue - r.baseValue)) < 1e-5, 'one word carries the whole difference');
  });

  test('one word of 1,300,000 characters: refused (exit 1), saying there is no break to cut it at', async () => {
    const file = path.join(work, 'one-word.txt');
    fs.writeFileSync(file, 'a'.repeat(1_300_000));
    const run = await runCli([...explainArgs('bert-cls-op14'), '--file', file]);
    assert.equal(run.code, 1, describeRun(run));
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /The text has 1,300,000 characters and its first 1,280,000 hold no break between words to cut at \(the model reads at most 64 tokens\)\. Select a shorter passage\./);
  });

  test('100,000 characters: cut to the model\'s 64 tokens, and the output says so with the limit', async () => {
    const text = 'good film dull plot '.repeat(5_000);
    assert.equal(text.length, 100_000);
    const file = path.join(work, 'long.txt');
    fs.writeFileSync(file, text);
    for (const model of MODELS) {
      const run = await runCli([...explainArgs(model), '--file', file]);
      assert.equal(run.code, 0, describeRun(run));
      const r = jsonOf(run);
      assertOffsets(r, text, `100,000 characters, ${model}`);
      assert.equal(r.encoded.truncation.maxTokens, 64);
      assert.match(r.encoded.truncation.message, /longer than the model's limit of 64 tokens: only its first \d+ characters are analysed; the last [\d,]+ characters/);
      assert.ok(r.encoded.truncation.droppedChars > 99_000);
      assert.ok(r.notes.includes(r.encoded.truncation.message), 'the notes repeat it');
    }
    const plain = await runCli(['explain', '--model', fixtureModel('bert-cls-op14'), '--method', 'occlusion', '-q', '--file', file]);
    assert.match(plain.stdout, /limit of 64 tokens/);
  });

  test('1 MB on standard input: read whole, cut to what the model reads, offsets into the whole text', async () => {
    const text = 'the acting was superb but the story was thin. '.repeat(22_000).slice(0, 1_000_000);
    const run = await runCli(explainArgs('bert-cls-op14'), { input: text });
    assert.equal(run.code, 0, describeRun(run));
    const r = jsonOf(run);
    assertOffsets(r, text, '1 MB on standard input');
    assert.equal(r.encoded.truncation.droppedChars, text.length - r.encoded.words.at(-1).end);
  });

  test('NUL characters inside and between words', async () => {
    await explainedEverywhere('good\u0000movie \u0000 and\u0000\u0000 fine', 'NUL', 'stdin');
  });

  test('invalid UTF-8 bytes are read as U+FFFD, with a warning that says how many', async () => {
    const bytes = Buffer.concat([Buffer.from('a fine '), Buffer.from([0xff, 0xfe]), Buffer.from(' movie '), Buffer.from([0xc3]), Buffer.from(' indeed \u00e9\ufffd')]);
    const file = path.join(work, 'invalid.txt');
    fs.writeFileSync(file, bytes);
    const text = bytes.toString('utf8');
    for (const model of MODELS) {
      const run = await runCli([...explainArgs(model), '--file', file]);
      assert.equal(run.code, 0, describeRun(run));
      assert.match(run.stderr, /is not valid UTF-8: 3 byte sequences were read as U\+FFFD/);
      assertOffsets(jsonOf(run), text, `invalid UTF-8, ${model}`);
    }
  });

  test('lone surrogates (from a JSON line) keep their place; the words around them slice back', async () => {
    await explainedEverywhere('good \ud800 movie\udc00 and \udbff\udfff fine \ud83d', 'lone surrogates', 'jsonl');
  });

  test('right-to-left text: Arabic and Hebrew words, with and without Latin around them', async () => {
    await explainedEverywhere('הסרט היה טוב מאוד', 'Hebrew');
    await explainedEverywhere('الفيلم كان رائعا جدا and the end', 'Arabic and Latin');
  });

  test('zero-width joiners: an emoji family, a joined word, a joiner between spaces', async () => {
    await explainedEverywhere('my 👨‍👩‍👧‍👦 loved it, a\u200db test \u200d \u200c good', 'joiners');
  });

  test('1,000 combining marks stacked on one letter', async () => {
    await explainedEverywhere(`e${'\u0301'.repeat(1000)} movie was good`, 'combining marks');
  });
});
