import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { errorInfo } from '../../../src/engine/process/engineErrors';
import type { EngineApi, EngineMethod } from '../../../src/protocol/engineApi';
import { fixtureModel, generationFixture } from '../../support/fixtureModels';
import { recordingContext, sharedServices } from '../../support/engineService';

const PROMPT = 'the movie was good and';
const opened = sharedServices();
const serviceFor = (folder: string) => opened({ modelPath: folder, options: { threads: 1 } });

/** The error a request ends with: its code and message. */
async function failure<M extends EngineMethod>(folder: string, method: M, params: EngineApi[M]['params']): Promise<{ code: string; message: string }> {
  const service = await serviceFor(folder);
  const err = await service.handle(method, params, recordingContext()).then(
    () => undefined,
    (e) => e,
  );
  assert.ok(err, `${method} should have failed`);
  return errorInfo(err);
}

const llama = () => generationFixture('llama-gen');

describe('generation faults', () => {
  test('a prompt longer than the context window is refused with the window’s size', async () => {
    const prompt = Array.from({ length: 20 }, () => 'the movie was good').join(' ');
    const e = await failure(llama(), 'generate', { prompt });
    assert.equal(e.code, 'bad-input');
    assert.match(e.message, /The prompt has \d+ tokens, but llama-gen's context window is 64 tokens/);
    assert.match(e.message, /at most 63 tokens/);
  });

  test('a model without a chat template generates from the plain prompt and says so', async () => {
    const service = await serviceFor(generationFixture('llama-gqa'));
    const r = await service.handle('generate', { prompt: PROMPT, chat: true, maxNewTokens: 3 }, recordingContext());
    assert.equal(r.chat, false);
    assert.equal(r.modelInput, PROMPT);
    assert.equal(r.tokens.length, 3);
    assert.match(r.notes.join(' '), /has no chat template, so the prompt was fed as plain text/);
  });

  test('a generation stopped half way keeps and returns what was generated', async () => {
    const service = await serviceFor(llama());
    const ctx = recordingContext((events) => events.length >= 4);
    const r = await service.handle('generate', { prompt: 'i loved this place and the food', maxNewTokens: 10 }, ctx);
    assert.equal(r.stopReason, 'cancelled');
    assert.equal(r.tokens.length, 4);
    assert.deepEqual(r.tokens.map((t) => t.id), [316, 252, 566, 425]);
    assert.equal(r.text.length > 0, true);
    assert.match(r.notes.join(' '), /stopped after 4 tokens; what was generated is kept/);
  });

  test('a model that is not a causal LM is told to use Explain Selection', async () => {
    const e = await failure(fixtureModel('bert-cls-op14'), 'generate', { prompt: PROMPT });
    assert.equal(e.code, 'bad-input');
    assert.match(e.message, /Generation needs a causal language model.*sequence-classification model/);
  });

  test('an empty prompt is refused', async () => {
    const e = await failure(llama(), 'generate', { prompt: '  \n' });
    assert.equal(e.code, 'bad-input');
    assert.match(e.message, /The prompt is empty/);
  });

  test('a temperature of zero or below is refused', async () => {
    for (const temperature of [0, -1, Number.NaN]) {
      const e = await failure(llama(), 'generate', { prompt: PROMPT, strategy: 'sample', temperature });
      assert.equal(e.code, 'bad-input');
      assert.match(e.message, /temperature must be a number above 0/);
    }
  });

  test('top-p outside (0, 1] and a negative top-k are refused', async () => {
    for (const topP of [0, 1.5]) assert.match((await failure(llama(), 'generate', { prompt: PROMPT, topP })).message, /top-p must be a number above 0 and at most 1/);
    assert.match((await failure(llama(), 'generate', { prompt: PROMPT, topK: -2 })).message, /top-k must be a whole number ≥ 0/);
  });

  test('a number of new tokens that is not a whole number from 1 is refused', async () => {
    for (const maxNewTokens of [0, 2.5]) {
      const e = await failure(llama(), 'generate', { prompt: PROMPT, maxNewTokens });
      assert.equal(e.code, 'bad-input');
      assert.match(e.message, /number of new tokens must be a whole number from 1/);
    }
  });

  test('a number of alternatives that is not a whole number from 1 to 50 is refused', async () => {
    for (const alternatives of [Number.NaN, 0, 2.5, 51]) {
      const e = await failure(llama(), 'generate', { prompt: PROMPT, alternatives });
      assert.equal(e.code, 'bad-input');
      assert.match(e.message, /alternatives must be a whole number from 1 to 50/);
    }
  });

  test('an empty stop string is refused', async () => {
    assert.match((await failure(llama(), 'generate', { prompt: PROMPT, stop: [''] })).message, /Stop strings must be non-empty/);
  });

  test('explaining a generated id outside the vocabulary is refused', async () => {
    const e = await failure(llama(), 'explainGeneration', { prompt: PROMPT, generated: [5, 100000] });
    assert.equal(e.code, 'bad-input');
    assert.match(e.message, /Generated token id 100000 is outside the vocabulary \(0–692\)/);
  });

  test('explaining no generated tokens asks for a generation first', async () => {
    assert.match((await failure(llama(), 'explainGeneration', { prompt: PROMPT, generated: [] })).message, /no generated tokens to explain/);
  });

  test('attention rollout cannot attribute a generation', async () => {
    const e = await failure(llama(), 'explainGeneration', { prompt: PROMPT, generated: [5], method: 'rollout' });
    assert.equal(e.code, 'bad-input');
    assert.match(e.message, /"rollout" cannot attribute a generation; use one of exact-shapley, kernel-shap, partition-shap, lime, occlusion, occlusion-window/);
  });

  test('exact Shapley over more than 14 prompt words is refused with the alternatives', async () => {
    const prompt = 'the story is interesting and the characters are believable and funny and the price was fair';
    const e = await failure(llama(), 'explainGeneration', { prompt, generated: [5], method: 'exact-shapley' });
    assert.equal(e.code, 'bad-input');
    assert.match(e.message, /limited to 14 words. Use kernel-shap or partition-shap/);
  });

  test('a contrast at a step that was not generated, or with the token itself, is refused', async () => {
    assert.match((await failure(llama(), 'explainGeneration', { prompt: PROMPT, generated: [5, 6], contrast: { step: 2 } })).message, /Step 2 does not exist: 2 tokens were generated/);
    assert.match((await failure(llama(), 'explainGeneration', { prompt: PROMPT, generated: [5, 6], contrast: { step: 0, token: 5 } })).message, /contrast token is the generated token itself/);
  });

  test('mask removal is refused for a decoder', async () => {
    assert.match((await failure(llama(), 'explainGeneration', { prompt: PROMPT, generated: [5], removal: 'mask' })).message, /removed by "delete" \(default\) or "attention"/);
  });

  test('a prompt and continuation longer than the context window cannot be explained', async () => {
    const e = await failure(llama(), 'explainGeneration', { prompt: PROMPT, generated: new Array(60).fill(5) });
    assert.match(e.message, /make 66 tokens, more than the context window of 64/);
  });

  test('hiding words by attention mask is refused for GroupQueryAttention, which reads the mask as a length', async () => {
    const e = await failure(generationFixture('llama-gqa'), 'explainGeneration', { prompt: PROMPT, generated: [5], removal: 'attention' });
    assert.match(e.message, /GroupQueryAttention.*Use the "delete" removal/);
  });

  test('head importance on a GroupQueryAttention decoder says its attention is fused and which export to use', async () => {
    const e = await failure(generationFixture('llama-gqa'), 'headImportance', { text: PROMPT });
    assert.equal(e.code, 'model');
    assert.match(e.message, /no self attention Softmax that a head mask can act on/);
    assert.match(e.message, /fused GroupQueryAttention operators/);
    assert.match(e.message, /export the model without fused attention/);
  });
});
