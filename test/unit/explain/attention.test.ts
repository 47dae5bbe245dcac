import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { attentionFlow } from '../../../src/engine/explain/attentionFlow';
import { attentionRollout, type AttentionLayer } from '../../../src/engine/explain/attentionRollout';
import { SeededRandom } from '../../../src/engine/explain/random';

/** Random softmax attention, per head: [H,S,S], rows = queries. */
function randomAttention(heads: number, s: number, rng: SeededRandom): Float32Array {
  const out = new Float32Array(heads * s * s);
  for (let r = 0; r < heads * s; r++) {
    let total = 0;
    for (let j = 0; j < s; j++) {
      const v = Math.exp(3 * rng.nextFloat());
      out[r * s + j] = v;
      total += v;
    }
    for (let j = 0; j < s; j++) out[r * s + j] /= total;
  }
  return out;
}

describe('attention rollout', () => {
  const rng = new SeededRandom(1);
  const layers: AttentionLayer[] = Array.from({ length: 4 }, () => ({ data: randomAttention(3, 7, rng), heads: 3, size: 7 }));
  test('every row of the rollout sums to 1', () => {
    const { matrix } = attentionRollout(layers, 0);
    for (let i = 0; i < 7; i++) {
      const s = matrix.slice(i * 7, i * 7 + 7).reduce((a, x) => a + x, 0);
      assert.ok(Math.abs(s - 1) < 1e-12, `row ${i}: ${s}`);
    }
  });
  test('per-head input equals the same attention averaged beforehand', () => {
    const averaged = layers.map((l) => {
      const data = new Float64Array(49);
      for (let h = 0; h < 3; h++) for (let c = 0; c < 49; c++) data[c] += (l.data[h * 49 + c] as number) / 3;
      return { data, size: 7 };
    });
    const a = attentionRollout(layers, 2).row;
    const b = attentionRollout(averaged, 2).row;
    a.forEach((x, j) => assert.ok(Math.abs(x - b[j]) < 1e-7));
  });
  test('two layers by hand: row 0 of Ã1·Ã0', () => {
    // Ã0 = ½A0 + ½I = [[.5,.5,0],[.5,.5,0],[0,.5,.5]], Ã1 row 0 = ½[0,.2,.8] + ½[1,0,0] = [.5,.1,.4]
    // → row 0 = .5·Ã0[0] + .1·Ã0[1] + .4·Ã0[2] = [.25+.05, .25+.05+.2, .2] = [.3, .5, .2].
    const { row } = attentionRollout(tinyLayers(), 0);
    [0.3, 0.5, 0.2].forEach((x, j) => assert.ok(Math.abs(row[j] - x) < 1e-12));
  });
  test('a later start layer skips the layers below it', () => {
    const { row } = attentionRollout(tinyLayers(), 0, { fromLayer: 1 });
    [0.5, 0.1, 0.4].forEach((x, j) => assert.ok(Math.abs(row[j] - x) < 1e-12));
  });
});

/** A0 and A1 of the hand-worked flow example (rows = queries). */
function tinyLayers(): AttentionLayer[] {
  return [
    { data: Float32Array.of(0, 1, 0, 1, 0, 0, 0, 1, 0), size: 3 },
    { data: Float64Array.of(0, 0.2, 0.8, 1, 0, 0, 1, 0, 0), size: 3 },
  ];
}

describe('attention flow', () => {
  test('two layers, three tokens: equals the max-flow computed by hand', () => {
    // Residual-adjusted (½A + ½I): Ã0 = [[.5,.5,0],[.5,.5,0],[0,.5,.5]], Ã1 row 0 = [.5,.1,.4].
    // Edges bottom→middle (0,j)→(1,i) with capacity Ã0[i][j]:
    //   (0,0)→(1,0) .5, (0,0)→(1,1) .5; (0,1)→(1,0) .5, (0,1)→(1,1) .5, (0,1)→(1,2) .5; (0,2)→(1,2) .5.
    // Edges middle→output (1,j)→(2,0) with capacity Ã1[0][j]: .5, .1, .4.
    // From token 0: via (1,0) min(.5,.5) = .5, via (1,1) min(.5,.1) = .1 → 0.6.
    // From token 1: via (1,0) .5, (1,1) .1, (1,2) min(.5,.4) = .4 → 1.0 (cut: the three output edges).
    // From token 2: via (1,2) min(.5,.4) = .4 → 0.4.
    const { flow } = attentionFlow(tinyLayers(), 0);
    [0.6, 1.0, 0.4].forEach((x, j) => assert.ok(Math.abs(flow[j] - x) < 1e-12, `${j}: ${flow[j]}`));
  });
  test('one layer: the flow from each token is its residual-adjusted attention', () => {
    const rng = new SeededRandom(4);
    const layer = { data: randomAttention(2, 5, rng), heads: 2, size: 5 };
    const flow = attentionFlow([layer], 3).flow;
    const rollout = attentionRollout([layer], 3).row;
    flow.forEach((x, j) => assert.ok(Math.abs(x - rollout[j]) < 1e-12));
  });
  test('128 tokens × 12 layers finishes in seconds, and each flow is at most 1', () => {
    const rng = new SeededRandom(9);
    const layers = Array.from({ length: 12 }, () => ({ data: randomAttention(1, 128, rng), size: 128 }));
    const t0 = performance.now();
    const { flow } = attentionFlow(layers, 0);
    const ms = performance.now() - t0;
    console.log(`attention flow, 128 tokens × 12 layers: ${ms.toFixed(0)} ms`);
    assert.ok(ms < 10_000);
    for (const x of flow) assert.ok(x > 0 && x <= 1 + 1e-9);
  });
});
