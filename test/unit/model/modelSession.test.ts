import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { ModelError } from '../../../src/engine/model/modelError';
import { ModelSession, positionIds, TensorData } from '../../../src/engine/model/modelSession';
import { OnnxGraph, parseOnnxModel, tensorNumbers } from '../../../src/engine/model/onnxProto';
import { fixtureFolder, GENERATION_FIXTURES } from '../../support/fixtureModels';
import { maxAbsDiff } from '../../support/tensorDifference';
import { loadReference, readBytes, refTensor } from './referenceFixtures';

async function open(dir: string, file: string): Promise<ModelSession> {
  const bytes = readBytes(path.join(dir, 'onnx', file));
  return ModelSession.create(bytes, parseOnnxModel(bytes, file), { intraOpNumThreads: 1 });
}

/** Max difference over the logits of attended positions only ([B, S, V] logits, [B, S] mask). */
function realTokenDiff(got: TensorData, want: number[], mask: number[]): number {
  const [b, s, v] = got.dims;
  let worst = 0;
  for (let i = 0; i < b * s; i++) {
    if (!mask[i]) continue;
    worst = Math.max(worst, maxAbsDiff((got.data as Float32Array).subarray(i * v, (i + 1) * v), want.slice(i * v, (i + 1) * v)));
  }
  return worst;
}

describe('positionIds', () => {
  test('counts attended tokens, so left padding starts real tokens at 0', () => {
    const mask: TensorData = { dims: [2, 5], data: BigInt64Array.from([0n, 0n, 1n, 1n, 1n, 1n, 1n, 1n, 1n, 0n]) };
    assert.deepEqual(Array.from(positionIds(mask, 2, 5), Number), [1, 1, 0, 1, 2, 0, 1, 2, 3, 1]);
    // With 3 cached positions, the last 2 of a 5-long mask.
    assert.deepEqual(Array.from(positionIds(mask, 2, 2), Number), [1, 2, 3, 1]);
    assert.deepEqual(Array.from(positionIds(undefined, 1, 3, 4), Number), [4, 5, 6]);
  });
});

describe('ModelSession.run fills inputs the caller leaves out', () => {
  test('GPT-2 with past: position ids and empty past state', async (t) => {
    const dir = fixtureFolder('gpt2-past-op14');
    const ref = loadReference(dir);
    const session = await open(dir, 'decoder_model.onnx');
    const out = await session.run({ input_ids: refTensor(ref.inputs.input_ids), attention_mask: refTensor(ref.inputs.attention_mask) });
    assert.ok(realTokenDiff(out.logits, ref.outputs.logits.data, ref.inputs.attention_mask.data) < 1e-4);
    assert.deepEqual(out['present.0.key'].dims, [2, 4, 7, 8]);
    await session.release();
  });

  test('GPT-2 with past: a left-padded row predicts as the same text unpadded', async (t) => {
    const dir = fixtureFolder('gpt2-past-op14');
    const ref = loadReference(dir);
    const session = await open(dir, 'decoder_model.onnx');
    const ids = ref.inputs.input_ids.data.slice(0, 5).map(BigInt);
    const alone = await session.run({ input_ids: { dims: [1, 5], data: BigInt64Array.from(ids) } });
    const padded = await session.run({
      input_ids: { dims: [1, 7], data: BigInt64Array.from([0n, 0n, ...ids]) },
      attention_mask: { dims: [1, 7], data: BigInt64Array.from([0n, 0n, 1n, 1n, 1n, 1n, 1n]) },
    });
    const v = alone.logits.dims[2];
    const a = alone.logits.data as Float32Array;
    const p = (padded.logits.data as Float32Array).subarray(2 * v);
    assert.ok(maxAbsDiff(a, p) < 1e-4, `padded vs unpadded ${maxAbsDiff(a, p)}`);
    await session.release();
  });

  test('BERT without token_type_ids gets zeros', async (t) => {
    const dir = fixtureFolder('bert-cls-op14');
    const ref = loadReference(dir);
    assert.ok(ref.inputs.token_type_ids.data.every((x) => x === 0));
    const session = await open(dir, 'model.onnx');
    const out = await session.run({ input_ids: refTensor(ref.inputs.input_ids), attention_mask: refTensor(ref.inputs.attention_mask) });
    assert.ok(maxAbsDiff(out.logits.data as Float32Array, ref.outputs.logits.data) < 1e-5);
    await session.release();
  });

  test('T5 decoder: decoder_input_ids and the encoder mask are routed; a missing encoder output is named', async (t) => {
    const dir = fixtureFolder('t5-op14');
    const ref = loadReference(dir);
    const encoder = await open(dir, 'encoder_model.onnx');
    const decoder = await open(dir, 'decoder_model.onnx');
    const enc = await encoder.run({ input_ids: refTensor(ref.inputs.input_ids), attention_mask: refTensor(ref.inputs.attention_mask) });
    assert.ok(maxAbsDiff(enc.last_hidden_state.data as Float32Array, ref.outputs.last_hidden_state.data) < 1e-5);
    const dec = await decoder.run({
      decoder_input_ids: refTensor(ref.inputs.decoder_input_ids),
      attention_mask: refTensor(ref.inputs.attention_mask),
      encoder_hidden_states: enc.last_hidden_state,
    });
    assert.ok(maxAbsDiff(dec.logits.data as Float32Array, ref.outputs.logits.data) < 1e-4);
    await assert.rejects(
      decoder.run({ decoder_input_ids: refTensor(ref.inputs.decoder_input_ids), attention_mask: refTensor(ref.inputs.attention_mask) }),
      (e: unknown) => e instanceof ModelError && /needs input encoder_hidden_states/.test(e.message),
    );
    await encoder.release();
    await decoder.release();
  });

  test('a session keeps the graph (inputs, outputs, operators, branches) but none of the file\'s bytes', async () => {
    const file = path.join(GENERATION_FIXTURES, 'gpt2-merged', 'onnx', 'decoder_model_merged.onnx');
    const bytes = readBytes(file);
    const parsed = parseOnnxModel(bytes, 'decoder_model_merged.onnx');
    const session = await ModelSession.create(bytes, parsed, { intraOpNumThreads: 1 });
    const tensors = (g: OnnxGraph): { name: string; dims: number[]; bytes: number; values?: number[] }[] => [
      ...g.initializers.map((t) => ({ name: t.name, dims: t.dims, bytes: t.source.byteLength, values: tensorNumbers(t) })),
      ...g.nodes.flatMap((n) => n.attributes.flatMap((a) => [...(a.g ? tensors(a.g) : []), ...(a.graphs ?? []).flatMap(tensors)])),
    ];
    const kept = tensors(session.model.graph);
    const inFile = tensors(parsed.graph);
    // The merged decoder's weights sit in its main graph and inside both branches of its If.
    assert.ok(inFile.length > 20 && inFile.some((t) => t.bytes > 0));
    assert.deepEqual(kept.map((t) => [t.name, t.dims]), inFile.map((t) => [t.name, t.dims]));
    assert.ok(kept.every((t) => t.bytes === 0 && (t.values === undefined || t.values.length === 0)), 'no tensor of the session views the file');
    assert.deepEqual(session.model.graph.inputs, parsed.graph.inputs);
    assert.deepEqual(session.model.graph.nodes.map((n) => n.opType), parsed.graph.nodes.map((n) => n.opType));
    assert.ok(session.exposed && session.exposed.attentions.length > 0 && !('bytes' in session.exposed), 'the rewritten graph is not kept either');
    await session.release();
  });
});
