import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TensorData } from '../../../src/engine/model/modelSession';
import type { RefTensor, Reference } from '../../support/fixtureModels';

export type { RefTensor, Reference };

/** Repository root, from the compiled test's location (out/test/unit/model). */
export const ROOT = path.resolve(__dirname, '../../../..');
export const MODELS = path.join(ROOT, 'test/fixtures/models');
export const GRAPHS = path.join(ROOT, 'test/fixtures/graphs');

/** Path of a fixture folder, or undefined (with a loud message) while it has not been generated. */
export function fixture(name: string): string | undefined {
  const dir = path.join(MODELS, name);
  if (!fs.existsSync(path.join(dir, 'reference.json'))) {
    console.warn(`SKIPPED: fixture ${name} is missing; run npm run fixtures.`);
    return undefined;
  }
  return dir;
}

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

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

export function readBytes(file: string): Uint8Array {
  const b = fs.readFileSync(file);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

const created: string[] = [];
process.on('exit', () => {
  for (const dir of created) fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary directory, removed when the test process exits. */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `onnx-lens-${prefix}-`));
  created.push(dir);
  return dir;
}
