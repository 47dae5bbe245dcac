import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DecoderStepper } from '../../../src/engine/generate/decoderCache';
import { generateText } from '../../../src/engine/generate/generateText';
import type { LoadedModel } from '../../../src/engine/model/loadedModel';
import { readGenerationReference, type GenerationCase } from '../../support/fixtureModels';
import { recordingContext } from '../../support/engineService';
import { maxAbsDiff } from '../../support/tensorDifference';
import { openGenerationModel } from './generationSupport';

/** Logits at every step of the reference sequence, teacher forced through a stepper. */
async function stepLogits(model: LoadedModel, c: GenerationCase, useCache: boolean): Promise<Float32Array[]> {
  const stepper = await DecoderStepper.create(model, useCache);
  const rows: Float32Array[] = [];
  const sequence = [...c.prompt_ids];
  for (const id of c.generated) {
    rows.push((await stepper.step(sequence, { logits: true })).logits as Float32Array);
    sequence.push(id);
  }
  return rows;
}

function referenceRow(c: GenerationCase, step: number): number[] {
  const v = c.logits.shape[1];
  return c.logits.data.slice(step * v, (step + 1) * v);
}

/** Generates greedily with the reference's limit and checks the tokens, the stop and the prompt ids. */
async function checkTokens(model: LoadedModel, c: GenerationCase, expectedCache: string, useCache = true): Promise<void> {
  const r = await generateText(model, { prompt: c.prompt, maxNewTokens: 10, useCache }, recordingContext());
  assert.deepEqual(r.promptTokens.map((t) => t.id), c.prompt_ids, `prompt ${JSON.stringify(c.prompt)} tokenizes as in the reference`);
  assert.deepEqual(r.tokens.map((t) => t.id), c.generated, `continuation of ${JSON.stringify(c.prompt)}`);
  assert.equal(r.stopReason, c.stopped === 'eos' ? 'eos' : 'max-new-tokens');
  assert.equal(r.cache, expectedCache);
}

const FP32 = [
  { name: 'gpt2-merged', ref: 'gpt2-merged', cache: 'kv-merged' },
  { name: 'gpt2-past-op14', ref: 'gpt2-merged', cache: 'kv' },
  { name: 'gpt2-op14', ref: 'gpt2-merged', cache: 'none' },
  { name: 'llama-gen', ref: 'llama-gen', cache: 'kv' },
  { name: 'llama-gqa', ref: 'llama-gqa', cache: 'kv' },
];

describe('generation against PyTorch greedy references', () => {
  for (const f of FP32) {
    test(`${f.name}: greedy tokens identical to PyTorch, each step's logits within 1e-4`, async (t) => {
      const model = await openGenerationModel(f.name);
      let worst = 0;
      for (const c of readGenerationReference(f.ref).cases) {
        await checkTokens(model, c, f.cache);
        const rows = await stepLogits(model, c, true);
        rows.forEach((row, k) => (worst = Math.max(worst, maxAbsDiff(row, referenceRow(c, k)))));
      }
      t.diagnostic(`${f.name}: largest |logit − PyTorch| ${worst.toExponential(2)}`);
      assert.ok(worst < 1e-4, `largest logit difference ${worst}`);
    });
  }

  for (const name of ['gpt2-merged', 'gpt2-past-op14', 'llama-gen', 'llama-gqa']) {
    test(`${name}: logits with the KV cache equal the logits recomputed without it within 1e-4`, async (t) => {
      const model = await openGenerationModel(name);
      let worst = 0;
      for (const c of readGenerationReference(name === 'gpt2-past-op14' ? 'gpt2-merged' : name).cases) {
        const cached = await stepLogits(model, c, true);
        const recomputed = await stepLogits(model, c, false);
        cached.forEach((row, k) => (worst = Math.max(worst, maxAbsDiff(row, recomputed[k]))));
        await checkTokens(model, c, 'none', false);
      }
      t.diagnostic(`${name}: largest |cached − recomputed logit| ${worst.toExponential(2)}`);
      assert.ok(worst < 1e-4, `largest difference ${worst}`);
    });
  }

  test('llama-gen 4-bit (MatMulNBits): tokens identical to PyTorch with the dequantized weights, logits within 1e-4', async (t) => {
    const model = await openGenerationModel('llama-gen', 'q4');
    assert.equal(model.card.variant, 'q4');
    let worst = 0;
    for (const c of readGenerationReference('llama-gen').variants!.q4) {
      await checkTokens(model, c, 'kv');
      (await stepLogits(model, c, true)).forEach((row, k) => (worst = Math.max(worst, maxAbsDiff(row, referenceRow(c, k)))));
    }
    t.diagnostic(`q4: largest |logit − PyTorch| ${worst.toExponential(2)}`);
    assert.ok(worst < 1e-4, `largest difference ${worst}`);
  });

  test('llama-gen int8 (MatMulInteger): tokens identical to PyTorch emulating dynamic quantization step by step', async (t) => {
    const model = await openGenerationModel('llama-gen', 'quantized');
    assert.equal(model.card.quantized, true);
    let worst = 0;
    for (const c of readGenerationReference('llama-gen').variants!.quantized) {
      await checkTokens(model, c, 'kv');
      (await stepLogits(model, c, true)).forEach((row, k) => (worst = Math.max(worst, maxAbsDiff(row, referenceRow(c, k)))));
    }
    t.diagnostic(`int8: largest |logit − emulation| ${worst.toExponential(2)}`);
    // One activation landing on the other side of a rounding step moves the logits by up to ~0.23 here.
    assert.ok(worst < 0.3, `largest difference ${worst}`);
  });

  test('llama-gen fp16: tokens identical to fp32 PyTorch, logits within 3e-2 (half-precision rounding)', async (t) => {
    const model = await openGenerationModel('llama-gen', 'fp16');
    assert.equal(model.card.variant, 'fp16');
    let worst = 0;
    for (const c of readGenerationReference('llama-gen').cases) {
      assert.ok(Math.min(...c.margins) > 0.01, 'each step of the reference is decided by more than the fp16 error');
      await checkTokens(model, c, 'kv');
      (await stepLogits(model, c, true)).forEach((row, k) => (worst = Math.max(worst, maxAbsDiff(row, referenceRow(c, k)))));
    }
    t.diagnostic(`fp16: largest |logit − fp32 PyTorch| ${worst.toExponential(2)}`);
    assert.ok(worst < 3e-2, `largest difference ${worst}`);
  });
});
