import { BYTE_TO_CHAR } from './byteLevelAlphabet';

/** What a trimmed tokenizer keeps (see {@link trimTokenizer}). */
export interface TrimKeep {
  /** Ids below this are kept. Default 0. */
  first?: number;
  /**
   * Vocabulary pieces to keep, spelled as the vocabulary spells them (`good`, `##ing`, `Ġgood`, `[MASK]`).
   * For BPE, the characters and pieces the merges build a listed piece through are kept too, so the listed
   * piece still comes out whole. A piece the vocabulary does not have is an error.
   */
  words?: string[];
  /**
   * Single characters kept, each also with its continuing form where the model has one (WordPiece: `##a`),
   * so that any text made of them still tokenizes without unknown tokens. Default: printable ASCII.
   */
  characters?: string;
}

/** The characters `!` to `~`. */
const PRINTABLE_ASCII = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i)).join('');

/**
 * Returns a copy of a `tokenizer.json` with a smaller vocabulary, for small test models built on a real
 * tokenizer.
 *
 * With a number, the vocabulary keeps only ids below `keep`, which keep their values: WordPiece and BPE keep
 * those ids; BPE merges survive only when both parts and the merged piece are kept; Unigram keeps the first
 * entries; added tokens with dropped ids are removed.
 *
 * With a {@link TrimKeep}, it keeps ids below `first`, the listed `words` (for BPE with the characters and
 * pieces their merges pass through) and `characters`, and always the unknown token, the post-processor's
 * special tokens, the padding token, and for byte-level BPE the 256 byte symbols (byte-fallback BPE: the
 * `<0xNN>` pieces).
 * The kept entries are renumbered densely in their original id order; added tokens, the post-processor's
 * ids, the padding id and Unigram's `unk_id` follow, and BPE merges survive when both parts and the merged
 * piece are kept.
 */
export function trimTokenizer(json: any, keep: number | TrimKeep): any {
  return typeof keep === 'number' ? trimFirst(json, keep) : trimTo(json, keep);
}

function trimFirst(json: any, keepFirst: number): any {
  const copy = JSON.parse(JSON.stringify(json));
  const model = copy.model ?? {};
  if (Array.isArray(model.vocab)) {
    model.vocab = model.vocab.slice(0, keepFirst);
  } else if (model.vocab && typeof model.vocab === 'object') {
    const kept: Record<string, number> = {};
    for (const [piece, id] of Object.entries(model.vocab as Record<string, number>)) if (id < keepFirst) kept[piece] = id;
    model.vocab = kept;
    if (Array.isArray(model.merges)) model.merges = model.merges.filter((m: Merge) => mergeKept(m, kept, model.continuing_subword_prefix ?? ''));
  }
  if (Array.isArray(copy.added_tokens)) copy.added_tokens = copy.added_tokens.filter((t: { id: number }) => t.id < keepFirst);
  return copy;
}

type Merge = string | [string, string];

function mergeParts(m: Merge): [string, string] {
  if (typeof m !== 'string') return m;
  const [a, b] = m.split(' ');
  return [a, b];
}

function merged(a: string, b: string, prefix: string): string {
  return a + (prefix && b.startsWith(prefix) ? b.slice(prefix.length) : b);
}

function mergeKept(m: Merge, kept: Record<string, number>, prefix: string): boolean {
  const [a, b] = mergeParts(m);
  return a in kept && b in kept && merged(a, b, prefix) in kept;
}

function trimTo(json: any, keep: TrimKeep): any {
  const copy = JSON.parse(JSON.stringify(json));
  const model = copy.model ?? {};
  const type: string = model.type ?? (Array.isArray(model.vocab) ? 'Unigram' : Array.isArray(model.merges) ? 'BPE' : 'WordPiece');

  // Every id the tokenizer knows: model vocabulary and added tokens.
  const idOf = new Map<string, number>();
  if (type === 'Unigram') (model.vocab as [string, number][]).forEach(([piece], id) => idOf.set(piece, id));
  else for (const [piece, id] of Object.entries((model.vocab ?? {}) as Record<string, number>)) idOf.set(piece, id);
  const added: { id: number; content: string }[] = Array.isArray(copy.added_tokens) ? copy.added_tokens : [];
  for (const t of added) if (!idOf.has(t.content)) idOf.set(t.content, t.id);
  const universe = new Set(idOf.values());

  const kept = new Set<number>();
  const first = keep.first ?? 0;
  for (const id of universe) if (id < first) kept.add(id);
  const keepPiece = (piece: string | undefined | null, required: string): void => {
    if (piece === undefined || piece === null) return;
    const id = idOf.get(piece);
    if (id === undefined) throw new Error(`trimTokenizer: ${required} "${piece}" is not in the vocabulary`);
    kept.add(id);
  };
  const keepIfPresent = (piece: string): void => {
    const id = idOf.get(piece);
    if (id !== undefined) kept.add(id);
  };

  for (const w of keep.words ?? []) keepPiece(w, 'the word');
  const prefix: string = type === 'WordPiece' ? (model.continuing_subword_prefix ?? '##') : type === 'BPE' ? (model.continuing_subword_prefix ?? '') : '';
  for (const c of keep.characters ?? PRINTABLE_ASCII) {
    keepIfPresent(c);
    if (prefix) keepIfPresent(prefix + c);
  }
  if (type === 'BPE') {
    const suffix: string = model.end_of_word_suffix ?? '';
    const ranks = new Map<string, number>();
    (model.merges as Merge[]).forEach((m, rank) => {
      const [a, b] = mergeParts(m);
      const key = `${a} ${b}`;
      if (!ranks.has(key)) ranks.set(key, rank);
    });
    const addedContents = new Set(added.map((t) => t.content));
    for (const w of keep.words ?? []) {
      if (!addedContents.has(w)) for (const piece of bpeSteps(w, ranks, prefix, suffix)) keepIfPresent(piece);
    }
    if (model.unk_token) keepPiece(model.unk_token, 'the unknown token');
    if (isByteLevel(copy)) for (const c of BYTE_TO_CHAR) keepIfPresent(c);
    if (model.byte_fallback) for (let b = 0; b < 256; b++) keepIfPresent(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
  } else {
    if (type === 'WordPiece') keepPiece(model.unk_token ?? '[UNK]', 'the unknown token');
    if (type === 'Unigram' && typeof model.unk_id === 'number') kept.add(model.unk_id);
  }
  for (const id of postProcessorIds(copy.post_processor)) {
    if (!universe.has(id)) throw new Error(`trimTokenizer: the post-processor's id ${id} is not in the vocabulary`);
    kept.add(id);
  }
  if (copy.padding && typeof copy.padding.pad_id === 'number' && universe.has(copy.padding.pad_id)) kept.add(copy.padding.pad_id);

  // Dense renumbering in original id order.
  const newId = new Map<number, number>();
  [...kept].sort((a, b) => a - b).forEach((id, i) => newId.set(id, i));
  const remap = (id: number): number => {
    const n = newId.get(id);
    if (n === undefined) throw new Error(`trimTokenizer: id ${id} is not kept`);
    return n;
  };

  if (type === 'Unigram') {
    model.vocab = (model.vocab as [string, number][]).filter((_, id) => newId.has(id));
    if (typeof model.unk_id === 'number') model.unk_id = remap(model.unk_id);
  } else {
    const vocab: Record<string, number> = {};
    const entries = Object.entries((model.vocab ?? {}) as Record<string, number>).filter(([, id]) => newId.has(id));
    entries.sort((a, b) => a[1] - b[1]);
    for (const [piece, id] of entries) vocab[piece] = remap(id);
    model.vocab = vocab;
    if (Array.isArray(model.merges)) model.merges = model.merges.filter((m: Merge) => mergeKept(m, vocab, model.continuing_subword_prefix ?? ''));
  }
  if (Array.isArray(copy.added_tokens)) {
    copy.added_tokens = copy.added_tokens.filter((t: { id: number }) => newId.has(t.id)).map((t: { id: number }) => ({ ...t, id: remap(t.id) }));
  }
  if (copy.post_processor) copy.post_processor = remapPostProcessor(copy.post_processor, remap);
  if (copy.padding && typeof copy.padding.pad_id === 'number' && newId.has(copy.padding.pad_id)) copy.padding.pad_id = remap(copy.padding.pad_id);
  return copy;
}

/**
 * The symbols BPE starts `piece` from and the pieces it passes through when it merges them with these
 * ranks, the last one normally `piece` itself. The merges inside one output piece do not depend on its
 * neighbours, so these are exactly the merges that make `piece` in any text where it comes out whole.
 */
function bpeSteps(piece: string, ranks: Map<string, number>, prefix: string, suffix: string): string[] {
  let body = piece;
  const continuing = prefix !== '' && body.startsWith(prefix) && body.length > prefix.length;
  if (continuing) body = body.slice(prefix.length);
  const ending = suffix !== '' && body.endsWith(suffix) && body.length > suffix.length;
  if (ending) body = body.slice(0, -suffix.length);
  const chars = [...body];
  const symbols = chars.map((c, i) => (prefix && (i > 0 || continuing) ? prefix : '') + c + (ending && i === chars.length - 1 ? suffix : ''));
  const steps: string[] = [...symbols];
  for (;;) {
    let best = -1;
    let bestRank = Infinity;
    for (let i = 0; i + 1 < symbols.length; i++) {
      const rank = ranks.get(`${symbols[i]} ${symbols[i + 1]}`);
      if (rank !== undefined && rank < bestRank) {
        bestRank = rank;
        best = i;
      }
    }
    if (best < 0) return steps;
    const m = merged(symbols[best], symbols[best + 1], prefix);
    symbols.splice(best, 2, m);
    steps.push(m);
  }
}

function isByteLevel(json: any): boolean {
  const has = (c: any): boolean => !!c && (c.type === 'ByteLevel' || (Array.isArray(c.pretokenizers) && c.pretokenizers.some(has)));
  return has(json.pre_tokenizer) || json.decoder?.type === 'ByteLevel';
}

/** Ids the post-processor adds (TemplateProcessing, BertProcessing, RobertaProcessing, Sequence). */
function postProcessorIds(p: any): number[] {
  if (!p || typeof p !== 'object') return [];
  if (p.type === 'Sequence') return (p.processors ?? []).flatMap(postProcessorIds);
  if (p.type === 'TemplateProcessing') return Object.values((p.special_tokens ?? {}) as Record<string, { ids?: number[] }>).flatMap((t) => t.ids ?? []);
  if (p.type === 'BertProcessing' || p.type === 'RobertaProcessing') return [p.sep?.[1], p.cls?.[1]].filter((id): id is number => typeof id === 'number');
  return [];
}

function remapPostProcessor(p: any, remap: (id: number) => number): any {
  if (!p || typeof p !== 'object') return p;
  if (p.type === 'Sequence') return { ...p, processors: (p.processors ?? []).map((q: any) => remapPostProcessor(q, remap)) };
  if (p.type === 'TemplateProcessing' && p.special_tokens) {
    const special: Record<string, any> = {};
    for (const [name, t] of Object.entries(p.special_tokens as Record<string, { ids?: number[] }>)) special[name] = { ...t, ids: (t.ids ?? []).map(remap) };
    return { ...p, special_tokens: special };
  }
  if (p.type === 'BertProcessing' || p.type === 'RobertaProcessing') {
    const out = { ...p };
    for (const key of ['sep', 'cls']) if (Array.isArray(p[key]) && typeof p[key][1] === 'number') out[key] = [p[key][0], remap(p[key][1])];
    return out;
  }
  return p;
}
