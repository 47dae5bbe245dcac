// The output head cut to the read positions: the logits a prediction reads, and only those, computed by the
// model's own head nodes; checked against a plain onnxruntime session running the untouched file row by row.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { READ_ROWS_INPUT, readPositionGraph } from '../../../src/engine/model/graphCut';
import { parseOnnxModel } from '../../../src/engine/model/onnxProto';
import { FIXTURES } from '../../support/fixtureModels';
import { PlainModel } from '../../support/plainOnnx';

const plains: PlainModel[] = [];
after(async () => {
  for (const p of plains) await p.release();
});

function cut(file: string): Uint8Array | undefined {
  const bytes = new Uint8Array(fs.readFileSync(file));
  return readPositionGraph(bytes, parseOnnxModel(bytes, path.basename(file)));
}

/** Rows of different lengths, right-padded into one batch, and the position each row is read at. */
const ROWS = [
  { ids: [5, 17, 40, 41, 60, 8, 9], read: 6 },
  { ids: [12, 30, 31], read: 2 },
  { ids: [3, 4, 5, 6, 70], read: 1 },
];

async function runCut(bytes: Uint8Array, rows: typeof ROWS): Promise<ort.Tensor> {
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
  const s = Math.max(...rows.map((r) => r.ids.length));
  const ids = new BigInt64Array(rows.length * s);
  const mask = new BigInt64Array(rows.length * s);
  rows.forEach((r, b) => r.ids.forEach((id, i) => ((ids[b * s + i] = BigInt(id)), (mask[b * s + i] = 1n))));
  const feeds: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor('int64', ids, [rows.length, s]),
    attention_mask: new ort.Tensor('int64', mask, [rows.length, s]),
    [READ_ROWS_INPUT]: new ort.Tensor('int64', BigInt64Array.from(rows, (r, b) => BigInt(b * s + r.read)), [rows.length]),
  };
  if (session.inputNames.includes('token_type_ids')) feeds.token_type_ids = new ort.Tensor('int64', new BigInt64Array(rows.length * s), [rows.length, s]);
  const out = (await session.run(feeds)).logits;
  await session.release();
  return out;
}

describe('the output head applied at the read positions only', () => {
  const cases: [string, string, typeof ROWS][] = [
    ['gpt2-op14', 'model.onnx', ROWS],
    ['gpt2-op17', 'model.onnx', ROWS],
    ['bert-mlm-op14', 'model.onnx', ROWS],
    ['bert-mlm-op17', 'model.onnx', ROWS],
    // Dynamic quantization: one row per run (its scale spans the batch), the head reads the 8-bit activation.
    ['bert-mlm-op14', 'model_quantized.onnx', ROWS.slice(0, 1)],
  ];
  for (const [name, file, rows] of cases) {
    test(`${name} ${file}: logits [rows, 1, vocabulary], equal to the whole graph's at each read position`, async () => {
      const full = path.join(FIXTURES, name, 'onnx', file);
      const bytes = cut(full);
      assert.ok(bytes, 'the head is cut');
      const out = await runCut(bytes, rows);
      const v = out.dims[2];
      assert.deepEqual(out.dims, [rows.length, 1, v]);
      const plain = await PlainModel.open(full);
      plains.push(plain);
      const data = out.data as Float32Array;
      for (let b = 0; b < rows.length; b++) {
        const want = (await plain.logits(rows[b].ids))[rows[b].read];
        let worst = 0;
        for (let i = 0; i < v; i++) worst = Math.max(worst, Math.abs(data[b * v + i] - want[i]));
        assert.ok(worst < 1e-4, `row ${b}: largest difference ${worst}`);
      }
    });
  }

  test('a classifier head (one output per row) is left alone', () => {
    for (const name of ['bert-cls-op14', 'distilbert-cls-op14']) {
      assert.equal(cut(path.join(FIXTURES, name, 'onnx', 'model.onnx')), undefined, name);
    }
  });
});
