import type { Candidate, Task } from '../../protocol/engineApi';
import type { BatchOutputs, RowExtractor } from './batchedEvaluator';
import type { InputRow } from './inputVariants';

/**
 * Where in a row the model's prediction is read: the classifier has one output per row; masked
 * and causal LMs and seq2seq decoders have one per position.
 */
export interface ReadSpec {
  task: Task;
  /** Masked LM: the index (in the original tokens) of the [MASK] being read. */
  maskTokenIndex?: number;
  /** Seq2seq: the decoder position being read (teacher forced). */
  decoderPosition?: number;
}

/** The row position whose logits hold the prediction. */
export function readPosition(spec: ReadSpec, row: InputRow): number {
  switch (spec.task) {
    case 'masked-lm': {
      const p = row.positionOf[spec.maskTokenIndex ?? -1];
      if (p === undefined || p < 0) throw new Error('the [MASK] being explained was removed from the input');
      return p;
    }
    case 'causal-lm': {
      // The next token follows the last token the model attends to.
      for (let i = row.attention.length - 1; i >= 0; i--) if (row.attention[i] === 1) return i;
      return 0;
    }
    case 'seq2seq':
      return spec.decoderPosition ?? 0;
    default:
      return 0;
  }
}

/**
 * Where a masked or causal LM's logits are read, for the evaluator to pass on (the runner then computes the
 * output head there only). Classifiers have one output per row anyway; a seq2seq decoder's positions are few.
 */
export function readsOnePosition(spec: ReadSpec): ((row: InputRow) => number) | undefined {
  return spec.task === 'masked-lm' || spec.task === 'causal-lm' ? (row) => readPosition(spec, row) : undefined;
}

/** The logits vector for one row (a view, not a copy). */
export function rowLogits(outputs: BatchOutputs, rowInBatch: number, spec: ReadSpec, row: InputRow): Float32Array {
  const logits = outputs.logits;
  if (!logits) throw new Error('the model returned no "logits" output');
  const dims = logits.dims;
  if (dims.length === 2) {
    const c = dims[1];
    return logits.data.subarray(rowInBatch * c, rowInBatch * c + c);
  }
  if (dims.length === 3) {
    const [, s, v] = dims;
    // One position per row: either the row has one token, or the runner computed the head at the read position only.
    const p = s === 1 ? 0 : readPosition(spec, row);
    const o = (rowInBatch * s + p) * v;
    return logits.data.subarray(o, o + v);
  }
  throw new Error(`unexpected logits shape [${dims.join(', ')}]`);
}

/** Reads target − contrast logits (or just the target) for each row, as one number. */
export function scalarExtractor(spec: ReadSpec, targetId: number, contrastId?: number): RowExtractor<number> {
  return {
    key: `${spec.task}:${spec.maskTokenIndex ?? ''}:${spec.decoderPosition ?? ''}:${targetId}:${contrastId ?? ''}`,
    readPosition: readsOnePosition(spec),
    extract(outputs, b, row) {
      const l = rowLogits(outputs, b, spec, row);
      return contrastId === undefined ? l[targetId] : l[targetId] - l[contrastId];
    },
  };
}

/** Copies the whole logits vector of each row (small outputs only: classifiers). */
export function logitsExtractor(spec: ReadSpec): RowExtractor<Float32Array> {
  return {
    key: `logits:${spec.task}:${spec.maskTokenIndex ?? ''}:${spec.decoderPosition ?? ''}`,
    readPosition: readsOnePosition(spec),
    extract: (outputs, b, row) => Float32Array.from(rowLogits(outputs, b, spec, row)),
  };
}

/** Numerically stable softmax. */
export function softmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  const out = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    out[i] = Math.exp(logits[i] - max);
    sum += out[i];
  }
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

/** The k most probable entries, labelled. */
export function topCandidates(logits: ArrayLike<number>, k: number, label: (id: number) => string): Candidate[] {
  const p = softmax(logits);
  const order = Array.from(p.keys()).sort((a, b) => p[b] - p[a]).slice(0, Math.max(1, k));
  return order.map((id) => ({ id, label: label(id), probability: p[id], logit: logits[id] }));
}
