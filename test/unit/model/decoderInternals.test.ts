import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { addHeadMask } from '../../../src/engine/model/graphSurgery';
import { ModelSession, TensorData } from '../../../src/engine/model/modelSession';
import { parseOnnxModel } from '../../../src/engine/model/onnxProto';
import { GENERATION_FIXTURES, readGenerationReference, type GenerationInternals } from '../../support/fixtureModels';
import { maxAbsDiff } from '../../support/tensorDifference';
import { readInspectReference } from '../inspect/inspectSupport';
import { readBytes } from './referenceFixtures';

/**
 * Attention and hidden states of decoders whose layers the graph hides from a plain Softmax search: Optimum's merged
 * decoder (the layers inside the two branches of an If) and a Llama-style export, each checked against PyTorch at the
 * prompt (no past: the merged decoder's else branch) and at the first generated token with the prompt's keys and
 * values as past (its then branch).
 */
const DECODERS = [
  { name: 'gpt2-merged', file: 'decoder_model_merged.onnx' },
  { name: 'llama-gen', file: 'model.onnx' },
  { name: 'llama-gqa', file: 'model.onnx' },
];

async function open(name: string, file: string, expose = true): Promise<ModelSession> {
  const bytes = readBytes(path.join(GENERATION_FIXTURES, name, 'onnx', file));
  return ModelSession.create(bytes, parseOnnxModel(bytes, file), { expose, analyze: { stack: 'decoder' } });
}

function ids(values: number[]): TensorData {
  return { dims: [1, values.length], data: BigInt64Array.from(values.map(BigInt)) };
}

/**
 * Largest |a − b| over the tensor's scale, max(1, largest |b|): the Llama-style model's hidden states reach 23, where
 * float32 steps are 2e-6 and two layers of differently ordered sums move single values by 2e-5.
 */
function scaledDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 1;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  return maxAbsDiff(a, b) / scale;
}

/** The exposed tensors of one run against PyTorch's: [largest attention difference, largest scaled hidden-state difference]. */
function compare(session: ModelSession, out: Record<string, TensorData>, want: GenerationInternals): [number, number] {
  const exposed = session.exposed!;
  const attentions = exposed.attentions.filter((a) => a.kind === 'self').sort((a, b) => a.layer - b.layer);
  assert.equal(attentions.length, want.attentions.length, 'one attention tensor per layer');
  assert.equal(exposed.hiddenStates.length, want.hidden_states.length, 'a hidden state entering each layer and one leaving the last');
  let attention = 0;
  attentions.forEach((a, layer) => {
    const t = out[a.output];
    assert.deepEqual(t.dims, want.attentions[layer].shape, `layer ${layer}: [batch, heads, queries, keys]`);
    attention = Math.max(attention, maxAbsDiff(t.data as Float32Array, want.attentions[layer].data));
  });
  let hidden = 0;
  for (const h of exposed.hiddenStates) {
    const t = out[h.output];
    assert.deepEqual(t.dims, want.hidden_states[h.index].shape, `hidden state ${h.index}`);
    hidden = Math.max(hidden, scaledDiff(t.data as Float32Array, want.hidden_states[h.index].data));
  }
  return [attention, hidden];
}

/** The prompt with no past, then the first generated token with the prompt's presents as its past. */
async function twoSteps(session: ModelSession, prompt: number[], next: number, extra: Record<string, TensorData> = {}): Promise<[Record<string, TensorData>, Record<string, TensorData>]> {
  const first = await session.run({ input_ids: ids(prompt), ...extra });
  const feeds: Record<string, TensorData> = {
    ...extra,
    input_ids: ids([next]),
    attention_mask: { dims: [1, prompt.length + 1], data: new BigInt64Array(prompt.length + 1).fill(1n) },
  };
  for (const name of session.inputNames) {
    const m = /^past_key_values\.(\d+)\.(key|value)$/.exec(name);
    if (m) feeds[name] = first[`present.${m[1]}.${m[2]}`];
  }
  if (session.inputNames.includes('use_cache_branch')) feeds.use_cache_branch = { dims: [1], data: Uint8Array.of(1) };
  return [first, await session.run(feeds)];
}

describe('attention and hidden states of decoders with past keys and values, against PyTorch', () => {
  for (const d of DECODERS) {
    test(`${d.name}: the prompt without past and a token with past match PyTorch within 1e-5 (hidden states relative to their largest value)`, async (t) => {
      const session = await open(d.name, d.file);
      let worst = [0, 0];
      for (const c of readGenerationReference(d.name).cases) {
        const internals = c.internals!;
        const [first, second] = await twoSteps(session, c.prompt_ids, internals.cached.ids[0]);
        const a = compare(session, first, internals.prompt);
        const b = compare(session, second, internals.cached);
        worst = [Math.max(worst[0], a[0], b[0]), Math.max(worst[1], a[1], b[1])];
      }
      t.diagnostic(`${d.name}: largest |attention − PyTorch| ${worst[0].toExponential(2)}, |hidden state − PyTorch| / max(1, largest |PyTorch|) ${worst[1].toExponential(2)}`);
      assert.ok(worst[0] < 1e-5, `attention off by ${worst[0]}`);
      assert.ok(worst[1] < 1e-5, `hidden states off by ${worst[1]}`);
    });
  }

  test('gpt2-merged: exposing the branches leaves the logits and present keys and values of both branches as they were', async () => {
    const exposed = await open('gpt2-merged', 'decoder_model_merged.onnx');
    const plain = await open('gpt2-merged', 'decoder_model_merged.onnx', false);
    const c = readGenerationReference('gpt2-merged').cases[0];
    const [a1, a2] = await twoSteps(exposed, c.prompt_ids, c.generated[0]);
    const [b1, b2] = await twoSteps(plain, c.prompt_ids, c.generated[0]);
    for (const name of plain.outputNames) {
      assert.deepEqual(a1[name].dims, b1[name].dims);
      assert.ok(maxAbsDiff(a1[name].data as Float32Array, b1[name].data as Float32Array) <= 1e-6, `${name}, no past`);
      assert.ok(maxAbsDiff(a2[name].data as Float32Array, b2[name].data as Float32Array) <= 1e-6, `${name}, with past`);
    }
    // The cache branch's attention covers the past and the new token: [1, heads, 1, past + 1].
    const layer0 = exposed.exposed!.attentions.find((a) => a.layer === 0)!;
    assert.deepEqual(a2[layer0.output].dims, [1, 4, 1, c.prompt_ids.length + 1]);
  });
});

/** PyTorch's gpt2-op14 under head masks (make_inspect_references.py): gpt2-merged holds the same weights. */
interface HeadMaskReference {
  input_ids: number[];
  layers: number;
  heads: number;
  target: number;
  single_head_target_logit: number[][];
  layer_masked: { layer: number; logits: number[] }[];
}

describe('a head mask inside a merged decoder, against PyTorch', () => {
  test('gpt2-merged: both branches of the If apply the mask — the prompt without past, and its last token with the rest as past', async (t) => {
    const ref = readInspectReference<Record<string, HeadMaskReference>>('head-mask.json')['gpt2-op14'];
    const bytes = readBytes(path.join(GENERATION_FIXTURES, 'gpt2-merged', 'onnx', 'decoder_model_merged.onnx'));
    const masked = addHeadMask(bytes, parseOnnxModel(bytes), { heads: ref.heads });
    assert.equal(masked.layers, ref.layers);
    const session = await ModelSession.create(masked.bytes, parseOnnxModel(masked.bytes), { analyze: { stack: 'decoder' } });
    const prompt = ref.input_ids.slice(0, -1);
    const last = ref.input_ids[ref.input_ids.length - 1];
    const vocab = ref.layer_masked[0].logits.length;
    /** The next-token logits after the whole text: [no past, with past]. */
    const run = async (mask: Float32Array) => {
      const head_mask = { dims: [ref.layers, ref.heads], data: mask };
      const whole = await session.run({ input_ids: ids(ref.input_ids), head_mask });
      const [, cached] = await twoSteps(session, prompt, last, { head_mask });
      const w = whole.logits.data as Float32Array;
      return { whole, cached, logits: [w.subarray(w.length - vocab), cached.logits.data as Float32Array] };
    };
    let worst = 0;
    for (const want of ref.layer_masked) {
      const mask = new Float32Array(ref.layers * ref.heads).fill(1).fill(0, want.layer * ref.heads, (want.layer + 1) * ref.heads);
      for (const got of (await run(mask)).logits) worst = Math.max(worst, maxAbsDiff(got, want.logits));
    }
    for (let l = 0; l < ref.layers; l++) {
      for (let h = 0; h < ref.heads; h++) {
        const mask = new Float32Array(ref.layers * ref.heads).fill(1);
        mask[l * ref.heads + h] = 0;
        const r = await run(mask);
        for (const got of r.logits) worst = Math.max(worst, Math.abs(got[ref.target] - ref.single_head_target_logit[l][h]));
        // The removed head's attention is zero in the branch that ran, with past and without.
        const site = session.exposed!.attentions.find((a) => a.layer === l)!;
        for (const out of [r.whole, r.cached]) {
          const [, heads, q, k] = out[site.output].dims;
          assert.equal(heads, ref.heads);
          const probs = out[site.output].data as Float32Array;
          assert.ok(probs.subarray(h * q * k, (h + 1) * q * k).every((v) => v === 0), `layer ${l} head ${h} removed`);
          assert.ok(probs.subarray(((h + 1) % heads) * q * k, (((h + 1) % heads) + 1) * q * k).some((v) => v > 0), 'the other heads stay');
        }
      }
    }
    t.diagnostic(`gpt2-merged under head masks: largest |logit − PyTorch| ${worst.toExponential(2)}`);
    assert.ok(worst < 1e-5, `largest difference from PyTorch ${worst}`);
    await session.release();
  });
});
