import { toByteLevel } from './byteLevelAlphabet';
import { NormalizedString } from './normalizedString';
import { compileOnigurumaPattern, escapeRegExp } from './onigurumaPattern';
import { patternOf } from './normalizers';
import { TokenizerError } from './tokenizerError';
import { codePointLength, isBertPunctuation, isNumeric, isWhitespace } from './unicodeClasses';

/** A pre-tokenizer step: cuts aligned text into the words the model tokenizes one by one. */
export type PreTokenizer = (pieces: NormalizedString[]) => NormalizedString[];

/** How a split treats the delimiters it finds (Hugging Face's `SplitDelimiterBehavior`). */
export type SplitBehavior = 'Removed' | 'Isolated' | 'MergedWithPrevious' | 'MergedWithNext' | 'Contiguous';

type Json = Record<string, any>;

/** GPT-2's word pattern, with `\s` as Rust's White_Space. */
export const GPT2_PATTERN = compileOnigurumaPattern(
  "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
);

/** What the loader needs to know about a pre-tokenizer besides the function itself. */
export interface BuiltPreTokenizer {
  run: PreTokenizer;
  /** Contains a ByteLevel step (tokens are in the byte alphabet). */
  byteLevel: boolean;
  /** Contains a Metaspace step, with its replacement character. */
  metaspace?: string;
}

/** Builds the pre-tokenizer of a `tokenizer.json` `pre_tokenizer` entry (null → the text is one word). */
export function buildPreTokenizer(config: Json | null | undefined): BuiltPreTokenizer {
  if (config === null || config === undefined) return { run: (p) => p, byteLevel: false };
  const each = (f: (s: NormalizedString) => NormalizedString[]): PreTokenizer => (pieces) => pieces.flatMap(f);
  switch (config.type) {
    case 'Sequence': {
      const steps = ((config.pretokenizers ?? []) as Json[]).map(buildPreTokenizer);
      return {
        run: (pieces) => steps.reduce((acc, step) => step.run(acc), pieces),
        byteLevel: steps.some((s) => s.byteLevel),
        metaspace: steps.find((s) => s.metaspace !== undefined)?.metaspace,
      };
    }
    case 'BertPreTokenizer':
      return {
        run: each((s) => splitByCodePoint(s, isWhitespace, 'Removed').flatMap((w) => splitByCodePoint(w, isBertPunctuation, 'Isolated'))),
        byteLevel: false,
      };
    case 'Whitespace': {
      const re = /[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}]+|[^\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}\p{White_Space}]+/gu;
      return { run: each((s) => splitByRegex(s, re, 'Removed', true)), byteLevel: false };
    }
    case 'WhitespaceSplit':
      return { run: each((s) => splitByCodePoint(s, isWhitespace, 'Removed')), byteLevel: false };
    case 'Punctuation': {
      const behavior = (config.behavior ?? 'Isolated') as SplitBehavior;
      return { run: each((s) => splitByCodePoint(s, isBertPunctuation, behavior)), byteLevel: false };
    }
    case 'CharDelimiterSplit': {
      const delimiter = String(config.delimiter);
      return { run: each((s) => splitByCodePoint(s, (ch) => ch === delimiter, 'Removed')), byteLevel: false };
    }
    case 'Digits': {
      const individual = Boolean(config.individual_digits);
      if (individual) return { run: each((s) => splitByCodePoint(s, isNumeric, 'Isolated')), byteLevel: false };
      return { run: each((s) => splitByRegex(s, /\p{N}+/gu, 'Isolated', false)), byteLevel: false };
    }
    case 'Split': {
      const re = config.pattern && typeof config.pattern.String === 'string'
        ? new RegExp(escapeRegExp(config.pattern.String), 'gu')
        : patternOf(config.pattern, 'Split pre-tokenizer');
      const behavior = (config.behavior ?? 'Isolated') as SplitBehavior;
      const invert = Boolean(config.invert);
      return { run: each((s) => splitByRegex(s, re, behavior, invert)), byteLevel: false };
    }
    case 'ByteLevel': {
      const addPrefixSpace = config.add_prefix_space ?? true;
      const useRegex = config.use_regex ?? true;
      return {
        run: each((s) => {
          let r = s;
          if (addPrefixSpace && !r.text.startsWith(' ')) r = r.prepend(' ');
          const parts = useRegex ? splitByRegex(r, GPT2_PATTERN, 'Isolated', false) : r.length > 0 ? [r] : [];
          return parts.map(toByteLevel);
        }),
        byteLevel: true,
      };
    }
    case 'Metaspace': {
      const replacement = String(config.replacement ?? '▁');
      const scheme: string =
        config.prepend_scheme ?? (config.add_prefix_space === false ? 'never' : 'always');
      const split = config.split ?? true;
      const spaces = / /g;
      return {
        run: each((s) => {
          let r = s.replaceAll(spaces, replacement);
          const prepend = scheme === 'always' || (scheme === 'first' && r.originalStart === 0);
          if (prepend && !r.text.startsWith(replacement)) r = r.prepend(replacement);
          if (!split) return r.length > 0 ? [r] : [];
          return splitByCodePoint(r, (ch) => ch === replacement, 'MergedWithNext');
        }),
        byteLevel: false,
        metaspace: replacement,
      };
    }
    default:
      throw new TokenizerError(
        `This tokenizer uses a "${String(config.type)}" pre-tokenizer, which ONNX Lens does not support yet.`,
        'unsupported',
      );
  }
}

/** Splits where single code points satisfy `isDelimiter`; each such code point is one match. */
export function splitByCodePoint(s: NormalizedString, isDelimiter: (ch: string) => boolean, behavior: SplitBehavior): NormalizedString[] {
  const t = s.text;
  const matches: Array<[number, number]> = [];
  for (let i = 0; i < t.length; ) {
    const len = codePointLength(t, i);
    if (isDelimiter(len === 1 ? t[i] : t.slice(i, i + len))) matches.push([i, i + len]);
    i += len;
  }
  return applyBehavior(s, matches, behavior);
}

/** Splits on the matches of a global regex (or on what lies between them when `invert`). */
export function splitByRegex(s: NormalizedString, re: RegExp, behavior: SplitBehavior, invert: boolean): NormalizedString[] {
  const t = s.text;
  const found: Array<[number, number]> = [];
  re.lastIndex = 0;
  for (let m = re.exec(t); m !== null; m = re.exec(t)) {
    if (m[0].length === 0) {
      re.lastIndex++;
      continue;
    }
    found.push([m.index, m.index + m[0].length]);
  }
  re.lastIndex = 0;
  if (!invert) return applyBehavior(s, found, behavior);
  const gaps: Array<[number, number]> = [];
  let last = 0;
  for (const [a, b] of found) {
    if (a > last) gaps.push([last, a]);
    last = b;
  }
  if (last < t.length) gaps.push([last, t.length]);
  return applyBehavior(s, gaps, behavior);
}

/** Turns ordered, non-overlapping matches into pieces, following Hugging Face's split behaviours. */
function applyBehavior(s: NormalizedString, matches: Array<[number, number]>, behavior: SplitBehavior): NormalizedString[] {
  const all: Array<[number, number, boolean]> = [];
  let last = 0;
  for (const [a, b] of matches) {
    if (a > last) all.push([last, a, false]);
    all.push([a, b, true]);
    last = b;
  }
  if (last < s.length) all.push([last, s.length, false]);

  let spans: Array<[number, number]>;
  switch (behavior) {
    case 'Removed':
      spans = all.filter((x) => !x[2]).map(([a, b]) => [a, b]);
      break;
    case 'Isolated':
      spans = all.map(([a, b]) => [a, b]);
      break;
    case 'MergedWithPrevious': {
      spans = [];
      let previousMatch = false;
      for (const [a, b, isMatch] of all) {
        if (isMatch && !previousMatch && spans.length > 0) spans[spans.length - 1][1] = b;
        else spans.push([a, b]);
        previousMatch = isMatch;
      }
      break;
    }
    case 'MergedWithNext': {
      spans = [];
      let previousMatch = false;
      for (let k = all.length - 1; k >= 0; k--) {
        const [a, b, isMatch] = all[k];
        if (isMatch && !previousMatch && spans.length > 0) spans[spans.length - 1][0] = a;
        else spans.push([a, b]);
        previousMatch = isMatch;
      }
      spans.reverse();
      break;
    }
    case 'Contiguous': {
      spans = [];
      let previousMatch = false;
      for (const [a, b, isMatch] of all) {
        if (isMatch && previousMatch && spans.length > 0) spans[spans.length - 1][1] = b;
        else spans.push([a, b]);
        previousMatch = isMatch;
      }
      break;
    }
    default:
      throw new TokenizerError(`Unknown split behaviour "${String(behavior)}" in tokenizer.json.`, 'malformed');
  }
  return spans.filter(([a, b]) => b > a).map(([a, b]) => s.slice(a, b));
}
