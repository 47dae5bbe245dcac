import { isBertPunctuation, isWhitespace } from './unicodeClasses';

/** What word grouping needs to know about a token. */
export interface GroupableToken {
  piece: string;
  start: number;
  end: number;
  special: boolean;
  /** Which text of a pair the token belongs to. */
  sequence: number;
}

/** A word: consecutive tokens of one text that belong together, and the original range they cover. */
export interface WordGroup {
  start: number;
  end: number;
  sequence: number;
  tokenIndices: number[];
}

/** How the tokenizer marks where words begin or continue. */
export interface WordMarkers {
  /** WordPiece: a piece continues a word only when it starts with this prefix. */
  continuationPrefix?: string;
  /** BPE / SentencePiece: a piece starting with this begins a new word (`Ġ`, `▁`). */
  wordStartMarkers: string[];
}

/** Apostrophes that join the two halves of a contraction or elision: ASCII, right single quotation mark, modifier letter. */
const APOSTROPHES = new Set(["'", '\u2019', '\u02bc']);
const LETTER_OR_DIGIT = /[\p{L}\p{N}\p{M}]/u;

/** True when `text` holds only punctuation and symbols as BERT splits them (and whitespace): `,`, `...`, `$`, `—`. */
export function isPunctuationWord(text: string): boolean {
  let any = false;
  for (const ch of text) {
    if (isWhitespace(ch)) continue;
    if (!isBertPunctuation(ch)) return false;
    any = true;
  }
  return any;
}

/**
 * Joins a contraction or elision split at its apostrophe back into one word, as a reader sees it: `isn` `'`
 * `t` → `isn't`, `John` `'` `s`, `l` `'` `homme`, `rock'n'roll`. Only an apostrophe with a letter or digit
 * directly on both sides joins; a quote mark at the edge of a word ('quoted', students') stays punctuation.
 */
function joinContractions(text: (sequence: number) => string, words: WordGroup[], wordIndex: number[]): WordGroup[] {
  const out: WordGroup[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    const prev = out[out.length - 1];
    const next = words[i + 1];
    const source = text(w.sequence);
    const isApostrophe = APOSTROPHES.has(source.slice(w.start, w.end));
    if (
      isApostrophe &&
      prev !== undefined &&
      next !== undefined &&
      prev.sequence === w.sequence &&
      next.sequence === w.sequence &&
      prev.end === w.start &&
      next.start === w.end &&
      LETTER_OR_DIGIT.test(source.slice(w.start - 1, w.start)) &&
      LETTER_OR_DIGIT.test(String.fromCodePoint(source.codePointAt(w.end) ?? 32))
    ) {
      prev.tokenIndices.push(...w.tokenIndices, ...next.tokenIndices);
      prev.end = next.end;
      i++;
      continue;
    }
    // The part after an apostrophe that the tokenizer left inside one word ("'t" of GPT-2) needs nothing.
    out.push(w);
  }
  if (out.length !== words.length) {
    wordIndex.fill(-1);
    out.forEach((w, k) => {
      for (const t of w.tokenIndices) wordIndex[t] = k;
    });
  }
  return out;
}

/**
 * Groups tokens into words by their offsets: sub-words of one word (WordPiece `##`, BPE pieces without a
 * leading space, SentencePiece pieces without `▁`) join the word before them; punctuation is a word of its
 * own, and so is a whitespace-only token; whitespace between tokens ends a word; tokens sharing one character's range (the bytes of an emoji)
 * stay together; a contraction split at its apostrophe (`isn` `'` `t`) is one word. Special tokens belong
 * to no word (`wordIndex` -1).
 */
export function groupWords(text: (sequence: number) => string, tokens: GroupableToken[], markers: WordMarkers): { words: WordGroup[]; wordIndex: number[] } {
  const words: WordGroup[] = [];
  const wordIndex: number[] = new Array(tokens.length).fill(-1);
  let current: WordGroup | undefined;
  let previousPunct = false;
  // Tokens with an empty range (a `▁` prepended by normalization) join the word that follows them.
  let pending: number[] = [];
  tokens.forEach((t, i) => {
    if (t.special) {
      current = undefined;
      return;
    }
    if (t.start === t.end) {
      pending.push(i);
      return;
    }
    const source = text(t.sequence);
    const covered = source.slice(t.start, t.end);
    // Punctuation and whitespace-only tokens (GPT-2's `Ġ` for a second space, a tab) stand alone.
    const punct = covered.length > 0 && [...covered].every((ch) => isBertPunctuation(ch) || isWhitespace(ch));
    let joins = current !== undefined && current.sequence === t.sequence;
    if (joins && current) {
      const sharesCharacter = t.start < current.end; // byte pieces of one character
      if (!sharesCharacter) {
        // A gap of removed characters (a zero-width joiner deleted by normalization) does not end a word.
        if (t.start > current.end && /\p{White_Space}/u.test(source.slice(current.end, t.start))) joins = false;
        else if (punct || previousPunct) joins = false;
        else if (markers.continuationPrefix !== undefined) joins = t.piece.startsWith(markers.continuationPrefix);
        else if (markers.wordStartMarkers.some((m) => t.piece.startsWith(m))) joins = false;
      }
    }
    if (!joins || !current) {
      current = { start: t.start, end: t.end, sequence: t.sequence, tokenIndices: [] };
      words.push(current);
    }
    for (const p of pending) {
      current.tokenIndices.push(p);
      wordIndex[p] = words.length - 1;
    }
    pending = [];
    current.tokenIndices.push(i);
    current.end = Math.max(current.end, t.end);
    wordIndex[i] = words.length - 1;
    previousPunct = punct;
  });
  for (const p of pending) {
    // Nothing follows: join the word before, or stand alone when the text has no word at all.
    const last = words[words.length - 1];
    if (last && last.sequence === tokens[p].sequence) {
      last.tokenIndices.push(p);
      wordIndex[p] = words.length - 1;
    } else {
      words.push({ start: tokens[p].start, end: tokens[p].end, sequence: tokens[p].sequence, tokenIndices: [p] });
      wordIndex[p] = words.length - 1;
    }
  }
  return { words: joinContractions(text, words, wordIndex), wordIndex };
}
