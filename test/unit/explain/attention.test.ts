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
    const { flow, shares } = attentionFlow(tinyLayers(), 0);
    [0.6, 1.0, 0.4].forEach((x, j) => assert.ok(Math.abs(flow[j] - x) < 1e-12, `${j}: ${flow[j]}`));
    // The flows share paths, so they sum to 2; the shares divide by that sum.
    [0.3, 0.5, 0.2].forEach((x, j) => assert.ok(Math.abs(shares[j] - x) < 1e-12, `${j}: ${shares[j]}`));
  });
  test('random layered graphs: each flow equals the minimum cut found by enumerating every cut', () => {
    const rng = new SeededRandom(17);
    for (const [depth, s] of [[2, 4], [3, 3], [1, 5]]) {
      const layers = Array.from({ length: depth }, () => ({ data: randomAttention(2, s, rng), heads: 2, size: s }));
      const out = Math.floor(rng.nextFloat() * s);
      const { flow, shares } = attentionFlow(layers, out);
      for (let token = 0; token < s; token++) {
        const cut = minCutByEnumeration(layers, token, out);
        assert.ok(Math.abs(flow[token] - cut) < 1e-9, `depth ${depth}, ${s} tokens, token ${token}: flow ${flow[token]}, min cut ${cut}`);
      }
      assert.ok(Math.abs(shares.reduce((a, x) => a + x, 0) - 1) < 1e-12, 'shares sum to 1');
      // Through one layer the flows are the attention row; deeper, paths are shared and the flows add up past 1.
      if (depth > 1) assert.ok(flow.reduce((a, x) => a + x, 0) > 1 + 1e-6, 'the flows themselves do not');
    }
  });
  test('one layer: the flow from each token is its residual-adjusted attention', () => {
    const rng = new SeededRandom(4);
    const layer = { data: randomAttention(2, 5, rng), heads: 2, size: 5 };
    const flow = attentionFlow([layer], 3).flow;
    const rollout = attentionRollout([layer], 3).row;
    flow.forEach((x, j) => assert.ok(Math.abs(x - rollout[j]) < 1e-12));
  });
  test('128 tokens × 12 layers: each flow is at most 1 and the shares sum to 1', () => {
    const rng = new SeededRandom(9);
    const layers = Array.from({ length: 12 }, () => ({ data: randomAttention(1, 128, rng), size: 128 }));
    const { flow, shares } = attentionFlow(layers, 0);
    for (const x of flow) assert.ok(x > 0 && x <= 1 + 1e-9);
    assert.ok(Math.abs(shares.reduce((a, x) => a + x, 0) - 1) < 1e-9);
  });
});

/**
 * The max-flow from input token `source` to the output position as a minimum cut (max-flow = min-cut), found by
 * trying every set of the graph's other nodes on the source's side. The capacities are written out here: the
 * head-averaged attention with the residual connection, ½·mean_h A + ½·I, each row scaled to sum to 1.
 */
function minCutByEnumeration(layers: AttentionLayer[], source: number, output: number): number {
  const s = layers[0].size;
  const capacities = layers.map((l) => {
    const heads = l.heads ?? 1;
    const c = new Float64Array(s * s);
    for (let i = 0; i < s; i++) {
      let row = 0;
      for (let j = 0; j < s; j++) {
        let mean = 0;
        for (let h = 0; h < heads; h++) mean += (l.data[h * s * s + i * s + j] as number) / heads;
        c[i * s + j] = 0.5 * mean + (i === j ? 0.5 : 0);
        row += c[i * s + j];
      }
      for (let j = 0; j < s; j++) c[i * s + j] /= row;
    }
    return c;
  });
  const depth = layers.length;
  const nodes = (depth + 1) * s;
  const src = source;
  const sink = depth * s + output;
  const free = Array.from({ length: nodes }, (_, v) => v).filter((v) => v !== src && v !== sink);
  let best = Infinity;
  for (let m = 0; m < 1 << free.length; m++) {
    const side = new Uint8Array(nodes);
    side[src] = 1;
    free.forEach((v, b) => (side[v] = (m >> b) & 1));
    let cut = 0;
    for (let l = 0; l < depth; l++) {
      for (let i = 0; i < s; i++) for (let j = 0; j < s; j++) if (side[l * s + j] && !side[(l + 1) * s + i]) cut += capacities[l][i * s + j];
    }
    best = Math.min(best, cut);
  }
  return best;
}
