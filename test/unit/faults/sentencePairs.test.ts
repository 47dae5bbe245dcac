// Sentence-pair input that cannot work: each case gets a clear message naming the problem and the fix.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { errorInfo } from '../../../src/engine/process/engineErrors';
import { EngineService } from '../../../src/engine/process/engineService';
import type { RequestContext } from '../../../src/engine/process/requestContext';
import { MAX_TEXT_CHARS } from '../../../src/engine/model/loadedModel';
import { fixtureModel } from '../../support/fixtureModels';
import { describeRun, runCli } from '../cli/cliProcess';

const ctx: RequestContext = { isCancelled: () => false, progress: () => undefined };

async function open(name: string): Promise<EngineService> {
  const s = new EngineService();
  await s.handle('open', { modelPath: fixtureModel(name), options: { threads: 1 } }, ctx);
  return s;
}

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
    const message = await badInput(nli.handle('explain', { text: 'a man is playing music', textPair: '  ', method: 'occlusion' }, ctx));
    assert.match(message, /second text of the sentence pair is empty/);
  });

  test('an empty first text with a second text', async () => {
    const message = await badInput(nli.handle('predict', { text: '', textPair: 'a man is playing music' }, ctx));
    assert.match(message, /first text of the sentence pair is empty/);
  });

  test('a second text that is not a string', async () => {
    const message = await badInput(nli.handle('predict', { text: 'a man', textPair: 42 as unknown as string }, ctx));
    assert.match(message, /second text of the sentence pair is empty/);
  });

  test('a pair longer than the engine takes', async () => {
    const half = 'a '.repeat(MAX_TEXT_CHARS / 4 + 10);
    const message = await badInput(nli.handle('predict', { text: half, textPair: half }, ctx));
    assert.match(message, /texts of the pair have [\d,]+ characters/);
  });

  test('token ids together with a second text', async () => {
    const message = await badInput(nli.handle('attention', { ids: [2, 3], textPair: 'a man' }, ctx));
    assert.match(message, /either token ids or a sentence pair/);
  });

  test('a sentence pair for a causal LM', async () => {
    const gpt2 = await open('gpt2-op14');
    const message = await badInput(gpt2.handle('explain', { text: 'The man went', textPair: 'to the house', method: 'occlusion' }, ctx));
    assert.match(message, /causal language model, which reads one text\. Join the two texts/);
    gpt2.dispose();
  });

  test('a sentence pair for a text-to-text model', async () => {
    const t5 = await open('t5-op14');
    const message = await badInput(t5.handle('predict', { text: 'translate English to German:', textPair: 'the house' }, ctx));
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
