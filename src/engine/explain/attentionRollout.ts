/**
 * One layer's attention for one input: either already averaged over heads ([S,S], rows = queries) or per head
 * ([H,S,S] with `heads` = H; a leading batch dimension of 1 is fine since the data is read flat).
 */
export interface AttentionLayer {
  data: ArrayLike<number>;
  /** Sequence length S. */
  size: number;
  /** Number of heads H when data is per head; omitted or 1 when it is already averaged. */
  heads?: number;
}

export interface RolloutOptions {
  /** First layer folded into the product (default 0: from the input tokens). */
  fromLayer?: number;
  /** Last layer folded in (default: the last layer given). */
  toLayer?: number;
  /** Weight of the residual connection in Ã = (1−r)·A + r·I (default 0.5, as Abnar & Zuidema). */
  residualWeight?: number;
}

export interface RolloutResult {
  /** Row-major [S,S]: entry [i,j] is the share of position i's representation after `toLayer` that comes from token j before `fromLayer`. */
  matrix: Float64Array;
  /** The output position's row: one share per input token, summing to 1. */
  row: Float64Array;
  size: number;
}

/**
 * Averages a layer over its heads and adds the residual connection: Ã = (1−r)·mean_h A_h + r·I, each row
 * renormalised to sum to 1 (rows of padded or masked attention may not sum to 1 on their own).
 */
export function residualAttention(layer: AttentionLayer, residualWeight = 0.5): Float64Array {
  const s = layer.size;
  if (!Number.isInteger(s) || s < 1) throw new Error(`attention size must be a positive integer, got ${s}`);
  const cells = s * s;
  const heads = layer.heads && layer.heads > 1 ? layer.heads : 1;
  const data = layer.data;
  if (data.length !== heads * cells) {
    throw new Error(`attention has ${data.length} values; expected ${heads} head(s) × ${s} × ${s} = ${heads * cells}`);
  }
  if (!(residualWeight >= 0 && residualWeight <= 1)) throw new Error(`residual weight must be in [0, 1], got ${residualWeight}`);
  const out = new Float64Array(cells);
  for (let h = 0; h < heads; h++) {
    const offset = h * cells;
    for (let c = 0; c < cells; c++) out[c] += data[offset + c];
  }
  for (let i = 0; i < s; i++) {
    let rowSum = 0;
    for (let j = 0; j < s; j++) {
      const v = ((1 - residualWeight) * out[i * s + j]) / heads + (i === j ? residualWeight : 0);
      if (!Number.isFinite(v) || v < 0) throw new Error(`attention weights must be finite and non-negative (row ${i}, column ${j})`);
      out[i * s + j] = v;
      rowSum += v;
    }
    if (rowSum > 0) for (let j = 0; j < s; j++) out[i * s + j] /= rowSum;
    else out[i * s + i] = 1; // a fully masked row keeps its own token
  }
  return out;
}

/**
 * Attention rollout (Abnar & Zuidema 2020): R = Ã_to · … · Ã_from, the later layer on the left, so that
 * R[i,j] is how much of position i after layer `to` traces back through attention to token j. Returns the
 * matrix and the row for `outputPosition`. O(L·S³).
 */
export function attentionRollout(layers: AttentionLayer[], outputPosition: number, options: RolloutOptions = {}): RolloutResult {
  const { from, to, size } = layerRange(layers, options.fromLayer, options.toLayer);
  checkPosition(outputPosition, size);
  let matrix = residualAttention(layers[from], options.residualWeight);
  for (let l = from + 1; l <= to; l++) matrix = multiply(residualAttention(layers[l], options.residualWeight), matrix, size);
  const row = matrix.slice(outputPosition * size, (outputPosition + 1) * size);
  return { matrix, row, size };
}

/** Validates a layer range over layers of equal size; defaults to all of them. */
export function layerRange(layers: AttentionLayer[], fromLayer?: number, toLayer?: number): { from: number; to: number; size: number } {
  if (layers.length === 0) throw new Error('no attention layers were given');
  const from = fromLayer ?? 0;
  const to = toLayer ?? layers.length - 1;
  if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to >= layers.length || from > to) {
    throw new Error(`layer range ${from}–${to} is not within layers 0–${layers.length - 1}`);
  }
  const size = layers[from].size;
  for (let l = from; l <= to; l++) {
    if (layers[l].size !== size) throw new Error(`layer ${l} has sequence length ${layers[l].size}, layer ${from} has ${size}`);
  }
  return { from, to, size };
}

/** Throws unless the position is a token index of a sequence of this size. */
export function checkPosition(position: number, size: number): void {
  if (!Number.isInteger(position) || position < 0 || position >= size) {
    throw new Error(`output position ${position} is outside the sequence (0–${size - 1})`);
  }
}

function multiply(a: Float64Array, b: Float64Array, s: number): Float64Array {
  const out = new Float64Array(s * s);
  for (let i = 0; i < s; i++) {
    for (let k = 0; k < s; k++) {
      const aik = a[i * s + k];
      if (aik === 0) continue;
      for (let j = 0; j < s; j++) out[i * s + j] += aik * b[k * s + j];
    }
  }
  return out;
}
