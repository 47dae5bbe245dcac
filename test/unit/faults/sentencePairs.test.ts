// Sentence-pair input that cannot work: each case gets a clear message naming the problem and the fix.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { errorInfo } from '../../../src/engine/process/engineErrors';
import type { EngineService } from '../../../src/engine/process/engineService';
import { MAX_TOKENIZED_CHARS } from '../../../src/engine/text/longText';
import { pairFromSelections } from '../../../src/ui/commands/pairSelection';
import { openService, QUIET } from '../../support/engineService';
import { fixtureModel } from '../../support/fixtureModels';
import { describeRun, runCli } from '../cli/cliProcess';

const open = (name: string) => openService({ modelPath: fixtureModel(name), options: { threads: 1 } });

async function badInput(p: Promise<unknown>): Promise<string> {
  const error = await p.then(() => undefined, (e: unknown) => e);
  assert.ok(error, 'the request was refused');
  const info = errorInfo(error);
  assert.equal(info.code, 'bad-input', info.message);
  return info.message;
}

let nli: EngineService;
before(async () => {
  nli = await open('bert-nli-op14');
});

describe('faults: sentence pairs', () => {
  test('an empty second text', async () => {
    const message = await badInput(nli.handle('explain', { text: 'a man is playing music', textPair: '  ', method: 'occlusion' }, QUIET));
    assert.match(message, /second text of the sentence pair is empty/);
  });

  test('an empty first text with a second text', async () => {
    const message = await badInput(nli.handle('predict', { text: '', textPair: 'a man is playing music' }, QUIET));
    assert.match(message, /first text of the sentence pair is empty/);
  });

  test('a second text that is not a string', async () => {
    const message = await badInput(nli.handle('predict', { text: 'a man', textPair: 42 as unknown as string }, QUIET));
    assert.match(message, /second text of the sentence pair is empty/);
  });

  test('a pair longer than the engine takes', async () => {
    const half = 'a '.repeat(MAX_TOKENIZED_CHARS / 4 + 10);
    const message = await badInput(nli.handle('predict', { text: half, textPair: half }, QUIET));
    assert.match(message, /texts of the pair have [\d,]+ characters/);
  });

  test('token ids together with a second text', async () => {
    const message = await badInput(nli.handle('attention', { ids: [2, 3], textPair: 'a man' }, QUIET));
    assert.match(message, /either token ids or a sentence pair/);
  });

  test('a sentence pair for a causal LM', async () => {
    const gpt2 = await open('gpt2-op14');
    const message = await badInput(gpt2.handle('explain', { text: 'The man went', textPair: 'to the house', method: 'occlusion' }, QUIET));
    assert.match(message, /causal language model, which reads one text\. Join the two texts/);
    gpt2.dispose();
  });

  test('a sentence pair for a text-to-text model', async () => {
    const t5 = await open('t5-op14');
    const message = await badInput(t5.handle('predict', { text: 'translate English to German:', textPair: 'the house' }, QUIET));
    assert.match(message, /text-to-text model, which reads one text/);
    t5.dispose();
  });

  test('CLI: an empty --pair', async () => {
    const run = await runCli(['explain', '--model', fixtureModel('bert-nli-op14'), '--pair', '', 'a man is playing music']);
    assert.equal(run.code, 1, describeRun(run));
    assert.match(run.stderr, /--pair is empty: give the second text of the pair/);
  });

  test('CLI: --ids with --pair', async () => {
    const run = await runCli(['attention', '--model', fixtureModel('bert-nli-op14'), '--ids', '2,3', '--pair', 'a man']);
    assert.equal(run.code, 1, describeRun(run));
    assert.match(run.stderr, /Give either --ids or a sentence pair/);
  });
});

describe('faults: choosing the two texts of a pair in the editor', () => {
  const doc = 'the first text\nthe second text\nthe third text';
  test('three selections', () => {
    const c = pairFromSelections(doc, [{ start: 0, end: 3 }, { start: 15, end: 18 }, { start: 31, end: 34 }], '[SEP]');
    assert.ok('problem' in c);
    assert.match(c.problem, /There are 3 selections; a sentence pair takes two/);
  });
  test('two overlapping selections', () => {
    const c = pairFromSelections(doc, [{ start: 0, end: 10 }, { start: 5, end: 20 }], '[SEP]');
    assert.ok('problem' in c);
    assert.match(c.problem, /overlap/);
  });
  test('a selection of only whitespace as one of the two', () => {
    const c = pairFromSelections('text   more', [{ start: 0, end: 4 }, { start: 5, end: 7 }], '[SEP]');
    assert.ok('problem' in c);
    assert.match(c.problem, /only whitespace/);
  });
  test('one selection without the separator', () => {
    const c = pairFromSelections(doc, [{ start: 0, end: 14 }], '[SEP]');
    assert.ok('problem' in c);
    assert.match(c.problem, /no "\[SEP\]" between two texts.*onnxLens\.pairSeparator/);
  });
  test('one selection with nothing after the separator', () => {
    const c = pairFromSelections('a text [SEP]  ', [{ start: 0, end: 14 }], '[SEP]');
    assert.ok('problem' in c);
    assert.match(c.problem, /One side of "\[SEP\]" is empty/);
  });
  test('nothing selected', () => {
    const c = pairFromSelections(doc, [{ start: 3, end: 3 }], '[SEP]');
    assert.ok('problem' in c);
    assert.match(c.problem, /Select the two texts/);
  });
});
