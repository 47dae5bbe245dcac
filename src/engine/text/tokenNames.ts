import type { Tokenizer } from './tokenizer';

/**
 * Names of vocabulary tokens that a person can read and type back: every name shown is accepted as a
 * target and means exactly that token.
 */
export interface TokenNames {
  /**
   * The token as shown: WordPiece pieces as they are (`##ing` keeps its marker, so it is not the word
   * `ing`); byte-level and SentencePiece tokens with their leading space as a space (`Ġg`, `▁g` → ` g`).
   * Where two tokens would look the same (a byte token `<0x41>` and the letter `A`), the raw piece names
   * one of them, and `id:N` any that is still ambiguous.
   */
  name(id: number): string;
  /** The token a name stands for: a name as shown, a raw vocabulary piece (`▁g`, `Ġg`, `##ing`) or `id:N`. */
  lookup(name: string): number | undefined;
}

const ID_NAME = /^id:(\d+)$/;

class VocabularyNames implements TokenNames {
  /** Shown form → its token, or -1 when several tokens look the same. */
  private readonly owner = new Map<string, number>();

  constructor(private readonly tokenizer: Tokenizer) {
    for (let id = 0; id < tokenizer.vocabSize; id++) {
      if (tokenizer.idToPiece(id) === undefined) continue;
      const shown = this.shown(id);
      this.owner.set(shown, this.owner.has(shown) ? -1 : id);
    }
  }

  private shown(id: number): string {
    return this.tokenizer.kind === 'wordpiece' ? (this.tokenizer.idToPiece(id) ?? '') : this.tokenizer.displayToken(id);
  }

  name(id: number): string {
    // The first form that reads back as this very token: so a name shown is always a name accepted.
    for (const candidate of [this.shown(id), this.tokenizer.idToPiece(id)]) {
      if (candidate !== undefined && this.lookup(candidate) === id) return candidate;
    }
    return `id:${id}`;
  }

  lookup(name: string): number | undefined {
    const byId = ID_NAME.exec(name);
    if (byId) {
      const id = Number(byId[1]);
      return Number.isSafeInteger(id) && this.tokenizer.idToPiece(id) !== undefined ? id : undefined;
    }
    const owner = this.owner.get(name);
    if (owner !== undefined && owner >= 0) return owner;
    return this.tokenizer.tokenToId(name);
  }
}

const cache = new WeakMap<Tokenizer, TokenNames>();

/** The names of a tokenizer's vocabulary (built once per tokenizer: one pass over the vocabulary). */
export function tokenNames(tokenizer: Tokenizer): TokenNames {
  let names = cache.get(tokenizer);
  if (!names) {
    names = new VocabularyNames(tokenizer);
    cache.set(tokenizer, names);
  }
  return names;
}
