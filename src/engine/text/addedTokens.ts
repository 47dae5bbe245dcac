import { escapeRegExp } from './onigurumaPattern';
import { isWhitespace } from './unicodeClasses';

/** An entry of `added_tokens` in `tokenizer.json`. */
export interface AddedToken {
  id: number;
  content: string;
  singleWord: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

/** A stretch of text: either plain text to tokenize or one added token (with its content's range). */
export interface TextSpan {
  start: number;
  end: number;
  /** Set when the span is an added token. */
  added?: AddedToken;
}

/** Reads `added_tokens` leniently: entries without a string `content` and numeric `id` are skipped. */
export function readAddedTokens(list: unknown): AddedToken[] {
  if (!Array.isArray(list)) return [];
  const out: AddedToken[] = [];
  for (const t of list) {
    if (!t || typeof t.content !== 'string' || typeof t.id !== 'number' || t.content.length === 0) continue;
    out.push({
      id: t.id,
      content: t.content,
      singleWord: Boolean(t.single_word),
      lstrip: Boolean(t.lstrip),
      rstrip: Boolean(t.rstrip),
      normalized: t.normalized ?? !t.special,
      special: Boolean(t.special),
    });
  }
  return out;
}

const WORD_CHAR = /^[\p{L}\p{N}\p{M}_]$/u;

/**
 * Finds added tokens in text, leftmost and longest first (as Hugging Face's Aho-Corasick matcher),
 * honouring `single_word` (not inside a word), `lstrip` / `rstrip` (swallow the whitespace beside it).
 */
export class AddedTokenMatcher {
  private readonly re: RegExp | undefined;
  private readonly byContent = new Map<string, AddedToken>();

  constructor(tokens: AddedToken[]) {
    for (const t of tokens) if (!this.byContent.has(t.content)) this.byContent.set(t.content, t);
    const contents = [...this.byContent.keys()].sort((a, b) => b.length - a.length);
    this.re = contents.length > 0 ? new RegExp(contents.map(escapeRegExp).join('|'), 'gu') : undefined;
  }

  /** Splits `text[from, to)` into plain spans and added-token spans, covering it without gaps. */
  split(text: string, from = 0, to = text.length): TextSpan[] {
    if (!this.re || to <= from) return to > from ? [{ start: from, end: to }] : [];
    const region = text.slice(from, to);
    const re = this.re;
    re.lastIndex = 0;
    const found: Array<{ start: number; end: number; cutStart: number; cutEnd: number; token: AddedToken }> = [];
    for (let m = re.exec(region); m !== null; m = re.exec(region)) {
      const token = this.byContent.get(m[0]) as AddedToken;
      const start = m.index;
      const end = start + m[0].length;
      if (token.singleWord) {
        const before = start > 0 ? String.fromCodePoint(region.codePointAt(start - 1) ?? 0) : '';
        const after = end < region.length ? String.fromCodePoint(region.codePointAt(end) ?? 0) : '';
        if ((before && WORD_CHAR.test(before)) || (after && WORD_CHAR.test(after))) {
          re.lastIndex = start + 1;
          continue;
        }
      }
      let cutStart = start;
      let cutEnd = end;
      const previousEnd = found.length > 0 ? found[found.length - 1].cutEnd : 0;
      if (token.lstrip) while (cutStart > previousEnd && isWhitespace(region[cutStart - 1])) cutStart--;
      if (token.rstrip) while (cutEnd < region.length && isWhitespace(region[cutEnd])) cutEnd++;
      found.push({ start, end, cutStart, cutEnd, token });
      re.lastIndex = cutEnd;
    }
    re.lastIndex = 0;
    const spans: TextSpan[] = [];
    let last = 0;
    for (const f of found) {
      if (f.cutStart > last) spans.push({ start: from + last, end: from + f.cutStart });
      spans.push({ start: from + f.start, end: from + f.end, added: f.token });
      last = f.cutEnd;
    }
    if (last < region.length) spans.push({ start: from + last, end: to });
    return spans;
  }
}
