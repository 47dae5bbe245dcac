import { NormalizedString } from './normalizedString';
import { compileOnigurumaPattern, escapeRegExp } from './onigurumaPattern';
import { TokenizerError } from './tokenizerError';
import { isChineseChar, isNonspacingMark, isOtherCategory, isWhitespace } from './unicodeClasses';

/** A normalizer step from `tokenizer.json`, working on aligned text. */
export type Normalizer = (s: NormalizedString) => NormalizedString;

type Json = Record<string, any>;

/** Builds the normalizer described by a `tokenizer.json` `normalizer` entry (null → identity). */
export function buildNormalizer(config: Json | null | undefined): Normalizer {
  if (config === null || config === undefined) return (s) => s;
  switch (config.type) {
    case 'Sequence': {
      const steps = ((config.normalizers ?? []) as Json[]).map(buildNormalizer);
      return (s) => steps.reduce((acc, step) => step(acc), s);
    }
    case 'BertNormalizer':
      return bertNormalizer(config);
    case 'Lowercase':
      return lowercase;
    case 'NFC':
    case 'NFD':
    case 'NFKC':
    case 'NFKD': {
      const form = config.type as 'NFC' | 'NFD' | 'NFKC' | 'NFKD';
      return (s) => s.normalizeForm(form);
    }
    case 'StripAccents':
      return stripNonspacingMarks;
    case 'Strip': {
      const left = config.strip_left ?? config.left ?? true;
      const right = config.strip_right ?? config.right ?? true;
      return (s) => s.strip(left, right);
    }
    case 'Replace': {
      const re = patternOf(config.pattern, 'Replace normalizer');
      const content = String(config.content ?? '');
      return (s) => s.replaceAll(re, content);
    }
    case 'Prepend': {
      const prefix = String(config.prepend ?? '');
      return (s) => s.prepend(prefix);
    }
    case 'Precompiled':
      // SentencePiece's compiled charsmap (T5, ALBERT, XLNet) is, for these models, nmt_nfkc: drop
      // control characters, turn unusual spaces into ' ', then NFKC. We apply that instead of reading
      // the binary trie: the same ids for ordinary text, possibly different ones for rare characters
      // the charsmap special-cases.
      return (s) => nmtClean(s).normalizeForm('NFKC');
    case 'Nmt':
      return nmtClean;
    default:
      throw new TokenizerError(
        `This tokenizer uses a "${String(config.type)}" normalizer, which ONNX Lens does not support yet.`,
        'unsupported',
      );
  }
}

/** A `{String: "…"}` or `{Regex: "…"}` pattern from `tokenizer.json` as a global RegExp. */
export function patternOf(pattern: Json | undefined, where: string): RegExp {
  if (pattern && typeof pattern.String === 'string') return new RegExp(escapeRegExp(pattern.String), 'gu');
  if (pattern && typeof pattern.Regex === 'string') return compileOnigurumaPattern(pattern.Regex);
  throw new TokenizerError(`The ${where} in tokenizer.json has no String or Regex pattern.`, 'malformed');
}

function lowercase(s: NormalizedString): NormalizedString {
  // Per code point, as Rust's char::to_lowercase: no final-sigma context, so 'Σ' always becomes 'σ'.
  return s.mapCodePoints((ch) => ch.toLowerCase());
}

function stripNonspacingMarks(s: NormalizedString): NormalizedString {
  return s.mapCodePoints((ch) => (isNonspacingMark(ch) ? '' : ch));
}

function bertNormalizer(config: Json): Normalizer {
  const cleanText = config.clean_text ?? true;
  const chinese = config.handle_chinese_chars ?? true;
  const lower = config.lowercase ?? true;
  // strip_accents: null means "follow lowercase", as in the original BERT.
  const stripAccents = config.strip_accents === null || config.strip_accents === undefined ? lower : Boolean(config.strip_accents);
  return (s) => {
    let r = s;
    if (cleanText) {
      r = r.mapCodePoints((ch) => {
        if (ch === '\t' || ch === '\n' || ch === '\r') return ' ';
        if (ch === '\0' || ch === '\ufffd' || isOtherCategory(ch)) return '';
        return isWhitespace(ch) ? ' ' : ch;
      });
    }
    if (chinese) r = r.mapCodePoints((ch) => (isChineseChar(ch) ? ` ${ch} ` : ch));
    if (stripAccents) r = stripNonspacingMarks(r.normalizeForm('NFD'));
    if (lower) r = lowercase(r);
    return r;
  };
}

const NMT_REMOVED = /^[\u0001-\u0008\u000B\u000E-\u001F\u007F\u008F\u009F]$/u;
const NMT_SPACE = /^[\u0009\u000A\u000C\u000D\u00A0\u1680\u2000-\u200F\u2028\u2029\u202F\u205F\u2581\u3000\uFEFF\uFFFD]$/u;

function nmtClean(s: NormalizedString): NormalizedString {
  return s.mapCodePoints((ch) => (NMT_REMOVED.test(ch) ? '' : NMT_SPACE.test(ch) ? ' ' : ch));
}
