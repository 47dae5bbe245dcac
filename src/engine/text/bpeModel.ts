import { ModelToken, readVocabObject, TokenizerModel } from './tokenizerModel';
import { missingUnknownToken, TokenizerError } from './tokenizerError';
import { codePointLength, utf8Bytes } from './unicodeClasses';

type Json = Record<string, any>;

const CACHE_LIMIT = 10_000;

/**
 * Byte-pair encoding as Hugging Face's `BPE` model: start from characters (or `<0xNN>` byte tokens
 * with byte fallback), then repeatedly apply the lowest-ranked merge, found with a priority queue so a
 * long word costs O(n log n) rather than O(n²).
 */
export class BpeModel implements TokenizerModel {
  private readonly toId: Map<string, number>;
  private readonly toPiece: string[];
  /** (left id × stride + right id) → rank and merged id. */
  private readonly merges = new Map<number, { rank: number; id: number }>();
  private readonly stride: number;
  private readonly prefix: string;
  private readonly suffix: string;
  private readonly fuseUnk: boolean;
  readonly byteFallback: boolean;
  private readonly ignoreMerges: boolean;
  private readonly byteIds: Array<number | undefined> = [];
  private readonly cache = new Map<string, ModelToken[]>();
  readonly unkId: number | undefined;

  constructor(config: Json) {
    if (!config.vocab || typeof config.vocab !== 'object' || Array.isArray(config.vocab)) {
      throw new TokenizerError('The BPE model in tokenizer.json has no vocabulary object.', 'malformed');
    }
    ({ toId: this.toId, toPiece: this.toPiece } = readVocabObject(config.vocab));
    this.stride = this.toPiece.length + 1;
    this.prefix = config.continuing_subword_prefix ?? '';
    this.suffix = config.end_of_word_suffix ?? '';
    this.fuseUnk = Boolean(config.fuse_unk);
    this.byteFallback = Boolean(config.byte_fallback);
    this.ignoreMerges = Boolean(config.ignore_merges);
    this.unkId = config.unk_token === null || config.unk_token === undefined ? undefined : this.toId.get(config.unk_token);
    if (config.unk_token !== null && config.unk_token !== undefined && this.unkId === undefined) throw missingUnknownToken('BPE', String(config.unk_token));
    for (let b = 0; b < 256; b++) this.byteIds[b] = this.toId.get(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);

    const merges: unknown[] = Array.isArray(config.merges) ? config.merges : [];
    const prefixLength = this.prefix.length;
    merges.forEach((m, rank) => {
      let a: string;
      let b: string;
      if (Array.isArray(m) && m.length === 2) [a, b] = m as [string, string];
      else if (typeof m === 'string') {
        const parts = m.split(' ');
        if (parts.length !== 2) throw new TokenizerError(`Merge ${rank} in tokenizer.json ("${m}") is not two pieces.`, 'malformed');
        [a, b] = parts;
      } else throw new TokenizerError(`Merge ${rank} in tokenizer.json is neither "a b" nor ["a", "b"].`, 'malformed');
      const left = this.toId.get(a);
      const right = this.toId.get(b);
      const merged = this.toId.get(a + (prefixLength > 0 && b.startsWith(this.prefix) ? b.slice(prefixLength) : b));
      if (left === undefined || right === undefined || merged === undefined) {
        throw new TokenizerError(`Merge ${rank} in tokenizer.json ("${a} ${b}") uses a piece missing from the vocabulary.`, 'malformed');
      }
      const key = left * this.stride + right;
      if (!this.merges.has(key)) this.merges.set(key, { rank, id: merged });
    });
  }

  get size(): number {
    return this.toPiece.length;
  }

  tokenToId(piece: string): number | undefined {
    return this.toId.get(piece);
  }

  idToPiece(id: number): string | undefined {
    return this.toPiece[id];
  }

  tokenize(word: string): ModelToken[] {
    if (word.length === 0) return [];
    const cached = this.cache.get(word);
    if (cached) return cached;
    const result = this.tokenizeUncached(word);
    // Only short words repeat; a whole text without a pre-tokenizer (Llama) is not worth keeping.
    if (word.length <= 256) {
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(word, result);
    }
    return result;
  }

  private tokenizeUncached(word: string): ModelToken[] {
    if (this.ignoreMerges) {
      const whole = this.toId.get(word);
      if (whole !== undefined) return [{ id: whole, start: 0, end: word.length }];
    }
    // Initial symbols.
    const ids: number[] = [];
    const starts: number[] = [];
    const ends: number[] = [];
    let lastWasUnk = false;
    for (let i = 0; i < word.length; ) {
      const len = codePointLength(word, i);
      let s = word.slice(i, i + len);
      if (i > 0) s = this.prefix + s;
      if (i + len === word.length) s += this.suffix;
      const id = this.toId.get(s);
      if (id !== undefined) {
        ids.push(id);
        starts.push(i);
        ends.push(i + len);
        lastWasUnk = false;
      } else {
        const bytes = this.byteFallback ? utf8Bytes(word.slice(i, i + len)).map((b) => this.byteIds[b]) : [];
        if (bytes.length > 0 && bytes.every((b) => b !== undefined)) {
          for (const b of bytes) {
            ids.push(b as number);
            starts.push(i);
            ends.push(i + len);
          }
          lastWasUnk = false;
        } else if (this.unkId !== undefined) {
          if (this.fuseUnk && lastWasUnk) ends[ends.length - 1] = i + len;
          else {
            ids.push(this.unkId);
            starts.push(i);
            ends.push(i + len);
          }
          lastWasUnk = true;
        }
      }
      i += len;
    }
    const n = ids.length;
    if (n <= 1) return ids.map((id, k) => ({ id, start: starts[k], end: ends[k] }));

    // Doubly linked symbols; `alive[k]` false once merged into its left neighbour.
    const prev = new Int32Array(n);
    const next = new Int32Array(n);
    const alive = new Uint8Array(n).fill(1);
    for (let k = 0; k < n; k++) {
      prev[k] = k - 1;
      next[k] = k + 1 < n ? k + 1 : -1;
    }
    const heap = new MergeHeap();
    const consider = (k: number): void => {
      const r = next[k];
      if (r < 0) return;
      const m = this.merges.get(ids[k] * this.stride + ids[r]);
      if (m) heap.push(m.rank, k, ids[k], ids[r]);
    };
    for (let k = 0; k < n - 1; k++) consider(k);
    while (heap.size > 0) {
      const { pos, left, right } = heap.pop();
      const r = next[pos];
      // Skip entries made stale by an earlier merge.
      if (!alive[pos] || r < 0 || ids[pos] !== left || ids[r] !== right) continue;
      const m = this.merges.get(left * this.stride + right);
      if (!m) continue;
      ids[pos] = m.id;
      ends[pos] = ends[r];
      alive[r] = 0;
      next[pos] = next[r];
      if (next[r] >= 0) prev[next[r]] = pos;
      if (prev[pos] >= 0) consider(prev[pos]);
      consider(pos);
    }
    const out: ModelToken[] = [];
    for (let k = 0; k >= 0; k = next[k]) out.push({ id: ids[k], start: starts[k], end: ends[k] });
    return out;
  }
}

/** Min-heap of candidate merges ordered by (rank, position), as in Hugging Face's `Word::merge_all`. */
class MergeHeap {
  private ranks: number[] = [];
  private positions: number[] = [];
  private lefts: number[] = [];
  private rights: number[] = [];

  get size(): number {
    return this.ranks.length;
  }

  private less(i: number, j: number): boolean {
    return this.ranks[i] < this.ranks[j] || (this.ranks[i] === this.ranks[j] && this.positions[i] < this.positions[j]);
  }

  private swap(i: number, j: number): void {
    for (const a of [this.ranks, this.positions, this.lefts, this.rights]) {
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }

  push(rank: number, pos: number, left: number, right: number): void {
    this.ranks.push(rank);
    this.positions.push(pos);
    this.lefts.push(left);
    this.rights.push(right);
    let i = this.ranks.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  pop(): { pos: number; left: number; right: number } {
    const top = { pos: this.positions[0], left: this.lefts[0], right: this.rights[0] };
    const last = this.ranks.length - 1;
    this.swap(0, last);
    this.ranks.pop();
    this.positions.pop();
    this.lefts.pop();
    this.rights.pop();
    let i = 0;
    const n = this.ranks.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.less(l, m)) m = l;
      if (r < n && this.less(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
    return top;
  }
}
