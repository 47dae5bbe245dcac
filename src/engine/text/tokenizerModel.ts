/** One token found by a model inside one pre-tokenized word, with its units in that word. */
export interface ModelToken {
  id: number;
  start: number;
  end: number;
}

/** A vocabulary model (WordPiece, BPE or Unigram) that turns one word into tokens. */
export interface TokenizerModel {
  tokenize(word: string): ModelToken[];
  tokenToId(piece: string): number | undefined;
  idToPiece(id: number): string | undefined;
  /** Number of ids (highest id + 1) in the model's own vocabulary. */
  readonly size: number;
  readonly unkId: number | undefined;
}

/** Reads a `{piece: id}` vocabulary into lookup tables both ways. */
export function readVocabObject(vocab: Record<string, number>): { toId: Map<string, number>; toPiece: string[] } {
  const toId = new Map<string, number>();
  const toPiece: string[] = [];
  for (const piece of Object.keys(vocab)) {
    const id = vocab[piece];
    toId.set(piece, id);
    toPiece[id] = piece;
  }
  return { toId, toPiece };
}
