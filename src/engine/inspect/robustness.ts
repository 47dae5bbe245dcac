import type { PerturbationKind, ResolvedTarget, RobustnessParams, RobustnessResult, RobustnessVariant } from '../../protocol/engineApi';
import { spearman } from '../explain/agreement';
import { SeededRandom } from '../explain/random';
import type { LoadedModel, PreparedInput } from '../model/loadedModel';
import { BadInputError } from '../process/engineErrors';
import type { RequestContext } from '../process/requestContext';
import { type RowExtractor } from '../run/batchedEvaluator';
import { CancelledError } from '../run/cancellation';
import { argmax } from '../generate/sampling';
import { unperturbedRow, type InputRow } from '../run/inputVariants';
import { readPosition, rowLogits, softmax, type ReadSpec } from '../run/outputReaders';
import { predictPrepared, resolveTarget } from '../run/predict';
import { throttledProgress } from './progress';
import { NEUTRAL_WORDS, synonymOf } from './synonyms';
import { wordAttributions, type PerturbationMethod, type WordFeature } from './wordAttributions';

export const ALL_PERTURBATIONS: readonly PerturbationKind[] = ['delete', 'swap', 'insert', 'synonym', 'char-noise'];
const DEFAULT_MAX_VARIANTS = 30;
/** Hard cap on variants, whatever the caller asks: each costs a prediction and, with a method, an explanation. */
export const MAX_VARIANTS = 500;

/** A word of the original text: its span (UTF-16) and text. */
export interface SpanWord {
  text: string;
  start: number;
  end: number;
}

/** One edit of the text, with where each original word ends up in the edited text. */
export interface TextEdit {
  kind: PerturbationKind;
  text: string;
  edit: string;
  start: number;
  end: number;
  /** For each original word index, its span in the edited text; undefined when the edit changed or removed it. */
  moved: (SpanWord | undefined)[];
}

const LETTERS = /^[\p{L}][\p{L}'’-]*$/u;

/** Rebuilds the word map for an edit that replaces [from, to) of the text with `insert`. */
function replaceRange(text: string, words: SpanWord[], from: number, to: number, insert: string, kind: PerturbationKind, edit: string, changed: Set<number>): TextEdit {
  const out = text.slice(0, from) + insert + text.slice(to);
  const shift = insert.length - (to - from);
  const moved = words.map((w, i) => {
    if (changed.has(i) || (w.start < to && w.end > from)) return undefined;
    const d = w.start >= to ? shift : 0;
    return { text: w.text, start: w.start + d, end: w.end + d };
  });
  return { kind, text: out, edit, start: from, end: to, moved };
}

/** Swaps/drops/duplicates one letter of a word (seeded), never the first letter, so the word stays recognisable. */
function noisyWord(word: string, rng: SeededRandom): { word: string; what: string } {
  const op = rng.nextInt(3);
  const i = 1 + rng.nextInt(Math.max(1, word.length - 1));
  if (op === 0 && i + 1 < word.length) return { word: word.slice(0, i) + word[i + 1] + word[i] + word.slice(i + 2), what: 'swapped two letters of' };
  if (op === 1 && word.length > 3) return { word: word.slice(0, i) + word.slice(i + 1), what: 'dropped a letter of' };
  const j = Math.min(i, word.length - 1);
  return { word: word.slice(0, j) + word[j] + word.slice(j), what: 'doubled a letter of' };
}

/**
 * Candidate edits of a text, reproducible for a seed: deletion of a word, swapping two neighbouring words,
 * inserting a neutral word, replacing a word by a synonym from the built-in list, and character noise in a
 * word. Then a seeded shuffle per kind and a round-robin over the kinds up to `max`, so every kind is
 * represented before any kind gets a second variant.
 */
export function generateEdits(text: string, words: SpanWord[], kinds: readonly PerturbationKind[], max: number, seed: number): TextEdit[] {
  const rng = new SeededRandom(seed);
  const alpha = words.map((w) => LETTERS.test(w.text));
  const perKind = new Map<PerturbationKind, TextEdit[]>();
  for (const kind of kinds) {
    const edits: TextEdit[] = [];
    words.forEach((w, i) => {
      switch (kind) {
        case 'delete': {
          if (!alpha[i] || words.length < 2) return;
          // Take one neighbouring space with the word, so no double space is left behind.
          let from = w.start;
          let to = w.end;
          if (text[to] === ' ') to++;
          else if (from > 0 && text[from - 1] === ' ') from--;
          edits.push(replaceRange(text, words, from, to, '', kind, `deleted "${w.text}"`, new Set([i])));
          return;
        }
        case 'swap': {
          const n = words[i + 1];
          if (!n || !alpha[i] || !alpha[i + 1] || n.text.toLowerCase() === w.text.toLowerCase()) return;
          const gap = text.slice(w.end, n.start);
          const out = text.slice(0, w.start) + n.text + gap + w.text + text.slice(n.end);
          const moved = words.map((x, j) => {
            if (j === i) return { text: x.text, start: w.start + n.text.length + gap.length, end: w.start + n.text.length + gap.length + w.text.length };
            if (j === i + 1) return { text: x.text, start: w.start, end: w.start + n.text.length };
            return { ...x };
          });
          edits.push({ kind, text: out, edit: `swapped "${w.text}" and "${n.text}"`, start: w.start, end: n.end, moved });
          return;
        }
        case 'insert': {
          // Only before a word that starts a written word (after a space, an opening bracket or quote, or at the
          // start): before punctuation or inside "don't" the inserted word would be glued on ("timestill ,").
          const before = w.start > 0 ? text[w.start - 1] : ' ';
          if (!alpha[i] || !/[\s([{"“«„‘]/u.test(before)) return;
          const word = NEUTRAL_WORDS[rng.nextInt(NEUTRAL_WORDS.length)];
          const capital = i === 0 && /\p{Lu}/u.test(w.text[0] ?? '');
          const insert = capital ? `${word[0].toUpperCase()}${word.slice(1)} ${w.text[0].toLowerCase()}${w.text.slice(1)}` : `${word} ${w.text}`;
          edits.push(replaceRange(text, words, w.start, w.end, insert, kind, `inserted "${word}" before "${w.text}"`, capital ? new Set([i]) : new Set()));
          // The word itself survives (unless re-cased): it is the tail of the inserted text.
          const e = edits[edits.length - 1];
          if (!capital) e.moved[i] = { text: w.text, start: w.start + word.length + 1, end: w.end + word.length + 1 };
          return;
        }
        case 'synonym': {
          const s = alpha[i] ? synonymOf(w.text) : undefined;
          if (!s) return;
          edits.push(replaceRange(text, words, w.start, w.end, s, kind, `replaced "${w.text}" by "${s}"`, new Set([i])));
          return;
        }
        case 'char-noise': {
          if (!alpha[i] || w.text.length < 3) return;
          const noisy = noisyWord(w.text, rng);
          if (noisy.word === w.text) return;
          edits.push(replaceRange(text, words, w.start, w.end, noisy.word, kind, `${noisy.what} "${w.text}" → "${noisy.word}"`, new Set([i])));
          return;
        }
      }
    });
    // Fisher–Yates with the seeded generator.
    for (let j = edits.length - 1; j > 0; j--) {
      const k = rng.nextInt(j + 1);
      [edits[j], edits[k]] = [edits[k], edits[j]];
    }
    perKind.set(kind, edits);
  }
  const out: TextEdit[] = [];
  const seen = new Set<string>([text]);
  for (let round = 0; out.length < max; round++) {
    let any = false;
    for (const kind of kinds) {
      const e = perKind.get(kind)?.[round];
      if (!e) continue;
      any = true;
      if (seen.has(e.text) || out.length >= max) continue;
      seen.add(e.text);
      out.push(e);
    }
    if (!any) break;
  }
  return out;
}

/** Output probabilities for several prepared texts in one call to the batched evaluator. */
async function probabilities(model: LoadedModel, items: { input: PreparedInput; spec: ReadSpec }[], isCancelled: () => boolean): Promise<Float64Array[]> {
  const specs = new Map<InputRow, ReadSpec>();
  const rows = items.map(({ input, spec }) => {
    const base = input.baseInput(new Set());
    const row = unperturbedRow(base);
    specs.set(row, spec);
    return row;
  });
  // Rows of different texts carry their own read position (the [MASK] index differs between variants).
  const extractor: RowExtractor<Float64Array> = {
    key: 'robustness:probabilities',
    readPosition: (row) => readPosition(specs.get(row) as ReadSpec, row),
    extract: (outputs, b, row) => {
      const spec = specs.get(row) as ReadSpec;
      return softmax(rowLogits(outputs, b, spec, row));
    },
  };
  if (items.length === 0) return [];
  return (await model.evaluatorFor(items[0].input).evaluate(rows, extractor, { isCancelled })).values;
}

/**
 * How predictions and explanations move under small edits of the text (word deletion, neighbour swap,
 * neutral insertion, synonym replacement, character noise): per variant the prediction, whether the top
 * label flips, how far the probabilities move, and the rank agreement of the per-word attributions with the
 * original's on the words both texts share (matched by where each original word went). Seeded and
 * budgeted.
 */
export async function robustness(model: LoadedModel, params: RobustnessParams, ctx: RequestContext): Promise<RobustnessResult> {
  if (model.isSeq2seq) {
    throw new BadInputError('Robustness checks are available for classifiers and fill-mask and causal models; a text-to-text model generates a different output for each variant.');
  }
  const seed = Number.isFinite(params.seed) ? Math.trunc(params.seed as number) : 0;
  const kinds = params.kinds && params.kinds.length ? params.kinds : ALL_PERTURBATIONS;
  const unknown = kinds.filter((k) => !ALL_PERTURBATIONS.includes(k));
  if (unknown.length) throw new BadInputError(`Unknown perturbation "${unknown[0]}". Use: ${ALL_PERTURBATIONS.join(', ')}.`);
  const max = Math.min(MAX_VARIANTS, Math.max(1, Math.trunc(params.maxVariants ?? DEFAULT_MAX_VARIANTS)));
  const method = params.method ?? 'occlusion';

  const input = await model.prepare(params.text);
  const prediction = await predictPrepared(model, input, 10, params);
  const target: ResolvedTarget = resolveTarget(model, input, prediction, params);
  const label = (id: number) => (model.card.task === 'sequence-classification' ? (model.card.labels?.[id] ?? `LABEL_${id}`) : model.tokenizer.displayToken(id));
  const words: SpanWord[] = input.encoded.words.map((w) => ({ text: w.text, start: w.start, end: w.end }));
  const edits = generateEdits(params.text, words, kinds, max, seed);

  // Variants must keep what the target is read at; a fill-mask text must keep its [MASK].
  const prepared: { edit: TextEdit; input: PreparedInput; spec: ReadSpec }[] = [];
  for (const edit of edits) {
    let v: PreparedInput;
    try {
      v = await model.prepare(edit.text);
    } catch {
      continue;
    }
    const maskId = model.tokenizer.special.mask;
    if (model.card.task === 'masked-lm' && (maskId === undefined || !v.encoding.ids.includes(maskId))) continue;
    prepared.push({ edit, input: v, spec: v.readSpec(undefined) });
  }
  const probs = await probabilities(model, [{ input, spec: input.readSpec(target) }, ...prepared.map((p) => ({ input: p.input, spec: p.spec }))], ctx.isCancelled);
  const p0 = probs[0];
  const top0 = argmax(p0);
  let evaluations = 1 + prepared.length;

  let original: { values: Float64Array; words: WordFeature[] } | undefined;
  const attributionOptions = { method: method as PerturbationMethod, budget: params.budget, seed, isCancelled: ctx.isCancelled };
  if (method !== 'none') {
    const a = await wordAttributions(model, input, target, attributionOptions);
    original = { values: a.values, words: a.words };
    evaluations += a.evaluations;
  }

  const variants: RobustnessVariant[] = [];
  const progress = throttledProgress(ctx);
  for (let i = 0; i < prepared.length; i++) {
    if (ctx.isCancelled()) throw new CancelledError();
    const { edit, input: v } = prepared[i];
    const p = probs[i + 1];
    const top = argmax(p);
    let tv = 0;
    for (let j = 0; j < p.length; j++) tv += Math.abs(p[j] - p0[j]);
    const variant: RobustnessVariant = {
      text: edit.text,
      kind: edit.kind,
      edit: edit.edit,
      start: edit.start,
      end: edit.end,
      predicted: label(top),
      probability: p[top],
      flipped: top !== top0,
      targetProbabilityChange: p[target.id] - p0[target.id],
      totalVariation: tv / 2,
    };
    if (original) {
      const vt = { ...target, position: model.card.task === 'masked-lm' ? v.readSpec(undefined).maskTokenIndex : target.position };
      const a = await wordAttributions(model, v, vt, attributionOptions);
      evaluations += a.evaluations;
      const at = new Map(a.words.map((w, j) => [`${w.start}:${w.end}`, j]));
      const pairs: [number, number][] = [];
      original.words.forEach((w, j) => {
        // The original word's span in the variant (edited words have none), then the variant's word there.
        const k = words.findIndex((x) => x.start === w.start && x.end === w.end);
        const moved = k >= 0 ? edit.moved[k] : undefined;
        const m = moved ? at.get(`${moved.start}:${moved.end}`) : undefined;
        if (m !== undefined && a.words[m].text === w.text) pairs.push([original!.values[j], a.values[m]]);
      });
      variant.sharedWords = pairs.length;
      if (pairs.length >= 3) {
        const r = spearman(pairs.map((x) => x[0]), pairs.map((x) => x[1]));
        if (Number.isFinite(r)) variant.attributionSpearman = r;
      }
    }
    variants.push(variant);
    progress({ done: i + 1, total: prepared.length, message: `${i + 1} of ${prepared.length} variants` });
  }

  const byKind: RobustnessResult['summary']['byKind'] = {};
  for (const v of variants) {
    const k = (byKind[v.kind] ??= { variants: 0, flips: 0, meanTotalVariation: 0 });
    k.variants++;
    if (v.flipped) k.flips++;
    k.meanTotalVariation += v.totalVariation;
  }
  for (const k of Object.values(byKind)) k.meanTotalVariation /= k.variants;
  const spearmans = variants.map((v) => v.attributionSpearman).filter((x): x is number => x !== undefined);
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, x) => a + x, 0) / xs.length : 0);
  return {
    text: params.text,
    target,
    original: {
      predicted: label(top0),
      probability: p0[top0],
      attributions: original ? original.words.map((w, j) => ({ text: w.text, start: w.start, end: w.end, value: original!.values[j], tokenIndices: w.tokenIndices })) : undefined,
    },
    variants,
    summary: {
      variants: variants.length,
      flipRate: mean(variants.map((v) => (v.flipped ? 1 : 0))),
      meanTotalVariation: mean(variants.map((v) => v.totalVariation)),
      meanAttributionSpearman: spearmans.length ? mean(spearmans) : undefined,
      byKind,
    },
    seed,
    method,
    evaluations,
  };
}
