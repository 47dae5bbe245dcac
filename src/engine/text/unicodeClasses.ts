// Character classes as the Rust `tokenizers` crate defines them, so that splits match Hugging Face's.

const WHITE_SPACE = /^\p{White_Space}$/u;
const OTHER = /^\p{C}$/u;
const PUNCTUATION = /^\p{P}$/u;
const NONSPACING_MARK = /^\p{Mn}$/u;
const NUMERIC = /^\p{N}$/u;

/** Rust's `char::is_whitespace` (the Unicode White_Space property), for one code point. */
export function isWhitespace(ch: string): boolean {
  return WHITE_SPACE.test(ch);
}

/** True when every code point of `s` is whitespace (false for the empty string). */
export function isAllWhitespace(s: string): boolean {
  if (s.length === 0) return false;
  for (const ch of s) if (!WHITE_SPACE.test(ch)) return false;
  return true;
}

/** Unicode general category C (Cc, Cf, Cs, Co, Cn): what BERT's `clean_text` deletes. */
export function isOtherCategory(ch: string): boolean {
  return OTHER.test(ch);
}

/** BERT's punctuation test: any ASCII punctuation (including `$`, `^`, `` ` ``) or category P. */
export function isBertPunctuation(ch: string): boolean {
  const c = ch.codePointAt(0) ?? 0;
  if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) {
    return true;
  }
  return PUNCTUATION.test(ch);
}

/** Unicode category Mn, removed by accent stripping after NFD. */
export function isNonspacingMark(ch: string): boolean {
  return NONSPACING_MARK.test(ch);
}

/** Rust's `char::is_numeric` (categories Nd, Nl, No). */
export function isNumeric(ch: string): boolean {
  return NUMERIC.test(ch);
}

/** The CJK ideograph blocks BERT surrounds with spaces (`handle_chinese_chars`). */
export function isChineseChar(ch: string): boolean {
  const c = ch.codePointAt(0) ?? 0;
  return (
    (c >= 0x4e00 && c <= 0x9fff) ||
    (c >= 0x3400 && c <= 0x4dbf) ||
    (c >= 0x20000 && c <= 0x2a6df) ||
    (c >= 0x2a700 && c <= 0x2b73f) ||
    (c >= 0x2b740 && c <= 0x2b81f) ||
    (c >= 0x2b920 && c <= 0x2ceaf) ||
    (c >= 0xf900 && c <= 0xfaff) ||
    (c >= 0x2f800 && c <= 0x2fa1f)
  );
}

/** Length in UTF-16 units of the code point starting at `i` (2 only for a well-formed surrogate pair). */
export function codePointLength(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
    const d = s.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return 2;
  }
  return 1;
}

/** Number of code points in `s` (lone surrogates count as one each). */
export function codePointCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i += codePointLength(s, i)) n++;
  return n;
}

/**
 * UTF-8 bytes of one code point. A lone surrogate cannot be encoded; like `TextEncoder` it becomes
 * U+FFFD so that odd editor text never makes encoding throw.
 */
export function utf8Bytes(ch: string): number[] {
  let c = ch.codePointAt(0) ?? 0xfffd;
  if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
  if (c < 0x80) return [c];
  if (c < 0x800) return [0xc0 | (c >> 6), 0x80 | (c & 63)];
  if (c < 0x10000) return [0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63)];
  return [0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63)];
}
