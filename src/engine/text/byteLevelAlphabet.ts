import { NormalizedString } from './normalizedString';
import { codePointLength, utf8Bytes } from './unicodeClasses';

/**
 * GPT-2's byte ↔ character table: every byte gets a printable character (space → `Ġ`, newline → `Ċ`)
 * so byte-level BPE vocabularies are plain strings.
 */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const table: string[] = new Array(256);
  for (const b of bs) table[b] = String.fromCharCode(b);
  let n = 0;
  for (let b = 0; b < 256; b++) if (table[b] === undefined) table[b] = String.fromCharCode(256 + n++);
  return table;
})();

/** Inverse of {@link BYTE_TO_CHAR}. */
export const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));

/**
 * Rewrites text as its UTF-8 bytes in the byte-level alphabet. Each byte character aligns to the whole
 * code point it came from, so a token holding part of an emoji's bytes still maps to the emoji.
 */
export function toByteLevel(s: NormalizedString): NormalizedString {
  return s.mapCodePoints((ch) => {
    const c = ch.charCodeAt(0);
    if (ch.length === 1 && c < 0x80) return BYTE_TO_CHAR[c];
    let out = '';
    for (const b of utf8Bytes(ch)) out += BYTE_TO_CHAR[b];
    return out;
  });
}

/** The bytes a byte-level piece stands for, or undefined when it has characters outside the alphabet. */
export function byteLevelPieceBytes(piece: string): number[] | undefined {
  const bytes: number[] = [];
  for (let i = 0; i < piece.length; i += codePointLength(piece, i)) {
    const b = CHAR_TO_BYTE.get(piece[i]);
    if (b === undefined) return undefined;
    bytes.push(b);
  }
  return bytes;
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });
const LENIENT_UTF8 = new TextDecoder('utf-8');

/** Decodes bytes leniently (invalid sequences become U+FFFD), as Hugging Face decoders do. */
export function decodeUtf8(bytes: number[]): string {
  return LENIENT_UTF8.decode(Uint8Array.from(bytes));
}

/**
 * Bytes as text for display: valid UTF-8 decodes normally; a token holding only part of a character
 * shows its bytes as `<0xNN>` (printable ASCII bytes stay as they are) instead of replacement marks.
 */
export function displayBytes(bytes: number[]): string {
  try {
    return STRICT_UTF8.decode(Uint8Array.from(bytes));
  } catch {
    // fall through: show the bytes one by one
  }
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const len = utf8SequenceLength(bytes[i]);
    if (len > 0 && i + len <= bytes.length) {
      try {
        out += STRICT_UTF8.decode(Uint8Array.from(bytes.slice(i, i + len)));
        i += len;
        continue;
      } catch {
        // not a whole character
      }
    }
    out += `<0x${bytes[i].toString(16).toUpperCase().padStart(2, '0')}>`;
    i++;
  }
  return out;
}

function utf8SequenceLength(b: number): number {
  if (b < 0x80) return 1;
  if (b >= 0xc2 && b <= 0xdf) return 2;
  if (b >= 0xe0 && b <= 0xef) return 3;
  if (b >= 0xf0 && b <= 0xf4) return 4;
  return 0;
}
