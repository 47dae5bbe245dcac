import { ModelToken, readVocabObject, TokenizerModel } from './tokenizerModel';
import { missingUnknownToken, TokenizerError } from './tokenizerError';
import { codePointCount } from './unicodeClasses';

type Json = Record<string, any>;

/** BERT's WordPiece: greedy longest match from the left, continuation pieces prefixed with `##`. */
export class WordPieceModel implements TokenizerModel {
  private readonly toId: Map<string, number>;
  private readonly toPiece: string[];
  private readonly prefix: string;
  private readonly maxChars: number;
  readonly unkId: number | undefined;

  constructor(config: Json) {
    if (!config.vocab || typeof config.vocab !== 'object' || Array.isArray(config.vocab)) {
      throw new TokenizerError('The WordPiece model in tokenizer.json has no vocabulary object.', 'malformed');
    }
    ({ toId: this.toId, toPiece: this.toPiece } = readVocabObject(config.vocab));
    this.prefix = config.continuing_subword_prefix ?? '##';
    this.maxChars = config.max_input_chars_per_word ?? 100;
    const unk = config.unk_token ?? '[UNK]';
    this.unkId = this.toId.get(unk);
    if (this.unkId === undefined) throw missingUnknownToken('WordPiece', unk);
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
    const unk = (): ModelToken[] => (this.unkId === undefined ? [] : [{ id: this.unkId, start: 0, end: word.length }]);
    if (codePointCount(word) > this.maxChars) return unk();
    const out: ModelToken[] = [];
    let start = 0;
    while (start < word.length) {
      let end = word.length;
      let found: number | undefined;
      while (start < end) {
        const sub = start > 0 ? this.prefix + word.slice(start, end) : word.slice(start, end);
        found = this.toId.get(sub);
        if (found !== undefined) break;
        end--;
        // never end between the two halves of a surrogate pair
        const c = word.charCodeAt(end);
        if (end > start && c >= 0xdc00 && c <= 0xdfff) {
          const p = word.charCodeAt(end - 1);
          if (p >= 0xd800 && p <= 0xdbff) end--;
        }
      }
      if (found === undefined) return unk();
      out.push({ id: found, start, end });
      start = end;
    }
    return out;
  }
}
