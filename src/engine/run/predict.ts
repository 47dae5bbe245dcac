import type { Candidate, Prediction, ResolvedTarget, TargetSpec } from '../../protocol/engineApi';
import type { LoadedModel, PreparedInput } from '../model/loadedModel';
import { BadInputError } from '../process/engineErrors';
import { applyRemoval } from './inputVariants';
import { logitsExtractor, topCandidates } from './outputReaders';

/** Positions of [MASK] tokens in the input. */
export function maskPositions(model: LoadedModel, input: PreparedInput): number[] {
  const mask = model.tokenizer.special.mask;
  if (mask === undefined) return [];
  return input.encoding.ids.flatMap((id, i) => (id === mask ? [i] : []));
}

async function logitsAt(model: LoadedModel, input: PreparedInput, spec: Parameters<typeof logitsExtractor>[0]): Promise<Float32Array> {
  const base = input.baseInput(new Set());
  const row = applyRemoval(base, new Uint8Array(base.ids.length).fill(1), 'mask');
  const r = await model.evaluatorFor(input).evaluate([row], logitsExtractor(spec));
  return r.values[0];
}

function tokenLabel(model: LoadedModel) {
  return (id: number) => model.tokenizer.displayToken(id);
}

/** What the model predicts for a prepared input. */
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
      const masks: { tokenIndex: number; candidates: Candidate[] }[] = [];
      for (const p of positions) {
        const logits = await logitsAt(model, input, { task, maskTokenIndex: p });
        masks.push({ tokenIndex: p, candidates: topCandidates(logits, topK, tokenLabel(model)) });
      }
      const chosen = masks.find((m) => m.tokenIndex === spec.maskIndex) ?? masks[0];
      return { task, candidates: chosen.candidates, masks, encoded: input.encoded };
    }
    case 'causal-lm': {
      const logits = await logitsAt(model, input, { task });
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

/** A class label or index, or a token, named by the user → its id. */
function resolveName(model: LoadedModel, name: string | number, what: 'target' | 'contrast'): { id: number; label: string } {
  const task = model.card.task;
  if (task === 'sequence-classification') {
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
    return { id, label: labels[id] };
  }
  const tok = model.tokenizer;
  if (typeof name === 'number') {
    if (!Number.isInteger(name) || name < 0 || name >= model.card.vocabSize.value) {
      throw new BadInputError(`Token id ${name} is outside the vocabulary (0–${model.card.vocabSize.value - 1}).`);
    }
    return { id: name, label: tok.displayToken(name) };
  }
  const direct = tok.tokenToId(name);
  if (direct !== undefined) return { id: direct, label: tok.displayToken(direct) };
  // Users type words; byte-level vocabularies store a leading space inside the token.
  for (const candidate of [` ${name}`, name]) {
    const ids = tok.encode(candidate, { addSpecialTokens: false }).ids;
    if (ids.length === 1) return { id: ids[0], label: tok.displayToken(ids[0]) };
  }
  const pieces = tok.encode(name, { addSpecialTokens: false }).tokens.map((t) => t.text);
  throw new BadInputError(
    `The ${what} token "${name}" is not in the vocabulary${pieces.length > 1 ? ` (it splits into ${pieces.map((p) => `"${p}"`).join(' ')})` : ''}. Name a single token of the vocabulary.`,
  );
}

/** Turns the caller's target spec into the output being explained (default: the prediction). */
export function resolveTarget(model: LoadedModel, input: PreparedInput, prediction: Prediction, spec: TargetSpec): ResolvedTarget {
  const task = model.card.task;
  const top = prediction.candidates[0];
  const chosen = spec.target !== undefined && spec.target !== '' ? resolveName(model, spec.target, 'target') : { id: top.id, label: top.label };
  const contrast = spec.contrast !== undefined && spec.contrast !== '' ? resolveName(model, spec.contrast, 'contrast') : undefined;
  if (contrast && contrast.id === chosen.id) {
    throw new BadInputError(`The contrast "${contrast.label}" is the target itself; choose a different class or token to contrast with.`);
  }
  const vs = contrast ? ` vs ${contrast.label}` : '';
  switch (task) {
    case 'sequence-classification':
      return { kind: 'class', id: chosen.id, label: chosen.label, contrastId: contrast?.id, contrastLabel: contrast?.label, description: `class ${chosen.label}${vs} (logit)` };
    case 'masked-lm': {
      const masks = prediction.masks ?? [];
      const position = masks.find((m) => m.tokenIndex === spec.maskIndex)?.tokenIndex ?? masks[0]?.tokenIndex;
      return { kind: 'masked-token', id: chosen.id, label: chosen.label, contrastId: contrast?.id, contrastLabel: contrast?.label, position, description: `"${chosen.label}"${vs} at the mask (logit)` };
    }
    case 'causal-lm':
      return { kind: 'next-token', id: chosen.id, label: chosen.label, contrastId: contrast?.id, contrastLabel: contrast?.label, description: `next token "${chosen.label}"${vs} (logit)` };
    default: {
      const generated = input.generated ?? [];
      if (generated.length === 0) throw new BadInputError('The model generated no output token to explain.');
      const k = spec.outputIndex ?? 0;
      if (!Number.isInteger(k) || k < 0 || k >= generated.length) {
        throw new BadInputError(`Output token ${k} does not exist: the model generated ${generated.length} tokens (0–${generated.length - 1}).`);
      }
      const id = spec.target !== undefined && spec.target !== '' ? chosen.id : generated[k];
      const label = model.tokenizer.displayToken(id);
      return { kind: 'output-token', id, label, contrastId: contrast?.id, contrastLabel: contrast?.label, position: k, description: `output token ${k} "${label}"${vs} (logit, teacher-forced)` };
    }
  }
}
