import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { ModelError } from '../../../src/engine/model/modelError';
import { DataType, editGraph, opsetVersion, parseOnnxModel, tensorNumbers } from '../../../src/engine/model/onnxProto';
import { GraphIndex } from '../../../src/engine/model/graphIndex';
import { fixtureFolder } from '../../support/fixtureModels';
import { GRAPHS, readBytes } from './referenceFixtures';

/** Deterministic bytes for fuzzing (xorshift32). */
function pseudoRandomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

describe('parseOnnxModel', () => {
  test('reads header, opsets, graph inputs with shapes, nodes and attributes', () => {
    const model = parseOnnxModel(readBytes(path.join(GRAPHS, 'fused-attention', 'model.onnx')));
    assert.equal(model.irVersion, 8);
    assert.equal(model.producerName, 'onnx-lens-cases');
    assert.equal(opsetVersion(model), 14);
    assert.equal(opsetVersion(model, 'com.microsoft'), 1);
    assert.deepEqual(model.graph.inputs.map((i) => [i.name, i.elemType, i.shape]), [
      ['input_ids', DataType.INT64, ['batch', 'sequence']],
      ['attention_mask', DataType.INT64, ['batch', 'sequence']],
    ]);
    assert.deepEqual(model.graph.outputs[0].shape, ['batch', 3]);
    const attention = model.graph.nodes.find((n) => n.opType === 'Attention');
    assert.equal(attention?.domain, 'com.microsoft');
    assert.equal(attention?.attributes.find((a) => a.name === 'num_heads')?.i, 2);
    const w = model.graph.initializers.find((t) => t.name === 'w');
    assert.deepEqual(w?.dims, [16, 48]);
    assert.equal(w?.byteSize, 16 * 48 * 4);
  });

  test('decodes constants: the head split [.., heads, head_size] and the embedding table', (t) => {
    const dir = fixtureFolder('bert-cls-op14');
    const model = parseOnnxModel(readBytes(path.join(dir, 'onnx', 'model.onnx')));
    const ix = new GraphIndex(model.graph);
    // Reshape targets are Concat(Shape-derived batch/sequence, heads, head_size): the constant parts are 4 and 8.
    const pieces = model.graph.nodes
      .filter((n) => n.opType === 'Reshape')
      .map((n) => ix.producerOf(n.inputs[1]))
      .filter((c) => c?.opType === 'Concat' && c.inputs.length === 4)
      .map((c) => [ix.constantValues(c!.inputs[2])?.[0], ix.constantValues(c!.inputs[3])?.[0]]);
    assert.ok(pieces.length >= 6, 'query/key/value reshapes in both layers');
    assert.ok(pieces.some(([h, d]) => h === 4 && d === 8), JSON.stringify(pieces));
    const table = model.graph.initializers.find((i) => i.dims.length === 2 && i.dims[0] === 900);
    assert.ok(table, 'word embedding table read');
    const values = tensorNumbers(table);
    assert.equal(values?.length, 900 * 32);
    assert.ok(values?.every(Number.isFinite));
  });

  test('a truncated file gives a clear error with the byte position', (t) => {
    const dir = fixtureFolder('bert-cls-op14');
    const bytes = readBytes(path.join(dir, 'onnx', 'model.onnx'));
    for (const keep of [1, 5, 1000, Math.floor(bytes.length / 2), bytes.length - 3]) {
      assert.throws(
        () => parseOnnxModel(bytes.subarray(0, keep), 'model.onnx'),
        (e: unknown) => e instanceof ModelError && e.code === 'invalid-onnx' &&
          /^model\.onnx is not a valid ONNX model \((truncated|malformed) at byte \d+ of \d+\); re-export or re-download it\.$/.test(e.message),
      );
    }
  });

  test('random bytes never crash or hang: always a ModelError', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const bytes = pseudoRandomBytes(64 + ((seed * 7919) % 4000), seed);
      try {
        parseOnnxModel(bytes, 'noise.onnx');
        assert.fail('random bytes parsed as a model');
      } catch (e) {
        assert.ok(e instanceof ModelError, `seed ${seed}: ${String(e)}`);
        assert.match(e.message, /^noise\.onnx is not a valid ONNX model/);
      }
    }
    assert.throws(() => parseOnnxModel(new Uint8Array(0), 'empty.onnx'), /empty\.onnx is not a valid ONNX model/);
  });
});

describe('editGraph', () => {
  test('appended outputs come out of the runtime; the rest of the file is byte-identical', async () => {
    const bytes = readBytes(path.join(GRAPHS, 'fused-attention', 'model.onnx'));
    const model = parseOnnxModel(bytes);
    const edited = editGraph(bytes, model, { outputs: ['x', 'mask_i32'] });
    const reparsed = parseOnnxModel(edited);
    assert.deepEqual(reparsed.graph.outputs.map((o) => o.name), ['logits', 'x', 'mask_i32']);
    assert.equal(reparsed.graph.nodes.length, model.graph.nodes.length);
    // Everything before the graph field and the graph's original content are untouched.
    assert.deepEqual(edited.subarray(0, model.graphField.start), bytes.subarray(0, model.graphField.start));
    const shift = reparsed.graphField.contentStart - model.graphField.contentStart;
    assert.deepEqual(
      edited.subarray(reparsed.graphField.contentStart, reparsed.graphField.contentStart + (model.graphField.end - model.graphField.contentStart)),
      bytes.subarray(model.graphField.contentStart, model.graphField.end),
    );
    assert.ok(shift >= 0);
    const session = await ort.InferenceSession.create(edited);
    const out = await session.run({
      input_ids: new ort.Tensor('int64', BigInt64Array.from([1n, 2n, 3n]), [1, 3]),
      attention_mask: new ort.Tensor('int64', BigInt64Array.from([1n, 1n, 0n]), [1, 3]),
    });
    assert.deepEqual(out.x.dims, [1, 3, 16]);
    assert.equal(out.mask_i32.type, 'int32');
    assert.deepEqual(Array.from(out.mask_i32.data as Int32Array), [1, 1, 0]);
  });

  test('new inputs, nodes and renamed outputs are written and run', async () => {
    const bytes = readBytes(path.join(GRAPHS, 'not-transformer', 'model.onnx'));
    const model = parseOnnxModel(bytes);
    const relu = model.graph.nodes.findIndex((n) => n.opType === 'Relu');
    const edited = editGraph(bytes, model, {
      inputs: [{ name: 'gain', elemType: DataType.FLOAT, shape: [3] }],
      renameOutputs: new Map([[relu, new Map([['scores', 'scores_raw']])]]),
      nodes: [
        { opType: 'Constant', inputs: [], outputs: ['minus_one'], attributes: [{ name: 'value', tensor: { dataType: DataType.INT64, dims: [1], values: [-1] } }] },
        { opType: 'Reshape', inputs: ['gain', 'minus_one'], outputs: ['gain_flat'] },
        { opType: 'Mul', inputs: ['scores_raw', 'gain_flat'], outputs: ['scores'] },
      ],
    });
    const reparsed = parseOnnxModel(edited);
    assert.deepEqual(reparsed.graph.inputs.map((i) => [i.name, i.shape]), [['features', ['batch', 4]], ['gain', [3]]]);
    assert.equal(new GraphIndex(reparsed.graph).constantValues('minus_one')?.[0], -1);
    const session = await ort.InferenceSession.create(edited);
    const plain = await ort.InferenceSession.create(bytes);
    const features = new ort.Tensor('float32', Float32Array.from([1, -2, 3, 0.5, -1, 2, -3, 1, 0.3, 0.2, -0.1, 4]), [3, 4]);
    const gain = [2, 0.5, -1];
    const base = (await plain.run({ features })).scores.data as Float32Array;
    const gained = (await session.run({ features, gain: new ort.Tensor('float32', Float32Array.from(gain), [3]) })).scores.data as Float32Array;
    assert.ok(base.some((v) => v > 0.1), 'some scores are positive');
    for (let i = 0; i < base.length; i++) assert.ok(Math.abs(gained[i] - base[i] * gain[i % 3]) < 1e-6);
  });
});
