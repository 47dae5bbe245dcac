/**
 * An independent reference for the engine's numbers: a plain onnxruntime session on the model file, one
 * unpadded row per run, and its own word removal. Nothing here goes through the
 * engine's evaluator, its batching and caching, its graph rewrites or its input filling, so tests can hold
 * the engine to it.
 */
import * as ort from 'onnxruntime-node';

export class PlainModel {
  private constructor(private readonly session: ort.InferenceSession) {}

  static async open(file: string): Promise<PlainModel> {
    return new PlainModel(await ort.InferenceSession.create(file, { executionProviders: ['cpu'], intraOpNumThreads: 1 }));
  }

  /** The logits of one row of token ids: [positions][classes or vocabulary] (a classifier has one position). */
  async logits(ids: readonly number[]): Promise<Float32Array[]> {
    const n = ids.length;
    const feeds: Record<string, ort.Tensor> = {};
    for (const name of this.session.inputNames) {
      if (name === 'input_ids') feeds[name] = new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, n]);
      else if (name === 'attention_mask') feeds[name] = new ort.Tensor('int64', new BigInt64Array(n).fill(1n), [1, n]);
      else if (name === 'token_type_ids') feeds[name] = new ort.Tensor('int64', new BigInt64Array(n), [1, n]);
      else if (name === 'position_ids') feeds[name] = new ort.Tensor('int64', BigInt64Array.from({ length: n }, (_, i) => BigInt(i)), [1, n]);
      else throw new Error(`the plain reference does not know how to fill input ${name}`);
    }
    const out = (await this.session.run(feeds)).logits;
    const data = out.data as Float32Array;
    const width = out.dims[out.dims.length - 1];
    const rows = out.dims.length === 3 ? out.dims[1] : 1;
    return Array.from({ length: rows }, (_, p) => Float32Array.from(data.subarray(p * width, (p + 1) * width)));
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** What a removed word becomes: [MASK] tokens in its place, or nothing. */
export type PlainRemoval = { kind: 'mask'; maskId: number } | { kind: 'delete'; emptyId: number };

/**
 * The token ids with the words not in `present` removed, and where the original token `watch` ended up
 * (−1 when removed). `words[j]` lists the token indices of word j; tokens of no word are always kept.
 */
export function removeWords(
  ids: readonly number[],
  words: readonly (readonly number[])[],
  present: (j: number) => boolean,
  removal: PlainRemoval,
  watch = -1,
): { ids: number[]; watched: number } {
  const removed = new Set<number>();
  words.forEach((tokens, j) => {
    if (!present(j)) for (const t of tokens) removed.add(t);
  });
  const out: number[] = [];
  let watched = -1;
  ids.forEach((id, t) => {
    if (t === watch) watched = out.length;
    if (!removed.has(t)) out.push(id);
    else if (removal.kind === 'mask') out.push(removal.maskId);
    else if (t === watch) watched = -1;
  });
  // A decoder with every word deleted still reads one token: the tokenizer's begin/end-of-text token (id 0
  // when the tokenizer names none).
  if (out.length === 0 && removal.kind === 'delete') out.push(removal.emptyId);
  return { ids: out, watched };
}

/** Evaluates `f` on all 2^n masks (bit j = word j present), one at a time. */
export async function valueTable(n: number, f: (mask: number) => Promise<number>): Promise<Float64Array> {
  const table = new Float64Array(1 << n);
  for (let m = 0; m < 1 << n; m++) table[m] = await f(m);
  return table;
}
