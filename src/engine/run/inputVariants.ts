import type { RemovalStrategy } from '../../protocol/engineApi';

/** One model input row, before padding. */
export interface InputRow {
  ids: number[];
  typeIds: number[];
  /** 1 = attend, 0 = ignore. */
  attention: number[];
  /**
   * For each kept position of the original sequence, its index in this row (−1 when deleted), so
   * callers can find the row position of a token they read outputs at (the [MASK], the last token).
   */
  positionOf: number[];
  /** Where a target of several tokens is read in this row, one position per token (see targetReading). */
  readAt?: number[];
}

/** What perturbing needs to know about the original input. */
export interface BaseInput {
  ids: number[];
  typeIds: number[];
  /** True for tokens that must never be removed (CLS, SEP, BOS, EOS, the [MASK] being explained). */
  locked: boolean[];
  /** The id written over a removed token by the 'mask' strategy. */
  maskId?: number;
  /**
   * The one token a row keeps when every token was deleted (a decoder without special tokens would
   * otherwise get an empty input): the BOS/EOS token where the tokenizer has one.
   */
  emptyId?: number;
}

/**
 * Builds one input row from the original tokens and a per-token keep vector. Perturbs ids, never
 * strings: a removed word's sub-tokens are masked, dropped from the attention mask or deleted as
 * ids, so the kept tokens are exactly the original ones (re-tokenizing a masked string would turn
 * `##felt` after a `[MASK]` into a word-initial `felt` and change the sequence length).
 */
export function applyRemoval(base: BaseInput, keep: Uint8Array, removal: RemovalStrategy): InputRow {
  const n = base.ids.length;
  if (keep.length !== n) {
    throw new Error(`keep vector has ${keep.length} entries for ${n} tokens`);
  }
  const ids: number[] = [];
  const typeIds: number[] = [];
  const attention: number[] = [];
  const positionOf: number[] = new Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    const kept = keep[i] !== 0 || base.locked[i];
    if (kept) {
      positionOf[i] = ids.length;
      ids.push(base.ids[i]);
      typeIds.push(base.typeIds[i]);
      attention.push(1);
      continue;
    }
    switch (removal) {
      case 'mask':
        if (base.maskId === undefined) {
          throw new Error('this tokenizer has no mask token; use the "attention" or "delete" removal strategy');
        }
        positionOf[i] = ids.length;
        ids.push(base.maskId);
        typeIds.push(base.typeIds[i]);
        attention.push(1);
        break;
      case 'attention':
        positionOf[i] = ids.length;
        ids.push(base.ids[i]);
        typeIds.push(base.typeIds[i]);
        attention.push(0);
        break;
      case 'delete':
        break;
    }
  }
  if (ids.length === 0) {
    ids.push(base.emptyId ?? 0);
    typeIds.push(0);
    attention.push(1);
  }
  return { ids, typeIds, attention, positionOf };
}

/** The input as the model reads it unperturbed: every token kept. */
export function unperturbedRow(base: BaseInput): InputRow {
  return applyRemoval(base, new Uint8Array(base.ids.length).fill(1), 'mask');
}

/** The first `length` tokens of an input (a causal LM read at an earlier position never sees the rest). */
export function truncateBase(base: BaseInput, length: number): BaseInput {
  if (length >= base.ids.length) return base;
  return { ...base, ids: base.ids.slice(0, length), typeIds: base.typeIds.slice(0, length), locked: base.locked.slice(0, length) };
}

/** Something removable from the input (a word or a token): the original tokens it stands for. */
export interface TokenGroup {
  tokenIndices: readonly number[];
}

/**
 * The input row for one coalition of features (coalition[j] = 1 keeps feature j, 0 removes it): every token of
 * a removed feature goes by the removal strategy. coalitionKeep is the one place where a coalition becomes a
 * per-token keep vector, for explanations (through their target reading), robustness, dataset runs and
 * benchmarks alike.
 */
export function coalitionRow(base: BaseInput, features: readonly TokenGroup[], coalition: ArrayLike<number>, removal: RemovalStrategy): InputRow {
  return applyRemoval(base, coalitionKeep(base.ids.length, features, coalition), removal);
}

/** The per-token keep vector of a coalition of features over an input of `tokenCount` tokens (1 = kept). */
export function coalitionKeep(tokenCount: number, features: readonly TokenGroup[], coalition: ArrayLike<number>): Uint8Array {
  if (coalition.length !== features.length) {
    throw new Error(`coalition has ${coalition.length} entries for ${features.length} features`);
  }
  const keep = new Uint8Array(tokenCount).fill(1);
  features.forEach((feature, j) => {
    if (coalition[j] === 0) for (const t of feature.tokenIndices) keep[t] = 0;
  });
  return keep;
}

/** A key that is equal for rows the model would see identically (so each runs once). */
export function rowKey(row: InputRow): string {
  return `${row.ids.join(',')}|${row.typeIds.join(',')}|${row.attention.join('')}`;
}
