import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { generateText } from '../../../src/engine/generate/generateText';
import { explainGeneration } from '../../../src/engine/generate/generationMatrix';
import { CancelledError } from '../../../src/engine/run/cancellation';
import { buildGenerationReport } from '../../../src/render/generationReport';
import type { GenerationExplanation } from '../../../src/protocol/engineApi';
import { recordingContext } from '../../support/engineService';
import { readGenerationReference, type RefTensor } from '../../support/fixtureModels';
import { maxAbsDiff } from '../../support/tensorDifference';
import { openGenerationModel } from './generationSupport';

const PROMPT = 'the movie was good and';

/**
 * log p(each generated token) with some prompt words deleted, straight from onnxruntime: one unbatched run of
 * the fp32 graph per coalition, no engine code involved.
 */
async function directLogprobs(session: ort.InferenceSession, bos: number, words: number[][], keep: boolean[], generated: number[]): Promise<number[]> {
  const ids = [bos, ...words.flatMap((w, i) => (keep[i] ? w : [])), ...generated];
  const n = ids.length;
  const feeds: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, n]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(n).fill(1n), [1, n]),
    position_ids: new ort.Tensor('int64', BigInt64Array.from(ids.map((_, i) => BigInt(i))), [1, n]),
  };
  for (const name of session.inputNames) if (name.startsWith('past_key_values')) feeds[name] = new ort.Tensor('float32', new Float32Array(0), [1, 2, 0, 16]);
  const logits = (await session.run(feeds)).logits;
  const v = logits.dims[2];
  const data = logits.data as Float32Array;
  const first = n - generated.length;
  return generated.map((id, j) => {
    const row = data.subarray((first + j - 1) * v, (first + j) * v);
    let max = -Infinity;
    for (const x of row) max = Math.max(max, x);
    let sum = 0;
    for (const x of row) sum += Math.exp(x - max);
    return row[id] - max - Math.log(sum);
  });
}

/** Exact Shapley values by enumerating every coalition (the textbook formula). */
function bruteForceShapley(n: number, value: (keep: boolean[]) => number): number[] {
  const fact = (k: number): number => (k <= 1 ? 1 : k * fact(k - 1));
  const phi = new Array(n).fill(0);
  for (let mask = 0; mask < 1 << n; mask++) {
    const keep = Array.from({ length: n }, (_, i) => ((mask >> i) & 1) === 1);
    const size = keep.filter(Boolean).length;
    const v = value(keep);
    for (let i = 0; i < n; i++) {
      // v(S) enters φ_i with + when i ∈ S (as S = T ∪ {i}) and − when i ∉ S (as S = T).
      const s = keep[i] ? size - 1 : size;
      const weight = (fact(s) * fact(n - s - 1)) / fact(n);
      phi[i] += keep[i] ? weight * v : -weight * v;
    }
  }
  return phi;
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

describe('the prompt-attribution matrix of a generation', () => {
  /**
   * The generation of PROMPT by `variant` of llama-gen, and each token's Shapley values enumerated from unbatched
   * onnxruntime runs of the graph file `file` over every coalition of the prompt's words.
   */
  async function enumerated(variant: string | undefined, file: string, maxNewTokens: number) {
    const model = await openGenerationModel('llama-gen', variant);
    const gen = await generateText(model, { prompt: PROMPT, maxNewTokens }, recordingContext());
    const generated = gen.tokens.map((t) => t.id);
    const words = gen.promptWords.map((w) => w.tokenIndices.map((i) => gen.promptTokens[i].id));
    const session = await ort.InferenceSession.create(path.join(model.files.folder, 'onnx', file));
    const n = words.length;
    const table = new Map<string, number[]>();
    for (let mask = 0; mask < 1 << n; mask++) {
      const keep = Array.from({ length: n }, (_, i) => ((mask >> i) & 1) === 1);
      table.set(keep.join(), await directLogprobs(session, model.tokenizer.special.bos!, words, keep, generated));
    }
    await session.release();
    const expected = generated.map((_, j) => bruteForceShapley(n, (keep) => table.get(keep.join())![j]));
    return { model, generated, n, expected, full: table.get(new Array(n).fill(true).join())! };
  }

  test('exact Shapley, KernelSHAP and flat Partition SHAP equal Shapley values enumerated from onnxruntime runs', async () => {
    const { model, generated, n, expected, full } = await enumerated(undefined, 'model.onnx', 3);
    for (const [method, budget] of [['exact-shapley', undefined], ['kernel-shap', 64], ['partition-shap', 64]] as const) {
      const e = await explainGeneration(model, { prompt: PROMPT, generated, method, budget, inside: false }, recordingContext());
      assert.equal(e.features.length, n);
      e.targets.forEach((t, j) => assert.ok(maxAbsDiff(t.values, expected[j]) < 1e-5, `${method}, token ${j}: ${t.values} vs ${expected[j]}`));
      e.targets.forEach((t, j) => assert.ok(Math.abs(t.outputValue - full[j]) < 1e-5));
      assert.equal(e.evaluations, 2 ** n, `${method}: every coalition once, shared by the ${generated.length} tokens`);
    }
  });

  test('int8 (dynamic quantization): every row runs alone, so the matrix is the one enumerated from unbatched runs', async () => {
    // Batched, a row's activations would be scaled by the range of the whole batch and its values would move.
    const { model, generated, expected, full } = await enumerated('quantized', 'model_quantized.onnx', 3);
    const e = await explainGeneration(model, { prompt: PROMPT, generated, method: 'exact-shapley', inside: false }, recordingContext());
    e.targets.forEach((t, j) => assert.ok(maxAbsDiff(t.values, expected[j]) < 1e-5, `token ${j}: ${t.values} vs ${expected[j]}`));
    e.targets.forEach((t, j) => assert.ok(Math.abs(t.outputValue - full[j]) < 1e-5));
    assert.equal(e.batches, e.evaluations, 'one model run per row');
    assert.match(e.notes.join(' '), /rows were run one at a time/);
  });

  test('values add up to f(prompt) − f(no prompt) for every token and the whole sequence; f(prompt) is what generation saw', async (t) => {
    const model = await openGenerationModel('llama-gen');
    const prompt = 'the story is interesting and the characters are believable, funny and the price was fair';
    const gen = await generateText(model, { prompt, maxNewTokens: 6 }, recordingContext());
    const generated = gen.tokens.map((x) => x.id);
    // f(no prompt) of every token from a plain onnxruntime run: the base the values are measured from, independently.
    const words = gen.promptWords.map((w) => w.tokenIndices.map((i) => gen.promptTokens[i].id));
    const session = await ort.InferenceSession.create(path.join(model.files.folder, 'onnx', 'model.onnx'));
    const empty = await directLogprobs(session, model.tokenizer.special.bos!, words, words.map(() => false), generated);
    await session.release();
    let worst = 0;
    for (const method of ['partition-shap', 'kernel-shap'] as const) {
      const e = await explainGeneration(model, { prompt, generated, method, budget: 160, seed: 3, inside: false }, recordingContext());
      assert.ok(e.features.length > 12, 'too many words for exact enumeration at this budget');
      assert.ok(e.evaluations <= 160 * (method === 'kernel-shap' ? 1 : generated.length + 1));
      e.targets.forEach((x, j) => assert.ok(Math.abs(x.baseValue - empty[j]) < 1e-4, `token ${j}: base ${x.baseValue} vs onnxruntime ${empty[j]}`));
      assert.ok(Math.abs(e.sequence.baseValue - sum(empty)) < 1e-4);
      for (const target of [...e.targets, e.sequence]) worst = Math.max(worst, Math.abs(sum(target.values) - (target.outputValue - target.baseValue)));
      e.targets.forEach((x, j) => assert.ok(Math.abs(x.outputValue - gen.tokens[j].logprob) < 1e-4, `token ${j}: ${x.outputValue} vs ${gen.tokens[j].logprob}`));
      assert.ok(Math.abs(e.sequence.outputValue - gen.sequenceLogprob) < 1e-4);
      // What the reader is told is what was just checked.
      assert.match(buildGenerationReport(gen, e), /Per row the values add up to log p with the whole prompt minus log p with none of it/);
      if (method === 'kernel-shap') {
        // One set of coalitions for all targets, and a regression linear in the values: the sequence's
        // attributions are the sum of its tokens'.
        const summed = e.features.map((_, i) => sum(e.targets.map((x) => x.values[i])));
        assert.ok(maxAbsDiff(e.sequence.values, summed) < 1e-9);
      }
    }
    t.diagnostic(`largest |Σ values − (f(prompt) − f(no prompt))| ${worst.toExponential(2)}`);
    assert.ok(worst < 1e-5, `efficiency off by ${worst}`);
  });

  test('exact Shapley with no budget asked for says nothing about a budget: it runs the prompt\'s 2^n coalitions', async () => {
    const model = await openGenerationModel('gpt2-merged');
    const prompt = 'The movie was good.';
    const gen = await generateText(model, { prompt, maxNewTokens: 2 }, recordingContext());
    const e = await explainGeneration(model, { prompt, generated: gen.tokens.map((x) => x.id), method: 'exact-shapley', inside: false }, recordingContext());
    assert.equal(e.provenance.budget, 2 ** e.features.length);
    assert.deepEqual(e.notes.filter((n) => /budget/.test(n)), []);
    assert.equal(e.provenance.budgetNote, undefined);
  });

  test('occlusion costs n + 2 model rows however many tokens are explained', async () => {
    const model = await openGenerationModel('gpt2-merged');
    const prompt = 'The movie was good.';
    const gen = await generateText(model, { prompt, maxNewTokens: 8 }, recordingContext());
    const e = await explainGeneration(model, { prompt, generated: gen.tokens.map((x) => x.id), inside: false }, recordingContext());
    assert.equal(e.method, 'occlusion');
    assert.equal(e.tokens.length, 8);
    assert.equal(e.evaluations, e.features.length + 2);
    // Occlusion has no budget to choose: asked for none, nothing is said about one.
    assert.deepEqual(e.notes.filter((n) => /budget/.test(n)), []);
    assert.equal(e.provenance.budgetNote, undefined);
    // Leave-one-out values need not add up along a row, and the report does not say they do.
    const report = buildGenerationReport(gen, e);
    assert.doesNotMatch(report, /add up to log p/);
    assert.match(report, /without that word alone \(occlusion\)/);
    // Leave-one-out by definition: the last word's value is f(prompt) − f(prompt without it).
    const without = await explainGeneration(model, { prompt: 'The movie was good', generated: gen.tokens.map((x) => x.id), inside: false }, recordingContext());
    e.targets.forEach((x, j) => assert.ok(Math.abs(x.values[e.features.length - 1] - (x.outputValue - without.targets[j].outputValue)) < 1e-5));
  });

  test('the contrastive target explains why this token and not the runner-up', async () => {
    const model = await openGenerationModel('llama-gen');
    const gen = await generateText(model, { prompt: PROMPT, maxNewTokens: 4 }, recordingContext());
    const e = await explainGeneration(model, { prompt: PROMPT, generated: gen.tokens.map((x) => x.id), method: 'kernel-shap', contrast: { step: 2 }, inside: false }, recordingContext());
    const alternatives = gen.tokens[2].alternatives;
    assert.equal(e.contrast!.contrastId, alternatives[1].id);
    assert.ok(Math.abs(e.contrast!.outputValue - (alternatives[0].logit - alternatives[1].logit)) < 1e-4);
    assert.ok(Math.abs(sum(e.contrast!.values) - (e.contrast!.outputValue - e.contrast!.baseValue)) < 1e-5);
    const named = await explainGeneration(model, { prompt: PROMPT, generated: gen.tokens.map((x) => x.id), contrast: { step: 0, token: alternatives[2].id }, inside: false }, recordingContext());
    assert.equal(named.contrast!.contrastId, alternatives[2].id);
  });

  test('at each generated position: attention rows of probabilities, and a logit lens whose last layer is the model', async () => {
    const model = await openGenerationModel('llama-gen');
    const gen = await generateText(model, { prompt: PROMPT, maxNewTokens: 4 }, recordingContext());
    const e: GenerationExplanation = await explainGeneration(model, { prompt: PROMPT, generated: gen.tokens.map((x) => x.id) }, recordingContext());
    assert.equal(e.positions!.length, 4);
    for (const p of e.positions!) {
      assert.equal(p.position, gen.promptTokens.length + p.step - 1);
      assert.equal(p.attention!.length, 2);
      for (const a of p.attention!) {
        assert.equal(a.weights.length, p.position + 1);
        assert.ok(Math.abs(sum(a.weights) - 1) < 1e-5);
      }
      assert.equal(p.lens!.length, 3);
      const last = p.lens![2];
      assert.equal(last.rank, 0, 'greedy: the generated token is the top one at the last layer');
      assert.ok(Math.abs(last.probability - gen.tokens[p.step].probability) < 1e-4);
    }
  });

  const HIDDEN_LAYERS = [
    { name: 'gpt2-merged', what: 'a merged decoder (its layers inside an If)' },
    { name: 'llama-gqa', what: 'GroupQueryAttention (probabilities recomputed beside the operator, rotary included)' },
  ];
  for (const { name, what } of HIDDEN_LAYERS) {
    test(`${what}: attention and the logit lens at each generated position, as PyTorch has them`, async () => {
      const model = await openGenerationModel(name);
      const c = readGenerationReference(name).cases[0];
      const internals = c.internals!;
      const gen = await generateText(model, { prompt: c.prompt, maxNewTokens: 3 }, recordingContext());
      assert.deepEqual(gen.tokens.map((x) => x.id), c.generated.slice(0, 3));
      const e = await explainGeneration(model, { prompt: c.prompt, generated: gen.tokens.map((x) => x.id), method: 'kernel-shap', budget: 64 }, recordingContext());
      assert.equal(e.positionsNote, undefined, 'nothing is hidden');
      e.targets.forEach((x, j) => assert.ok(Math.abs(x.outputValue - gen.tokens[j].logprob) < 1e-4));
      // PyTorch's attention of a query row, averaged over heads: the prompt's last row for the first token, and the
      // row of the first generated token (fed with the prompt's past) for the second.
      const headMean = (t: RefTensor, row: number): number[] => {
        const [, heads, queries, keys] = t.shape;
        return Array.from({ length: keys }, (_, k) => sum(Array.from({ length: heads }, (_, h) => t.data[(h * queries + row) * keys + k])) / heads);
      };
      const [first, second] = e.positions!;
      let worst = 0;
      for (let layer = 0; layer < internals.prompt.attentions.length; layer++) {
        worst = Math.max(worst, maxAbsDiff(first.attention![layer].weights, headMean(internals.prompt.attentions[layer], c.prompt_ids.length - 1)));
        worst = Math.max(worst, maxAbsDiff(second.attention![layer].weights, headMean(internals.cached.attentions[layer], 0)));
      }
      assert.ok(worst < 1e-5, `attention off PyTorch's by ${worst}`);
      for (const p of e.positions!) {
        assert.equal(p.lens!.length, internals.prompt.hidden_states.length);
        const last = p.lens![p.lens!.length - 1];
        assert.equal(last.rank, 0, 'greedy: the generated token is the top one at the last layer');
        assert.ok(Math.abs(last.probability - gen.tokens[p.step].probability) < 1e-4);
      }
    });
  }

  test('the logit lens of an fp16 export ends at the probability generation gave each token', async () => {
    const model = await openGenerationModel('llama-gen', 'fp16');
    const gen = await generateText(model, { prompt: PROMPT, maxNewTokens: 3 }, recordingContext());
    const e = await explainGeneration(model, { prompt: PROMPT, generated: gen.tokens.map((x) => x.id) }, recordingContext());
    for (const p of e.positions!) {
      assert.equal(p.lens!.length, 3);
      assert.ok(Math.abs(p.lens![2].probability - gen.tokens[p.step].probability) < 1e-3);
    }
  });

  test('a cancel stops the matrix between rounds', async () => {
    const model = await openGenerationModel('llama-gen');
    const prompt = 'the story is interesting and the characters are believable, funny and the price was fair';
    const ctx = recordingContext((events) => events.length >= 1);
    await assert.rejects(explainGeneration(model, { prompt, generated: [316, 252, 566], method: 'kernel-shap', budget: 400 }, ctx), CancelledError);
  });
});
