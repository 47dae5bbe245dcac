/**
 * Token and label text as people can read it: a token's leading or trailing space, a lone space, a
 * tab or a newline would otherwise be invisible (GPT-2's " the", SentencePiece's "▁"), and an empty
 * string would be an empty label.
 */

/** The text with its edge spaces, tabs and newlines made visible; "∅" for the empty string. */
export function visibleToken(text: string): string {
  if (text.length === 0) return '∅ (empty)';
  return text
    .replace(/\n/g, '⏎')
    .replace(/\r/g, '␍')
    .replace(/\t/g, '⇥')
    .replace(/^ +| +$/g, (spaces) => '␣'.repeat(spaces.length));
}
