import { ModelToken, TokenizerModel } from './tokenizerModel';
import { missingUnknownToken, TokenizerError } from './tokenizerError';
import { codePointLength, utf8Bytes } from './unicodeClasses';

type Json = Record<string, any>;

/** Score penalty for unknown characters below the least likely piece (SentencePiece's kUnkPenalty). */
const UNK_PENALTY = 10;

/**
 * SentencePiece's Unigram model: the segmentation with the highest total log-probability (Viterbi over
 * all vocabulary pieces), an unknown token for characters no piece covers, consecutive unknowns fused.
 */
export class UnigramModel implements TokenizerModel {
  private readonly toId = new Map<string, number>();
  private readonly pieces: string[] = [];
  private readonly scores: Float64Array;
  private readonly maxPieceLength: number;
  private readonly unkScore: number;
  private readonly byteFallback: boolean;
  private readonly byteIds: Array<number | undefined> = [];
  readonly unkId: number | undefined;

  constructor(config: Json) {
    if (!Array.isArray(config.vocab)) {
      throw new TokenizerError('The Unigram model in tokenizer.json has no [piece, score] vocabulary list.', 'malformed');
    }
    const vocab = config.vocab as Array<[string, number]>;
    this.scores = new Float64Array(vocab.length);
    let maxLen = 1;
    let minScore = Infinity;
    vocab.forEach((entry, id) => {
      if (!Array.isArray(entry) || typeof entry[0] !== 'string' || typeof entry[1] !== 'number') {
        throw new TokenizerError(`Unigram vocabulary entry ${id} in tokenizer.json is not [piece, score].`, 'malformed');
      }
      const [piece, score] = entry;
      this.pieces.push(piece);
      if (!this.toId.has(piece)) this.toId.set(piece, id);
      this.scores[id] = score;
      if (piece.length > maxLen) maxLen = piece.length;
      if (score < minScore) minScore = score;
    });
    this.maxPieceLength = maxLen;
    this.unkScore = (Number.isFinite(minScore) ? minScore : 0) - UNK_PENALTY;
    this.unkId = typeof config.unk_id === 'number' ? config.unk_id : undefined;
    if (this.unkId !== undefined && !(Number.isInteger(this.unkId) && this.unkId >= 0 && this.unkId < this.pieces.length)) {
      throw missingUnknownToken('Unigram', `id ${this.unkId}`);
    }
    this.byteFallback = Boolean(config.byte_fallback);
    for (let b = 0; b < 256; b++) this.byteIds[b] = this.toId.get(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
  }

  get size(): number {
    return this.pieces.length;
  }

  tokenToId(piece: string): number | undefined {
    return this.toId.get(piece);
  }

  idToPiece(id: number): string | undefined {
    return this.pieces[id];
  }

  tokenize(word: string): ModelToken[] {
    const n = word.length;
    if (n === 0) return [];
    const best = new Float64Array(n + 1).fill(-Infinity);
    const from = new Int32Array(n + 1).fill(-1);
    const via = new Int32Array(n + 1).fill(-1); // piece id, or -1 for unknown
    best[0] = 0;
    for (let pos = 0; pos < n; ) {
      const step = codePointLength(word, pos);
      if (best[pos] > -Infinity) {
        let hasSingle = false;
        const limit = Math.min(n, pos + this.maxPieceLength);
        for (let end = pos + 1; end <= limit; end++) {
          // skip ends that fall inside a surrogate pair
          const c = word.charCodeAt(end - 1);
          if (c >= 0xd800 && c <= 0xdbff && end < n && codePointLength(word, end - 1) === 2) continue;
          const id = this.toId.get(word.slice(pos, end));
          if (id === undefined) continue;
          if (end === pos + step) hasSingle = true;
          const score = best[pos] + this.scores[id];
          if (score > best[end]) {
            best[end] = score;
            from[end] = pos;
            via[end] = id;
          }
        }
        if (!hasSingle) {
          const end = pos + step;
          const score = best[pos] + this.unkScore;
          if (score > best[end]) {
            best[end] = score;
            from[end] = pos;
            via[end] = -1;
          }
        }
      }
      pos += step;
    }
    const path: Array<{ id: number; start: number; end: number }> = [];
    for (let end = n; end > 0; end = from[end]) path.push({ id: via[end], start: from[end], end });
    path.reverse();

    const out: ModelToken[] = [];
    for (const t of path) {
      if (t.id >= 0) {
        out.push(t);
        continue;
      }
      const last = out[out.length - 1];
      if (last && last.id === -1 && last.end === t.start) last.end = t.end; // fuse consecutive unknowns
      else out.push({ ...t });
    }
    const result: ModelToken[] = [];
    for (const t of out) {
      if (t.id >= 0) result.push(t);
      else if (this.byteFallback) {
        const span = word.slice(t.start, t.end);
        const bytes: Array<{ id: number | undefined; start: number; end: number }> = [];
        for (let i = 0; i < span.length; ) {
          const len = codePointLength(span, i);
          for (const b of utf8Bytes(span.slice(i, i + len))) bytes.push({ id: this.byteIds[b], start: t.start + i, end: t.start + i + len });
          i += len;
        }
        if (bytes.every((b) => b.id !== undefined)) result.push(...(bytes as ModelToken[]));
        else if (this.unkId !== undefined) result.push({ id: this.unkId, start: t.start, end: t.end });
      } else if (this.unkId !== undefined) result.push({ id: this.unkId, start: t.start, end: t.end });
    }
    return result;
  }
}
