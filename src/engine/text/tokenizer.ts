import { AddedToken, AddedTokenMatcher, readAddedTokens } from './addedTokens';
import { BpeModel } from './bpeModel';
import { NormalizedString } from './normalizedString';
import { buildNormalizer, Normalizer } from './normalizers';
import { buildTemplate, countSpecials, Template, TemplateItem } from './postProcessors';
import { buildPreTokenizer, BuiltPreTokenizer } from './preTokenizers';
import { buildDecoder, cleanUpTokenizationSpaces, Decoder, DisplayStyle, displayPiece } from './tokenDecoders';
import { TokenizerError } from './tokenizerError';
import { TokenizerModel } from './tokenizerModel';
import { UnigramModel } from './unigramModel';
import { groupWords, WordMarkers } from './wordGrouping';
import { WordPieceModel } from './wordPieceModel';

/** One token with its place in the editor text. */
export interface Token {
  id: number;
  /** The token as a person reads it (`Ġhello` → ` hello`, `##ing` → `ing`). */
  text: string;
  /** The raw vocabulary string. */
  piece: string;
  /**
   * UTF-16 range in the original text (`sequence` says which text of a pair): exactly the characters that
   * produced the token, without a leading space marker; whole surrogate pairs. Special tokens added around
   * the text get an empty range where they sit.
   */
  start: number;
  end: number;
  /** A special token (added by the template or typed in the text, like `[MASK]`). */
  special: boolean;
  /** Index into `Encoding.words`; -1 for special tokens. */
  wordIndex: number;
  /** 0 for the text, 1 for the second text of a pair. */
  sequence: number;
}

/** A word: sub-word tokens grouped back together. */
export interface Word {
  /** The original characters of the word. */
  text: string;
  start: number;
  end: number;
  tokenIndices: number[];
  /** 0 for the text, 1 for the second text of a pair. */
  sequence: number;
}

/** What truncation removed. */
export interface TruncationReport {
  maxTokens: number;
  droppedTokens: number;
  /** Characters of the text(s) still covered by kept tokens (up to the last kept token). */
  keptChars: number;
  droppedChars: number;
  /** The text was cut before tokenizing (see encodeLongText): `droppedTokens` counts only part of what was dropped. */
  droppedTokensAtLeast?: boolean;
}

/** The result of encoding one text (or a pair). */
export interface Encoding {
  ids: number[];
  typeIds: number[];
  tokens: Token[];
  words: Word[];
  truncation?: TruncationReport;
}

export interface EncodeOptions {
  /** Total tokens allowed, special tokens included; the text is cut, the special tokens kept. */
  maxLength?: number;
  /** Add the template's special tokens ([CLS] … [SEP], `<s>`, `</s>`). Default true. */
  addSpecialTokens?: boolean;
  /** A second text (question answering, NLI); its tokens have `sequence` 1. */
  pair?: string;
}

/** Ids of the roles special tokens play, where the tokenizer has them. */
export interface SpecialTokens {
  cls?: number;
  sep?: number;
  mask?: number;
  pad?: number;
  bos?: number;
  eos?: number;
  unk?: number;
}

/** A loaded tokenizer. */
export interface Tokenizer {
  readonly kind: 'wordpiece' | 'bpe-byte-level' | 'bpe-byte-fallback' | 'bpe' | 'unigram';
  readonly vocabSize: number;
  readonly special: SpecialTokens;
  encode(text: string, options?: EncodeOptions): Encoding;
  tokenToId(piece: string): number | undefined;
  idToPiece(id: number): string | undefined;
  decode(ids: number[], skipSpecial?: boolean): string;
  displayToken(id: number): string;
}

type Json = Record<string, any>;

interface SequenceToken {
  id: number;
  piece: string;
  start: number;
  end: number;
  special: boolean;
  sequence: number;
}

/**
 * Builds a tokenizer from the parsed contents of a Hugging Face `tokenizer.json` (and optionally
 * `tokenizer_config.json` / `special_tokens_map.json`, which name the special tokens).
 * @throws TokenizerError when the file is malformed or uses a component ONNX Lens does not support.
 */
export function loadTokenizer(json: unknown, config?: { tokenizerConfig?: unknown; specialTokensMap?: unknown }): Tokenizer {
  if (!json || typeof json !== 'object' || Array.isArray(json)) {
    throw new TokenizerError('tokenizer.json does not hold a JSON object; re-save it with the tokenizer library.', 'malformed');
  }
  const j = json as Json;
  if (!j.model || typeof j.model !== 'object') {
    throw new TokenizerError('tokenizer.json has no "model" entry; it may be a tokenizer_config.json or vocabulary file instead.', 'malformed');
  }
  return new LoadedTokenizer(j, (config?.tokenizerConfig ?? {}) as Json, (config?.specialTokensMap ?? {}) as Json);
}

/**
 * How many tokens of each text of a pair survive truncation to `budget` tokens, as Hugging Face's
 * `longest_first` strategy decides: the shorter text is kept whole when the longer one can absorb the cut;
 * otherwise both are cut to half the budget, the odd token going to the text that was longer.
 */
export function longestFirst(first: number, second: number, budget: number): [number, number] {
  if (first + second <= budget) return [first, second];
  const swap = first > second;
  let short = swap ? second : first;
  let long = short > budget ? short : Math.max(short, budget - short);
  if (short + long > budget) {
    short = Math.floor(budget / 2);
    long = short + (budget % 2);
  }
  return swap ? [long, short] : [short, long];
}

/** Decides the model type, also for files written before `model.type` existed. */
function modelType(model: Json): string {
  if (typeof model.type === 'string') return model.type;
  if (Array.isArray(model.vocab)) return 'Unigram';
  if (Array.isArray(model.merges)) return 'BPE';
  if ('continuing_subword_prefix' in model || 'max_input_chars_per_word' in model) return 'WordPiece';
  return 'WordLevel';
}

class LoadedTokenizer implements Tokenizer {
  readonly kind: Tokenizer['kind'];
  readonly vocabSize: number;
  readonly special: SpecialTokens;
  private readonly model: TokenizerModel;
  private readonly normalizer: Normalizer;
  private readonly preTokenizer: BuiltPreTokenizer;
  private readonly template: Template;
  private readonly decoder: Decoder;
  private readonly added: AddedToken[];
  private readonly addedById = new Map<number, AddedToken>();
  private readonly addedByContent = new Map<string, AddedToken>();
  private readonly rawMatcher: AddedTokenMatcher;
  private readonly normalizedMatcher: AddedTokenMatcher;
  private readonly specialIds = new Set<number>();
  private readonly style: DisplayStyle;
  private readonly markers: WordMarkers;
  private readonly cleanUpSpaces: boolean;

  constructor(j: Json, tokenizerConfig: Json, specialTokensMap: Json) {
    const type = modelType(j.model);
    switch (type) {
      case 'WordPiece':
        this.model = new WordPieceModel(j.model);
        break;
      case 'BPE':
        this.model = new BpeModel(j.model);
        break;
      case 'Unigram':
        this.model = new UnigramModel(j.model);
        break;
      default:
        throw new TokenizerError(
          `This tokenizer uses a ${type} model; ONNX Lens supports WordPiece, BPE and Unigram tokenizers.`,
          'unsupported',
        );
    }
    this.normalizer = buildNormalizer(j.normalizer);
    this.preTokenizer = buildPreTokenizer(j.pre_tokenizer);
    this.decoder = buildDecoder(j.decoder);
    this.added = readAddedTokens(j.added_tokens);
    for (const t of this.added) {
      this.addedById.set(t.id, t);
      this.addedByContent.set(t.content, t);
      if (t.special) this.specialIds.add(t.id);
    }
    this.rawMatcher = new AddedTokenMatcher(this.added.filter((t) => !t.normalized));
    this.normalizedMatcher = new AddedTokenMatcher(this.added.filter((t) => t.normalized));
    this.template = buildTemplate(j.post_processor, (p) => this.tokenToId(p));
    for (const item of [...this.template.single, ...this.template.pair]) {
      if (item.kind === 'special') for (const id of item.ids) this.specialIds.add(id);
    }

    if (type === 'WordPiece') this.kind = 'wordpiece';
    else if (type === 'Unigram') this.kind = 'unigram';
    else if ((this.model as BpeModel).byteFallback) this.kind = 'bpe-byte-fallback';
    else if (this.preTokenizer.byteLevel) this.kind = 'bpe-byte-level';
    else this.kind = 'bpe';

    const metaspace =
      this.preTokenizer.metaspace ?? (this.kind === 'unigram' || this.kind === 'bpe-byte-fallback' ? '▁' : undefined);
    this.style = {
      byteLevel: this.preTokenizer.byteLevel,
      continuationPrefix: this.kind === 'wordpiece' ? (j.model.continuing_subword_prefix ?? '##') : undefined,
      metaspace,
    };
    this.markers = {
      continuationPrefix: this.style.continuationPrefix,
      wordStartMarkers: [...(this.style.byteLevel ? ['Ġ'] : []), ...(metaspace ? [metaspace] : [])],
    };
    let size = this.model.size;
    for (const t of this.added) size = Math.max(size, t.id + 1);
    this.vocabSize = size;
    this.special = this.findSpecialTokens(tokenizerConfig, specialTokensMap);
    // transformers cleans up " ." and " 's" after decoding unless the config says not to; WordPiece
    // tokenizers saved without the key still get it.
    this.cleanUpSpaces =
      tokenizerConfig.clean_up_tokenization_spaces ?? (j.decoder?.type === 'WordPiece' && j.decoder.cleanup !== false);
  }

  tokenToId(piece: string): number | undefined {
    return this.addedByContent.get(piece)?.id ?? this.model.tokenToId(piece);
  }

  idToPiece(id: number): string | undefined {
    return this.addedById.get(id)?.content ?? this.model.idToPiece(id);
  }

  displayToken(id: number): string {
    const added = this.addedById.get(id);
    if (added) return added.content;
    const piece = this.model.idToPiece(id);
    return piece === undefined ? '' : displayPiece(piece, this.style);
  }

  decode(ids: number[], skipSpecial = false): string {
    // As Hugging Face does: every piece, added tokens included, goes through the decoder chain.
    const pieces: string[] = [];
    for (const id of ids) {
      if (skipSpecial && this.specialIds.has(id)) continue;
      const piece = this.idToPiece(id);
      if (piece !== undefined) pieces.push(piece);
    }
    const text = this.decoder(pieces).join('');
    return this.cleanUpSpaces ? cleanUpTokenizationSpaces(text) : text;
  }

  encode(text: string, options: EncodeOptions = {}): Encoding {
    const addSpecial = options.addSpecialTokens ?? true;
    const hasPair = options.pair !== undefined;
    const texts = hasPair ? [text, options.pair as string] : [text];
    const seqs = texts.map((t, i) => this.encodeSequence(t, i));
    const items: TemplateItem[] = addSpecial
      ? hasPair
        ? this.template.pair
        : this.template.single
      : (hasPair ? this.template.pair : this.template.single).filter((item) => item.kind === 'sequence'); // type ids still follow the template

    let truncation: TruncationReport | undefined;
    if (options.maxLength !== undefined) {
      const budget = Math.max(0, options.maxLength - (addSpecial ? countSpecials(items) : 0));
      const lengths = seqs.map((s) => s.length);
      const total = lengths.reduce((a, b) => a + b, 0);
      if (total > budget) {
        const keep = lengths.length > 1 ? longestFirst(lengths[0], lengths[1], budget) : [budget];
        let keptChars = 0;
        seqs.forEach((s, i) => {
          s.length = keep[i];
          const last = s[s.length - 1];
          keptChars += last ? last.end : 0;
        });
        const totalChars = texts.reduce((a, t) => a + t.length, 0);
        truncation = { maxTokens: options.maxLength, droppedTokens: total - budget, keptChars, droppedChars: totalChars - keptChars };
      }
    }

    const all: SequenceToken[] = [];
    const typeIds: number[] = [];
    items.forEach((item, k) => {
      if (item.kind === 'sequence') {
        for (const t of seqs[item.sequence] ?? []) {
          all.push(t);
          typeIds.push(item.typeId);
        }
        return;
      }
      // A special token sits at the end of the text before it in the template, else at the start of the next.
      let sequence = 0;
      let at = 0;
      const before = items.slice(0, k).reverse().find((x) => x.kind === 'sequence');
      if (before && before.kind === 'sequence') {
        sequence = before.sequence;
        at = texts[sequence].length;
      } else {
        const after = items.slice(k + 1).find((x) => x.kind === 'sequence');
        sequence = after && after.kind === 'sequence' ? after.sequence : 0;
      }
      item.ids.forEach((id, n) => {
        all.push({ id, piece: item.pieces[n] ?? this.idToPiece(id) ?? '', start: at, end: at, special: true, sequence });
        typeIds.push(item.typeId);
      });
    });

    const { words, wordIndex } = groupWords((s) => texts[s] ?? '', all, this.markers);
    const tokens: Token[] = all.map((t, i) => {
      let { start, end } = t;
      const word = words[wordIndex[i]];
      // An empty-range piece (a `▁` added in front) sits where the word it belongs to starts.
      if (start === end && word && (start < word.start || start > word.end)) start = end = word.start;
      return {
      id: t.id,
      text: this.displayToken(t.id),
      piece: t.piece,
      start,
      end,
      special: t.special,
      wordIndex: wordIndex[i],
      sequence: t.sequence,
      };
    });
    return {
      ids: tokens.map((t) => t.id),
      typeIds,
      tokens,
      words: words.map((w) => ({ text: texts[w.sequence].slice(w.start, w.end), start: w.start, end: w.end, tokenIndices: w.tokenIndices, sequence: w.sequence })),
      ...(truncation ? { truncation } : {}),
    };
  }

  /** Added tokens → normalization → added tokens in normalized text → pre-tokenizer → model. */
  private encodeSequence(text: string, sequence: number): SequenceToken[] {
    const out: SequenceToken[] = [];
    const pushAdded = (t: AddedToken, start: number, end: number): void => {
      out.push({ id: t.id, piece: t.content, start, end, special: t.special, sequence });
    };
    for (const span of this.rawMatcher.split(text)) {
      if (span.added) {
        pushAdded(span.added, span.start, span.end);
        continue;
      }
      const normalized = this.normalizer(NormalizedString.fromOriginal(text, span.start, span.end));
      for (const part of this.normalizedMatcher.split(normalized.text)) {
        if (part.added) {
          const r = normalized.originalRange(part.start, part.end);
          pushAdded(part.added, r.start, r.end);
          continue;
        }
        const piece = normalized.slice(part.start, part.end);
        for (const word of this.preTokenizer.run([piece])) {
          for (const t of this.model.tokenize(word.text)) {
            const r = word.originalRange(t.start, t.end);
            out.push({ id: t.id, piece: this.model.idToPiece(t.id) ?? '', start: r.start, end: r.end, special: false, sequence });
          }
        }
      }
    }
    return out;
  }

  private findSpecialTokens(tokenizerConfig: Json, specialTokensMap: Json): SpecialTokens {
    const named = (key: string): number | undefined => {
      for (const source of [tokenizerConfig, specialTokensMap]) {
        const v = source?.[key];
        const content = typeof v === 'string' ? v : typeof v?.content === 'string' ? v.content : undefined;
        if (content !== undefined) {
          const id = this.tokenToId(content);
          if (id !== undefined) return id;
        }
      }
      return undefined;
    };
    const known = (...pieces: string[]): number | undefined => {
      for (const p of pieces) {
        const id = this.tokenToId(p);
        if (id !== undefined) return id;
      }
      return undefined;
    };
    const single = this.template.single;
    const around =
      single.length === 3 && single[0].kind === 'special' && single[1].kind === 'sequence' && single[2].kind === 'special'
        ? { cls: single[0].ids[0], sep: single[2].ids[0] }
        : undefined;
    const special: SpecialTokens = {
      cls: named('cls_token') ?? known('[CLS]') ?? around?.cls,
      sep: named('sep_token') ?? known('[SEP]') ?? around?.sep,
      mask: named('mask_token') ?? known('[MASK]', '<mask>'),
      pad: named('pad_token') ?? known('[PAD]', '<pad>'),
      bos: named('bos_token') ?? known('<s>', '<|begin_of_text|>', '<|endoftext|>'),
      eos: named('eos_token') ?? known('</s>', '<|end_of_text|>', '<|endoftext|>'),
      unk: named('unk_token') ?? this.model.unkId ?? known('[UNK]', '<unk>'),
    };
    for (const key of Object.keys(special) as Array<keyof SpecialTokens>) if (special[key] === undefined) delete special[key];
    return special;
  }
}
