import type { RemovalStrategy, ResolvedTarget } from '../../protocol/engineApi';
import type { LoadedModel, PreparedInput } from '../model/loadedModel';
import { BadInputError } from '../process/engineErrors';
import type { BatchedEvaluator, BatchOutputs, RowExtractor } from './batchedEvaluator';
import { applyRemoval, InputRow, truncateBase } from './inputVariants';
import { readPosition, scalarExtractor } from './outputReaders';

/**
 * How an explanation reads its target from inputs with some words removed: which tokens may never be
 * removed, how a keep vector becomes a model row, and what one row's value is.
 */
export interface TargetReading {
  /** Token indices that are never removed and belong to no feature. */
  locked: Set<number>;
  /** The model row for a keep vector over the input's tokens (1 = kept). */
  row(keep: Uint8Array, removal: RemovalStrategy): InputRow;
  extractor: RowExtractor<number>;
  evaluator: BatchedEvaluator;
}

/** The logits of one position of one row of a [batch, sequence, vocabulary] output. */
function logitsAtPosition(outputs: BatchOutputs, rowInBatch: number, position: number): Float32Array {
  const logits = outputs.logits;
  if (!logits || logits.dims.length !== 3) throw new Error('a target of several tokens needs per-position logits');
  const [, s, v] = logits.dims;
  if (position < 0 || position >= s) throw new Error(`position ${position} is outside the output (${s} positions)`);
  const o = (rowInBatch * s + position) * v;
  return logits.data.subarray(o, o + v);
}

/** log softmax(logits)[id], in float64. */
function logProbability(logits: Float32Array, id: number): number {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  return logits[id] - max - Math.log(sum);
}

/** Reads Σ log p(token_j at position_j); the positions come from the row (`readAt`) or are fixed. */
function sequenceExtractor(key: string, ids: readonly number[], fixed?: readonly number[]): RowExtractor<number> {
  return {
    key: `several:${key}:${ids.join(',')}`,
    extract(outputs, b, row) {
      const at = fixed ?? row.readAt;
      if (!at || at.length !== ids.length) throw new Error('a row of a several-token target lacks its read positions');
      let total = 0;
      ids.forEach((id, j) => (total += logProbability(logitsAtPosition(outputs, b, at[j]), id)));
      return total;
    },
  };
}

/**
 * The reading of `target` on `input`. One token: its logit (or the difference to the contrast's), read where
 * the prediction is. Several tokens (a word): the sum of their log-probabilities, each read after the ones
 * before it — appended to the text for a causal LM, fed to the decoder for a text-to-text model, at
 * consecutive [MASK]s for a masked LM. A causal LM read at an earlier position sees only the tokens up to it.
 */
export function targetReading(model: LoadedModel, input: PreparedInput, target: ResolvedTarget): TargetReading {
  const n = input.encoding.ids.length;
  const locked = new Set<number>();
  const ids = target.tokenIds ?? [target.id];
  let length = n;
  if (target.kind === 'next-token' && target.position !== undefined) {
    // Causal attention: tokens after the read position cannot move the value; they are not features.
    length = target.position + 1;
    for (let i = length; i < n; i++) locked.add(i);
  }
  let masks: number[] = [];
  if (target.kind === 'masked-token' && target.position !== undefined) {
    masks = ids.map((_, j) => target.position! + j);
    const maskId = model.tokenizer.special.mask;
    if (masks.some((p) => p >= n || input.encoding.ids[p] !== maskId)) {
      throw new BadInputError(
        `The target "${target.label}" is ${ids.length} tokens, and a fill-mask model fills one token per [MASK]: write ${ids.length} [MASK]s in a row where it goes (from token ${target.position}).`,
      );
    }
    for (const p of masks) locked.add(p);
  }
  const base = truncateBase(input.baseInput(locked), length);
  const cut = (keep: Uint8Array) => (keep.length > length ? keep.subarray(0, length) : keep);
  const spec = input.readSpec(target);

  if (ids.length === 1) {
    return {
      locked,
      row: (keep, removal) => applyRemoval(base, cut(keep), removal),
      extractor: scalarExtractor(spec, target.id, target.contrastId),
      evaluator: model.evaluatorFor(input),
    };
  }
  const key = `${target.kind}:${target.position ?? ''}`;
  switch (target.kind) {
    case 'next-token':
      return {
        locked,
        row: (keep, removal) => {
          const row = applyRemoval(base, cut(keep), removal);
          // The first token is read where the prediction is; each next one after the token before it, appended.
          const readAt = [readPosition(spec, row)];
          for (let j = 0; j < ids.length - 1; j++) {
            readAt.push(row.ids.length);
            row.ids.push(ids[j]);
            row.typeIds.push(row.typeIds[row.typeIds.length - 1] ?? 0);
            row.attention.push(1);
          }
          row.readAt = readAt;
          return row;
        },
        extractor: sequenceExtractor(key, ids),
        evaluator: model.evaluatorFor(input),
      };
    case 'masked-token':
      return {
        locked,
        row: (keep, removal) => {
          const row = applyRemoval(base, cut(keep), removal);
          row.readAt = masks.map((p) => row.positionOf[p]);
          return row;
        },
        extractor: sequenceExtractor(key, ids),
        evaluator: model.evaluatorFor(input),
      };
    case 'output-token': {
      const k = target.position ?? 0;
      const start = input.decoderIds?.[0] ?? 0;
      const generated = input.generated ?? [];
      const decoderIds = [start, ...generated.slice(0, k), ...ids.slice(0, -1)];
      return {
        locked,
        row: (keep, removal) => applyRemoval(base, cut(keep), removal),
        extractor: sequenceExtractor(`${key}:${decoderIds.join(',')}`, ids, ids.map((_, j) => k + j)),
        evaluator: model.evaluatorFor({ ...input, decoderIds }),
      };
    }
    default:
      throw new BadInputError('A class is one output; a target of several tokens applies to token outputs only.');
  }
}
