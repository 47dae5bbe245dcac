/**
 * Returns a copy of a `tokenizer.json` whose vocabulary keeps only ids below `keepFirst`, for small test
 * models built on a real tokenizer. WordPiece and BPE vocabularies keep their ids; BPE merges survive only
 * when both parts and the merged piece are kept; Unigram keeps the first entries; added tokens with
 * dropped ids are removed.
 */
export function trimTokenizer(json: any, keepFirst: number): any {
  const copy = JSON.parse(JSON.stringify(json));
  const model = copy.model ?? {};
  if (Array.isArray(model.vocab)) {
    model.vocab = model.vocab.slice(0, keepFirst);
  } else if (model.vocab && typeof model.vocab === 'object') {
    const kept: Record<string, number> = {};
    for (const [piece, id] of Object.entries(model.vocab as Record<string, number>)) if (id < keepFirst) kept[piece] = id;
    model.vocab = kept;
    if (Array.isArray(model.merges)) {
      const prefix: string = model.continuing_subword_prefix ?? '';
      model.merges = model.merges.filter((m: string | [string, string]) => {
        const [a, b] = typeof m === 'string' ? m.split(' ') : m;
        const merged = a + (prefix && b.startsWith(prefix) ? b.slice(prefix.length) : b);
        return a in kept && b in kept && merged in kept;
      });
    }
  }
  if (Array.isArray(copy.added_tokens)) copy.added_tokens = copy.added_tokens.filter((t: { id: number }) => t.id < keepFirst);
  return copy;
}
