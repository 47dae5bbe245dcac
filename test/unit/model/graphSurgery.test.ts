import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { addHeadMask, analyzeGraph, exposeInternals } from '../../../src/engine/model/graphSurgery';
import { ModelSession, TensorData } from '../../../src/engine/model/modelSession';
import { parseOnnxModel } from '../../../src/engine/model/onnxProto';
import { fixtureFolder, type Reference } from '../../support/fixtureModels';
import { maxAbsDiff } from '../../support/tensorDifference';
import { GRAPHS, loadReference, readBytes, refTensor } from './referenceFixtures';

interface Case {
  name: string;
  file: string;
  quantized?: boolean;
}

const CASES: Case[] = [
  ...['bert-cls-op14', 'bert-cls-op17', 'bert-sdpa-op14', 'bert-cls-unnamed-op14', 'bert-mlm-op14', 'bert-mlm-op17',
    'distilbert-cls-op14', 'distilbert-cls-op17', 'gpt2-op14', 'gpt2-op17'].map((name) => ({ name, file: 'model.onnx' })),
  { name: 'gpt2-past-op14', file: 'decoder_model.onnx' },
  { name: 't5-op14', file: 'encoder_model.onnx' },
  { name: 't5-op14', file: 'decoder_model.onnx' },
  { name: 't5-op17', file: 'encoder_model.onnx' },
  { name: 't5-op17', file: 'decoder_model.onnx' },
  ...['bert-cls-op14', 'distilbert-cls-op14', 'bert-mlm-op14'].map((name) => ({ name, file: 'model_quantized.onnx', quantized: true })),
];

/** Reference inputs for one graph file of a fixture. T5's decoder takes the reference encoder output. */
function feedsFor(ref: Reference, file: string): Record<string, TensorData> {
  const feeds: Record<string, TensorData> = {};
  for (const [name, t] of Object.entries(ref.inputs)) feeds[name] = refTensor(t, name.startsWith('past_key_values'));
  if (file === 'decoder_model.onnx' && ref.outputs.last_hidden_state) {
    feeds.encoder_hidden_states = refTensor(ref.outputs.last_hidden_state, true);
    feeds.encoder_attention_mask = feeds.attention_mask;
    delete feeds.attention_mask;
  }
  if (file === 'encoder_model.onnx') delete feeds.decoder_input_ids;
  return feeds;
}

/** Stacks and attention kinds a graph file covers in the reference. */
function refKinds(ref: Reference, file: string): { attention: string[]; hidden: string[] } {
  if (file === 'encoder_model.onnx') return { attention: ['self'], hidden: ['encoder'] };
  if (file === 'decoder_model.onnx' && ref.outputs.last_hidden_state) return { attention: ['decoder', 'cross'], hidden: ['decoder'] };
  return { attention: [...new Set(ref.attentions.map((a) => a.kind))], hidden: [...new Set(ref.hidden_states.map((h) => h.kind))] };
}

/** Per query row, the sum of probabilities over keys; returns the largest deviation from 1. */
function rowSumError(t: TensorData): number {
  const keys = t.dims[3];
  let worst = 0;
  for (let r = 0; r < t.data.length / keys; r++) {
    let s = 0;
    for (let k = 0; k < keys; k++) s += Number(t.data[r * keys + k]);
    worst = Math.max(worst, Math.abs(s - 1));
  }
  return worst;
}

describe('exposeInternals on fixture models', () => {
  for (const c of CASES) {
    test(`${c.name}/${c.file}: attention and hidden states match PyTorch`, async (t) => {
      const dir = fixtureFolder(c.name);
      const ref = loadReference(dir);
      const file = path.join(dir, 'onnx', c.file);
      const bytes = readBytes(file);
      const parsed = parseOnnxModel(bytes, c.file);
      const kinds = refKinds(ref, c.file);
      const session = await ModelSession.create(bytes, parsed);
      const plain = await ModelSession.create(bytes, parsed, { expose: false });
      const feeds = feedsFor(ref, c.file);
      const out = await session.run(feeds);
      const base = await plain.run(feeds);
      const exposed = session.exposed;
      assert.ok(exposed);
      assert.deepEqual(exposed.notes, []);

      const wantAttn = ref.attentions.filter((a) => kinds.attention.includes(a.kind));
      const wantHidden = ref.hidden_states.filter((h) => kinds.hidden.includes(h.kind));
      assert.equal(exposed.attentions.length, wantAttn.length, 'attention blocks found');
      assert.equal(exposed.hiddenStates.length, wantHidden.length, 'hidden states found');
      let worstAttn = 0;
      let worstHidden = 0;
      for (const w of wantAttn) {
        const got: { output: string } | undefined = exposed.attentions.find((a) => a.layer === w.layer && a.kind === w.kind);
        assert.ok(got, `attention ${w.kind} ${w.layer} exposed`);
        const tensor: TensorData = out[got.output];
        assert.deepEqual(tensor.dims, w.shape);
        worstAttn = Math.max(worstAttn, maxAbsDiff(tensor.data as Float32Array, w.data));
        assert.ok(rowSumError(tensor) < 1e-5, `rows of ${w.kind} ${w.layer} sum to 1`);
      }
      for (const w of wantHidden) {
        const got: { output: string } | undefined = exposed.hiddenStates.find((h) => h.index === w.index && h.kind === w.kind);
        assert.ok(got, `hidden state ${w.kind} ${w.index} exposed`);
        assert.deepEqual(out[got.output].dims, w.shape);
        worstHidden = Math.max(worstHidden, maxAbsDiff(out[got.output].data as Float32Array, w.data));
      }
      if (c.quantized) {
        // Measured on these fixtures: attention ≤ 0.12, hidden states ≤ 0.28 from fp32 PyTorch (int8 rounding).
        assert.ok(worstAttn < 0.2 && worstHidden < 0.4, `int8 error within bounds (attention ${worstAttn}, hidden ${worstHidden})`);
        assert.ok(worstAttn > 1e-4, 'the quantized graph really differs from fp32');
      } else {
        assert.ok(worstAttn <= 1e-5, `attention max diff ${worstAttn}`);
        assert.ok(worstHidden <= 1e-5, `hidden max diff ${worstHidden}`);
      }
      // The model's own outputs are untouched by the rewrite.
      for (const name of plain.outputNames) {
        assert.ok(maxAbsDiff(out[name].data as Float32Array, base[name].data as Float32Array) <= 1e-6, `${name} unchanged`);
      }
      // Causal self-attention puts no weight on later tokens.
      const causalKinds = c.name.startsWith('gpt2') ? ['self'] : c.file === 'decoder_model.onnx' ? ['decoder'] : [];
      for (const a of exposed.attentions.filter((x) => causalKinds.includes(x.kind))) {
        const tns = out[a.output];
        const [b, h, q, k] = tns.dims;
        let above = 0;
        for (let i = 0; i < b * h; i++) for (let r = 0; r < q; r++) for (let col = r + 1; col < k; col++) above = Math.max(above, Number(tns.data[(i * q + r) * k + col]));
        assert.ok(above < 1e-9, `causal ${a.kind} ${a.layer}: max weight above diagonal ${above}`);
      }
      await session.release();
      await plain.release();
    });
  }
});

describe('fused attention operators', () => {
  for (const name of ['fused-attention', 'fused-mha']) {
    test(`${name}: probabilities are recomputed and match numpy`, async () => {
      const dir = path.join(GRAPHS, name);
      const ref = loadReference(dir);
      const bytes = readBytes(path.join(dir, 'model.onnx'));
      const parsed = parseOnnxModel(bytes);
      const session = await ModelSession.create(bytes, parsed);
      const plain = await ModelSession.create(bytes, parsed, { expose: false });
      const feeds = { input_ids: refTensor(ref.inputs.input_ids), attention_mask: refTensor(ref.inputs.attention_mask) };
      const out = await session.run(feeds);
      const base = await plain.run(feeds);
      const exposed = session.exposed;
      assert.ok(exposed);
      assert.equal(exposed.attentions.length, 1);
      assert.ok(exposed.notes.some((n) => n.includes('recomputed')));
      const got = out[exposed.attentions[0].output];
      assert.deepEqual(got.dims, ref.attentions[0].shape);
      assert.ok(maxAbsDiff(got.data as Float32Array, ref.attentions[0].data) < 1e-5);
      for (const o of plain.outputNames) assert.ok(maxAbsDiff(out[o].data as Float32Array, base[o].data as Float32Array) <= 1e-6);
    });
  }

  for (const name of ['fused-gqa-packed', 'fused-gqa-padded']) {
    test(`${name}: GroupQueryAttention's probabilities are recomputed, match numpy, and weight the values into the operator's own output`, async () => {
      const dir = path.join(GRAPHS, name);
      const ref = loadReference(dir);
      const bytes = readBytes(path.join(dir, 'model.onnx'));
      const parsed = parseOnnxModel(bytes);
      const session = await ModelSession.create(bytes, parsed);
      const plain = await ModelSession.create(bytes, parsed, { expose: false });
      const feeds: Record<string, TensorData> = {};
      for (const [input, t] of Object.entries(ref.inputs)) feeds[input] = refTensor(t, input.startsWith('past'));
      const out = await session.run(feeds);
      const base = await plain.run(feeds);
      const exposed = session.exposed!;
      assert.equal(exposed.attentions.length, 1);
      assert.match(exposed.notes.join(' '), /GroupQueryAttention/);
      const probs = out[exposed.attentions[0].output];
      assert.deepEqual(probs.dims, ref.attentions[0].shape);
      assert.ok(maxAbsDiff(probs.data as Float32Array, ref.attentions[0].data) < 1e-5, 'numpy');
      for (const o of plain.outputNames) assert.ok(maxAbsDiff(out[o].data as Float32Array, base[o].data as Float32Array) <= 1e-6, o);
      // The operator's own output is these probabilities times the values it returns (present_value), each value
      // head shared by its group of query heads: the runtime's kernel checks the semantics, not only numpy.
      const [batch, heads, queries, keys] = probs.dims;
      const values = out['present.0.value'];
      const [, kvHeads, , headSize] = values.dims;
      const own = out.attn_out.data as Float32Array;
      const lengths = Array.from({ length: batch }, (_, b) => ref.inputs.attention_mask.data.slice(b * keys, (b + 1) * keys).reduce((a, x) => a + x, 0));
      let worst = 0;
      for (let b = 0; b < batch; b++) {
        for (let h = 0; h < heads; h++) {
          const g = Math.floor(h / (heads / kvHeads));
          for (let q = 0; q < queries && keys - queries + q < lengths[b]; q++) {
            for (let d = 0; d < headSize; d++) {
              let sum = 0;
              for (let k = 0; k < keys; k++) sum += (probs.data[((b * heads + h) * queries + q) * keys + k] as number) * (values.data[((b * kvHeads + g) * keys + k) * headSize + d] as number);
              worst = Math.max(worst, Math.abs(sum - own[(b * queries + q) * heads * headSize + h * headSize + d]));
            }
          }
        }
      }
      assert.ok(worst < 1e-5, `probabilities × values differ from the operator's output by ${worst}`);
    });
  }

  test('a fused operator it cannot recompute is reported, not guessed', () => {
    const bytes = readBytes(path.join(GRAPHS, 'fused-attention', 'model.onnx'));
    const parsed = parseOnnxModel(bytes);
    // Make the operator causal: recomputing it without the causal mask would give wrong numbers.
    const attention = parsed.graph.nodes.find((n) => n.opType === 'Attention');
    assert.ok(attention);
    attention.attributes.push({ name: 'unidirectional', type: 2, i: 1 });
    const analysis = analyzeGraph(parsed);
    assert.equal(analysis.attentions.length, 0);
    assert.match(analysis.notes.join('\n'), /fused into one com\.microsoft\.Attention operator that hides its probabilities \(causal masking/);
  });
});

describe('addHeadMask', () => {
  test('zeroing a head removes its attention, all ones changes nothing', async (t) => {
    const dir = fixtureFolder('bert-cls-op14');
    const ref = loadReference(dir);
    const bytes = readBytes(path.join(dir, 'onnx', 'model.onnx'));
    const parsed = parseOnnxModel(bytes);
    const masked = addHeadMask(bytes, parsed, { heads: 4 });
    assert.equal(masked.layers, 2);
    const session = await ModelSession.create(masked.bytes, parseOnnxModel(masked.bytes));
    const feeds: Record<string, TensorData> = {};
    for (const [k, v] of Object.entries(ref.inputs)) feeds[k] = refTensor(v);
    const ones = await session.run({ ...feeds, head_mask: { dims: [2, 4], data: new Float32Array(8).fill(1) } });
    assert.ok(maxAbsDiff(ones.logits.data as Float32Array, ref.outputs.logits.data) < 1e-5, 'all-ones mask keeps PyTorch logits');
    const mask = new Float32Array(8).fill(1);
    mask[1 * 4 + 2] = 0; // layer 1, head 2
    const cut = await session.run({ ...feeds, head_mask: { dims: [2, 4], data: mask } });
    const exposed = session.exposed;
    assert.ok(exposed);
    const layer1 = exposed.attentions.find((a) => a.layer === 1 && a.kind === 'self');
    const layer0 = exposed.attentions.find((a) => a.layer === 0 && a.kind === 'self');
    assert.ok(layer1 && layer0);
    const [b, h, q, k] = cut[layer1.output].dims;
    const per = q * k;
    for (let i = 0; i < b; i++) {
      for (let head = 0; head < h; head++) {
        const slice = (x: TensorData) => (x.data as Float32Array).subarray((i * h + head) * per, (i * h + head + 1) * per);
        const same = maxAbsDiff(slice(cut[layer1.output]), slice(ones[layer1.output]));
        if (head === 2) assert.ok(slice(cut[layer1.output]).every((v) => v === 0), 'masked head is zero');
        else assert.ok(same < 1e-7, 'other heads unchanged');
      }
    }
    assert.ok(maxAbsDiff(cut[layer0.output].data as Float32Array, ones[layer0.output].data as Float32Array) < 1e-7, 'layer 0 unchanged');
    assert.ok(maxAbsDiff(cut.logits.data as Float32Array, ones.logits.data as Float32Array) > 1e-4, 'removing a head moves the logits');
    await session.release();
  });

  test('exposeInternals keeps graph outputs that already exist', () => {
    const bytes = readBytes(path.join(GRAPHS, 'fused-attention', 'model.onnx'));
    const parsed = parseOnnxModel(bytes);
    const once = exposeInternals(bytes, parsed);
    const again = parseOnnxModel(once.bytes);
    assert.deepEqual(again.graph.outputs.map((o) => o.name), ['logits', once.attentions[0].output]);
  });
});
