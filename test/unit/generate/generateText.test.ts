import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateText } from '../../../src/engine/generate/generateText';
import { generationSession } from '../../../src/engine/generate/generationGraph';
import { LoadedModel } from '../../../src/engine/model/loadedModel';
import type { GenerationProgress } from '../../../src/protocol/engineApi';
import { generationFixture, readGenerationReference } from '../../support/fixtureModels';
import { recordingContext } from '../../support/engineService';
import { openGenerationModel } from './generationSupport';

const ref = readGenerationReference('llama-gen');
const running = ref.cases[1]; // runs to the token limit without an end-of-sequence token

describe('generating text', () => {
  test('each token streams out as it is chosen, in order, and the offsets cut the continuation into the tokens', async () => {
    const model = await openGenerationModel('llama-gen');
    const ctx = recordingContext();
    const r = await generateText(model, { prompt: running.prompt, maxNewTokens: 10 }, ctx);
    const streamed = ctx.events.map((e) => e.partial as GenerationProgress);
    assert.deepEqual(streamed.map((p) => p.token.id), r.tokens.map((t) => t.id));
    assert.deepEqual(streamed.map((p) => p.index), r.tokens.map((_, i) => i));
    assert.deepEqual(ctx.events.map((e) => e.done), r.tokens.map((_, i) => i + 1));
    assert.ok(r.text.startsWith(streamed[streamed.length - 1].text));
    assert.equal(r.tokens.map((t) => r.text.slice(t.start, t.end)).join(''), r.text);
    assert.equal(r.tokens[0].start, 0);
    // The model's own probabilities: each chosen token is the first alternative (greedy) with its logprob.
    for (const t of r.tokens) {
      assert.equal(t.alternatives[0].id, t.id);
      assert.ok(Math.abs(Math.log(t.alternatives[0].probability) - t.logprob) < 1e-9);
    }
    assert.ok(Math.abs(r.sequenceLogprob - r.tokens.reduce((s, t) => s + t.logprob, 0)) < 1e-12);
    assert.ok(r.timing.tokensPerSecond > 0);
  });

  test('a stop string ends the generation on the token that completes it', async () => {
    const model = await openGenerationModel('llama-gen');
    const full = await generateText(model, { prompt: running.prompt, maxNewTokens: 10 }, recordingContext());
    // A piece of the continuation that only the fourth token completes.
    const stop = full.text.slice(full.tokens[3].start, full.tokens[3].end).trim() || full.text.slice(full.tokens[2].start, full.tokens[3].end);
    assert.ok(!full.text.slice(0, full.tokens[3].start).includes(stop), 'the stop string first appears at token 3');
    const r = await generateText(model, { prompt: running.prompt, maxNewTokens: 10, stop: ['no such text', stop] }, recordingContext());
    assert.equal(r.stopReason, 'stop-string');
    assert.equal(r.stopString, stop);
    assert.deepEqual(r.tokens.map((t) => t.id), full.tokens.slice(0, 4).map((t) => t.id));
  });

  test('sampling is reproducible from its seed; top-k 1 and a tiny top-p sample the greedy tokens', async () => {
    const model = await openGenerationModel('llama-gen');
    const run = async (over: object) => (await generateText(model, { prompt: running.prompt, maxNewTokens: 8, ...over }, recordingContext())).tokens.map((t) => t.id);
    const a = await run({ strategy: 'sample', seed: 5, temperature: 1.3 });
    assert.deepEqual(await run({ strategy: 'sample', seed: 5, temperature: 1.3 }), a);
    const others = await Promise.all([6, 7, 8].map((seed) => run({ strategy: 'sample', seed, temperature: 1.3 })));
    assert.ok(others.some((o) => o.join() !== a.join()), 'other seeds draw other tokens');
    const greedy = running.generated.slice(0, 8);
    assert.deepEqual(await run({ strategy: 'sample', seed: 9, topK: 1 }), greedy);
    assert.deepEqual(await run({ strategy: 'sample', seed: 9, topP: 1e-6 }), greedy);
  });

  test('the chat template wraps the prompt as a user message; its tokens are marked as not the user’s', async () => {
    const model = await openGenerationModel('llama-gen');
    const r = await generateText(model, { prompt: running.prompt, maxNewTokens: 3, chat: true }, recordingContext());
    assert.equal(r.chat, true);
    assert.equal(r.modelInput, `<s><|user|>\n${running.prompt}</s>\n<|assistant|>\n`);
    const words = r.promptWords.map((w) => running.prompt.slice(w.start, w.end));
    assert.deepEqual(words, running.prompt.split(' '));
    assert.equal(r.promptTokens[0].special, true);
    assert.equal(r.promptTokens[r.promptTokens.length - 1].special, true);
    assert.equal(r.tokens.length, 3);
  });

  test('generation stops at the context window, keeping what fits', async () => {
    const model = await openGenerationModel('llama-gen');
    const prompt = Array.from({ length: 8 }, () => 'i loved this place and the food').join(' ');
    const r = await generateText(model, { prompt, maxNewTokens: 64 }, recordingContext());
    assert.equal(r.contextWindow, 64);
    assert.equal(r.promptTokens.length, 57);
    assert.equal(r.stopReason, 'context-window');
    assert.equal(r.tokens.length, 7);
    assert.match(r.notes.join(' '), /context window of 64 tokens/);
  });
});

describe('sessions made for generation', () => {
  test('are released with the model: opening another model does not keep their weights', async () => {
    const model = await LoadedModel.open(generationFixture('llama-gen'), undefined, { threads: 1 });
    await generateText(model, { prompt: running.prompt, maxNewTokens: 2 }, recordingContext());
    const session = await generationSession(model, 'model');
    // Alive: a run without inputs is refused for its missing inputs.
    await assert.rejects(session.run({}), /needs inputs/);
    model.dispose();
    await new Promise((r) => setTimeout(r, 50));
    await assert.rejects(session.run({}), /was released with its model/);
  });
});
