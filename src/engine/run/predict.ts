import type { Candidate, Prediction, ResolvedTarget, TargetSpec } from '../../protocol/engineApi';
import type { LoadedModel, PreparedInput } from '../model/loadedModel';
import { BadInputError } from '../process/engineErrors';
import { tokenNames } from '../text/tokenNames';
import { truncateBase, unperturbedRow } from './inputVariants';
import { logitsExtractor, topCandidates } from './outputReaders';

/** Positions of [MASK] tokens in the input. */
export function maskPositions(model: LoadedModel, input: PreparedInput): number[] {
  const mask = model.tokenizer.special.mask;
  if (mask === undefined) return [];
  return input.encoding.ids.flatMap((id, i) => (id === mask ? [i] : []));
}

/**
 * The [MASK] a spec picks: `mask` counts the masks of the text (0 = the first), `maskIndex` is a token
 * index; default the first. Throws BadInputError naming the masks there are when the one asked for is not.
 */
export function chosenMask(masks: readonly number[], spec: TargetSpec): number {
  const list = `the text has ${masks.length} [MASK]${masks.length === 1 ? '' : 's'}${masks.length ? ` (at tokens ${masks.join(', ')})` : ''}`;
  if (spec.mask !== undefined) {
    if (!Number.isInteger(spec.mask) || spec.mask < 0 || spec.mask >= masks.length) {
      throw new BadInputError(`Mask ${spec.mask} does not exist: ${list}; masks are counted from 0.`);
    }
    return masks[spec.mask];
  }
  if (spec.maskIndex !== undefined) {
    if (!masks.includes(spec.maskIndex)) throw new BadInputError(`Token ${spec.maskIndex} is not a [MASK]: ${list}.`);
    return spec.maskIndex;
  }
  return masks[0];
}

/**
 * The token position a causal LM's prediction is read at: `spec.position` (the next token after that
 * token), else the last token. Throws BadInputError for a position outside the text.
 */
export function chosenPosition(input: PreparedInput, spec: TargetSpec): number {
  const n = input.encoding.ids.length;
  if (spec.position === undefined) return n - 1;
  if (!Number.isInteger(spec.position) || spec.position < 0 || spec.position >= n) {
    throw new BadInputError(`Position ${spec.position} does not exist: the text has ${n} tokens (positions 0–${n - 1}).`);
  }
  return spec.position;
}

async function logitsAt(model: LoadedModel, input: PreparedInput, spec: Parameters<typeof logitsExtractor>[0], length?: number): Promise<Float32Array> {
  const base = truncateBase(input.baseInput(new Set()), length ?? input.encoding.ids.length);
  const row = unperturbedRow(base);
  const r = await model.evaluatorFor(input).evaluate([row], logitsExtractor(spec));
  return r.values[0];
}

function tokenLabel(model: LoadedModel) {
  const names = tokenNames(model.tokenizer);
  return (id: number) => names.name(id);
}

/** What the model predicts for a prepared input (at the mask or position the spec picks). */
export async function predictPrepared(model: LoadedModel, input: PreparedInput, topK = 10, spec: TargetSpec = {}): Promise<Prediction> {
  const task = model.card.task;
  switch (task) {
    case 'sequence-classification': {
      const logits = await logitsAt(model, input, { task });
      const labels = model.card.labels ?? [];
      const candidates = topCandidates(logits, logits.length, (id) => labels[id] ?? `LABEL_${id}`);
      return { task, candidates, encoded: input.encoded };
    }
    case 'masked-lm': {
      const positions = maskPositions(model, input);
      if (positions.length === 0) {
        const maskText = model.tokenizer.idToPiece(model.tokenizer.special.mask ?? -1) ?? '[MASK]';
        throw new BadInputError(
          `This is a fill-mask model and the text has no ${maskText}. Write ${maskText} where a word should be predicted, e.g. "the movie was ${maskText}."`,
        );
      }
      const chosenAt = chosenMask(positions, spec);
      const masks: { tokenIndex: number; candidates: Candidate[] }[] = [];
      for (const p of positions) {
        const logits = await logitsAt(model, input, { task, maskTokenIndex: p });
        masks.push({ tokenIndex: p, candidates: topCandidates(logits, topK, tokenLabel(model)) });
      }
      const chosen = masks.find((m) => m.tokenIndex === chosenAt) ?? masks[0];
      return { task, candidates: chosen.candidates, masks, encoded: input.encoded };
    }
    case 'causal-lm': {
      // Causal attention: the prediction after token P depends on tokens 0…P only.
      const logits = await logitsAt(model, input, { task }, chosenPosition(input, spec) + 1);
      return { task, candidates: topCandidates(logits, topK, tokenLabel(model)), encoded: input.encoded };
    }
    case 'seq2seq': {
      const generated = input.generated ?? [];
      const k = Math.min(Math.max(0, spec.outputIndex ?? 0), Math.max(0, generated.length - 1));
      const logits = await logitsAt(model, input, { task, decoderPosition: k });
      return {
        task,
        candidates: topCandidates(logits, topK, tokenLabel(model)),
        generated: { text: model.tokenizer.decode(generated, true), tokens: input.decoderTokens ?? [] },
        encoded: input.encoded,
      };
    }
    default:
      throw new BadInputError(
        `This model's task is "${task}": it has no class, masked-token or next-token output to explain. Open a classifier, a fill-mask, a causal or a text-to-text model.`,
      );
  }
}

/** What a name given as a target or contrast stands for: one token or several, and how it was read. */
interface NamedOutput {
  ids: number[];
  /** The name shown: a class label, a token's name, or the text of several tokens. */
  label: string;
  /** How the name was read, when the user should hear it. */
  note?: string;
}

const quoted = (s: string) => JSON.stringify(s);

/** A class label or index → its class. */
function resolveClass(model: LoadedModel, name: string | number, what: 'target' | 'contrast'): NamedOutput {
  const labels = model.card.labels ?? [];
  const n = labels.length;
  const byLabel = typeof name === 'string' ? labels.findIndex((l) => l.toLowerCase() === name.toLowerCase()) : -1;
  const asIndex = typeof name === 'number' ? name : /^\d+$/.test(name) ? Number(name) : -1;
  const id = byLabel >= 0 ? byLabel : asIndex;
  if (id < 0 || id >= n || !Number.isInteger(id)) {
    throw new BadInputError(
      `The ${what} class "${name}" does not exist: this model has ${n} classes (${labels.map((l, i) => `${i} ${l}`).join(', ')}). Name one of them.`,
    );
  }
  return { ids: [id], label: labels[id] };
}

/**
 * A token named by the user → its id: a name as predictions show it (` g`, `##ing`), a raw vocabulary
 * piece (`▁g`, `Ġg`), `id:N` or a number; anything else is read as text, which may be several tokens
 * (a word). The note says which token was chosen when the name was not exactly its name, and which
 * other token the same letters could have meant (the word after a space, a word-initial piece).
 */
function resolveTokens(model: LoadedModel, name: string | number, what: 'target' | 'contrast'): NamedOutput {
  const tok = model.tokenizer;
  const names = tokenNames(tok);
  const vocab = model.card.vocabSize.value > 0 ? model.card.vocabSize.value : tok.vocabSize;
  if (typeof name === 'number') {
    if (!Number.isInteger(name) || name < 0 || name >= vocab) throw new BadInputError(`Token id ${name} is outside the vocabulary (0–${vocab - 1}).`);
    return { ids: [name], label: names.name(name) };
  }
  if (/^id:\d+$/.test(name) && names.lookup(name) === undefined) throw new BadInputError(`Token ${name} is outside the vocabulary (id:0–id:${vocab - 1}).`);
  const id = names.lookup(name);
  if (id !== undefined) {
    const label = names.name(id);
    const notes: string[] = [];
    if (label !== name) notes.push(`The ${what} ${quoted(name)} is the token ${quoted(label)} (id ${id}).`);
    for (const other of otherReadings(label, tok.kind)) {
      const otherId = names.lookup(other);
      if (otherId !== undefined && otherId !== id) {
        notes.push(`${quoted(label)} (id ${id}) is explained; ${quoted(other)} (id ${otherId}) is another token — name it to explain that one.`);
      }
    }
    return { ids: [id], label, note: notes.join(' ') || undefined };
  }
  const ids = tok.encode(name, { addSpecialTokens: false }).ids;
  const unknown = tok.special.unk;
  if (ids.length === 0 || (unknown !== undefined && ids.includes(unknown))) {
    const pieces = ids.map((i) => quoted(names.name(i))).join(' ');
    throw new BadInputError(
      `The ${what} token ${quoted(name)} is not in the vocabulary${ids.length ? ` (as text it is ${pieces})` : ''}. Name a token as predictions show it, a vocabulary piece, or id:N.`,
    );
  }
  const labels = ids.map((i) => names.name(i));
  if (ids.length === 1) {
    return { ids, label: labels[0], note: `${quoted(name)} is not a token name; as text it is the token ${quoted(labels[0])} (id ${ids[0]}), which is explained.` };
  }
  return { ids, label: name, note: `${quoted(name)} is ${ids.length} tokens: ${labels.map(quoted).join(' ')} (ids ${ids.join(', ')}).` };
}

/** The same letters as another token: after a space (byte-level BPE, SentencePiece), or word-initial vs continuing (WordPiece). */
function otherReadings(label: string, kind: string): string[] {
  if (kind === 'wordpiece') return label.startsWith('##') ? [label.slice(2)] : [`##${label}`];
  return label.startsWith(' ') ? [label.slice(1)] : [` ${label}`];
}

function resolveName(model: LoadedModel, name: string | number, what: 'target' | 'contrast'): NamedOutput {
  return model.card.task === 'sequence-classification' ? resolveClass(model, name, what) : resolveTokens(model, name, what);
}

/**
 * Turns the caller's target spec into the output being explained (default: the prediction). A target of
 * several tokens (a word the vocabulary splits) is allowed where `severalTokens` says the caller can read
 * it (explanations): its value is the sum of the tokens' log-probabilities, teacher-forced.
 */
export function resolveTarget(model: LoadedModel, input: PreparedInput, prediction: Prediction, spec: TargetSpec, options: { severalTokens?: boolean } = {}): ResolvedTarget {
  const task = model.card.task;
  const top = prediction.candidates[0];
  const named = spec.target !== undefined && spec.target !== '' ? resolveName(model, spec.target, 'target') : undefined;
  const chosen: NamedOutput = named ?? { ids: [top.id], label: top.label };
  const contrast = spec.contrast !== undefined && spec.contrast !== '' ? resolveName(model, spec.contrast, 'contrast') : undefined;
  const several = chosen.ids.length > 1;
  if (several && !options.severalTokens) {
    throw new BadInputError(`The target ${quoted(String(spec.target))} is ${chosen.ids.length} tokens; this analysis measures one token. Name a single token (${chosen.note ?? ''}) or explain it instead.`);
  }
  if (contrast && (several || contrast.ids.length > 1)) {
    throw new BadInputError(
      `A contrast compares the logits of two single tokens, and ${several ? `the target ${quoted(chosen.label)}` : `the contrast ${quoted(contrast.label)}`} is several tokens (${(several ? chosen : contrast).note ?? ''}). Drop the contrast, or name single tokens.`,
    );
  }
  if (contrast && contrast.ids[0] === chosen.ids[0]) {
    throw new BadInputError(`The contrast "${contrast.label}" is the target itself; choose a different class or token to contrast with.`);
  }
  const id = chosen.ids[0];
  const vs = contrast ? ` vs ${contrast.label}` : '';
  const note = [chosen.note, contrast?.note].filter((n): n is string => n !== undefined).join(' ') || undefined;
  const common = {
    contrastId: contrast?.ids[0],
    contrastLabel: contrast?.label,
    ...(several ? { tokenIds: chosen.ids } : {}),
    ...(note ? { note } : {}),
  };
  const sum = `sum of the log-probabilities of its ${chosen.ids.length} tokens`;
  const value = several ? `${sum}, teacher-forced` : 'logit';
  const tokenOf = (label: string, tokenId: number) => (several ? `"${label}"` : `"${label}" (id ${tokenId})`);
  switch (task) {
    case 'sequence-classification':
      return { kind: 'class', id, label: chosen.label, ...common, description: `class ${chosen.label}${vs} (logit)` };
    case 'masked-lm': {
      const position = chosenMask(maskPositions(model, input), spec);
      const where = several ? `at the [MASK]s, tokens ${position}–${position + chosen.ids.length - 1} (${sum})` : `at the mask, token ${position} (logit)`;
      return { kind: 'masked-token', id, label: chosen.label, ...common, position, description: `${tokenOf(chosen.label, id)}${vs} ${where}` };
    }
    case 'causal-lm': {
      const position = spec.position !== undefined ? chosenPosition(input, spec) : undefined;
      const where = position !== undefined ? ` after token ${position}` : '';
      return { kind: 'next-token', id, label: chosen.label, ...common, ...(position !== undefined ? { position } : {}), description: `next token${several ? 's' : ''} ${tokenOf(chosen.label, id)}${vs}${where} (${value})` };
    }
    default: {
      const generated = input.generated ?? [];
      if (generated.length === 0) throw new BadInputError('The model generated no output token to explain.');
      const k = spec.outputIndex ?? 0;
      if (!Number.isInteger(k) || k < 0 || k >= generated.length) {
        throw new BadInputError(`Output token ${k} does not exist: the model generated ${generated.length} tokens (0–${generated.length - 1}).`);
      }
      const outId = named ? id : generated[k];
      const label = named ? chosen.label : tokenNames(model.tokenizer).name(outId);
      return {
        kind: 'output-token',
        id: outId,
        label,
        ...common,
        position: k,
        description: `output token${several ? 's' : ''} ${k}${several ? `–${k + chosen.ids.length - 1}` : ''} ${tokenOf(label, outId)}${vs} (${several ? value : 'logit, teacher-forced'})`,
      };
    }
  }
}
