import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TensorData } from '../../../src/engine/model/modelSession';
import { REPO_ROOT, type RefTensor, type Reference } from '../../support/fixtureModels';

export const GRAPHS = path.join(REPO_ROOT, 'test', 'fixtures', 'graphs');

export function loadReference(dir: string): Reference {
  return JSON.parse(fs.readFileSync(path.join(dir, 'reference.json'), 'utf8')) as Reference;
}

/** Integer reference inputs as int64 tensors, float ones as float32. */
export function refTensor(t: RefTensor, float = false): TensorData {
  return {
    dims: t.shape,
    data: float ? Float32Array.from(t.data) : BigInt64Array.from(t.data.map((v) => BigInt(v))),
  };
}

export function readBytes(file: string): Uint8Array {
  const b = fs.readFileSync(file);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
