/**
 * Which two texts "Explain Sentence Pair" reads from an editor: two selections (the earlier one in the
 * document is segment A), or one selection (or line) split at the separator setting. Pure: offsets in,
 * texts and offsets out, so every case is tested without VS Code.
 */

/** One text of the pair and the document offset of its first character. */
export interface PairPart {
  text: string;
  offset: number;
}

export type PairChoice = { a: PairPart; b: PairPart } | { problem: string };

/**
 * The pair in `document` for the given selections (document offsets; empty ones are ignored).
 * One non-empty selection is split at the first occurrence of `separator`, each side trimmed of the
 * whitespace around the separator. Anything else is a problem, said in words with the way out.
 */
export function pairFromSelections(document: string, selections: readonly { start: number; end: number }[], separator: string): PairChoice {
  const ranges = selections.filter((s) => s.end > s.start).sort((x, y) => x.start - y.start);
  const part = (start: number, end: number): PairPart | undefined => {
    const raw = document.slice(start, end);
    const lead = raw.length - raw.trimStart().length;
    const text = raw.trim();
    return text ? { text, offset: start + lead } : undefined;
  };
  if (ranges.length > 2) {
    return { problem: `There are ${ranges.length} selections; a sentence pair takes two. Keep the first text and the second text selected (Alt+click or Alt+drag adds a selection).` };
  }
  if (ranges.length === 2) {
    const [x, y] = ranges;
    if (y.start < x.end) return { problem: 'The two selections overlap. Select two separate texts: the first is segment A, the second segment B.' };
    const a = part(x.start, x.end);
    const b = part(y.start, y.end);
    if (!a || !b) return { problem: 'One of the two selections is only whitespace. Select two texts with words in them.' };
    return { a, b };
  }
  if (ranges.length === 0) return { problem: `Select the two texts (hold Alt to add the second selection), or one text with "${separator}" between its two parts.` };
  const only = ranges[0];
  const selected = document.slice(only.start, only.end);
  const at = separator ? selected.indexOf(separator) : -1;
  if (at < 0) {
    return {
      problem: `The selection has no "${separator}" between two texts. Put the separator between the first and the second text (setting onnxLens.pairSeparator), or select the two texts separately (hold Alt to add the second selection).`,
    };
  }
  const a = part(only.start, only.start + at);
  const b = part(only.start + at + separator.length, only.end);
  if (!a || !b) return { problem: `One side of "${separator}" is empty. Write a text before and after the separator.` };
  return { a, b };
}
