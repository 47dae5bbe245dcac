import type { Encoding, Tokenizer } from './tokenizer';

/** Characters tokenized first; a model reads at most a few thousand tokens, far fewer than this covers. */
const FIRST_PREFIX = 20_000;
/** The longest prefix ever tokenized: past it, a text is refused (it would stall the engine). */
export const MAX_TOKENIZED_CHARS = 1_280_000;

/** The end of `text`'s first `chars` characters, moved back so it does not split a surrogate pair. */
function cutAt(text: string, chars: number): number {
  if (chars >= text.length) return text.length;
  const c = text.charCodeAt(chars - 1);
  return c >= 0xd800 && c <= 0xdbff ? chars - 1 : chars;
}

/**
 * Encodes a text of any length for a model that reads at most `maxTokens` tokens, without tokenizing
 * more of it than needed: a prefix is tokenized, growing four-fold until the model's limit is reached
 * with whitespace between the last kept token and the cut (so the kept tokens are exactly those of the
 * whole text) or the whole text fits. When the text was cut before tokenizing, `truncation.droppedChars`
 * is exact and `truncation.droppedTokens` counts only the tokens of the prefix (`droppedTokensAtLeast`).
 * Returns undefined when not even MAX_TOKENIZED_CHARS characters decide it (one word longer than that).
 */
export function encodeLongText(tokenizer: Tokenizer, text: string, maxTokens: number): Encoding | undefined {
  for (let prefix = FIRST_PREFIX; ; prefix = Math.min(prefix * 4, MAX_TOKENIZED_CHARS)) {
    const cut = cutAt(text, prefix);
    if (cut >= text.length) return tokenizer.encode(text, { maxLength: maxTokens });
    const encoding = tokenizer.encode(text.slice(0, cut), { maxLength: maxTokens });
    const tr = encoding.truncation;
    if (tr && /\s/u.test(text.slice(tr.keptChars, cut))) {
      encoding.truncation = { ...tr, droppedChars: text.length - tr.keptChars, droppedTokensAtLeast: true };
      return encoding;
    }
    if (prefix >= MAX_TOKENIZED_CHARS) return undefined;
  }
}
