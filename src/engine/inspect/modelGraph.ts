import type { HiddenStateTensor } from '../../protocol/engineApi';
import type { LoadedModel, PreparedInput } from '../model/loadedModel';
import { loadGraphFile, type LoadedGraph } from '../model/modelFolder';
import { ModelError } from '../model/modelError';
import { BadInputError } from '../process/engineErrors';

/**
 * The graph that reads the text (the model itself, a plain or merged decoder-only graph, or a seq2seq encoder), read from
 * disk. The inspect requests rewrite it (head masks, logit lens) into sessions of their own, so the model's
 * plain and exposed sessions stay untouched.
 */
export function mainGraph(model: LoadedModel): { graph: LoadedGraph; role: 'model' | 'encoder' | 'decoder' | 'decoderMerged' } {
  const g = model.files.graphs;
  const role = g.model ? 'model' : g.encoder ? 'encoder' : g.decoder ? 'decoder' : g.decoderMerged ? 'decoderMerged' : undefined;
  if (!role) throw new ModelError('not-found', 'This model folder has no graph that takes the text.');
  return { graph: loadGraphFile(g[role] as string, model.files.folder), role };
}

/** The text, or exact token ids, of an inspect request, prepared for the model. */
export async function prepareTextOrIds(model: LoadedModel, params: { text?: string; ids?: number[] }): Promise<PreparedInput> {
  if (params.ids && params.ids.length > 0) return model.prepareIds(params.ids);
  return model.prepare(params.text ?? '');
}

/** The token whose output is the prediction: the last token (causal LM), the first [MASK] (masked LM), else the first. */
export function predictionPosition(model: LoadedModel, input: PreparedInput): number {
  const task = model.card.task;
  if (task === 'causal-lm') return input.encoding.ids.length - 1;
  if (task === 'masked-lm') {
    const mask = model.tokenizer.special.mask;
    const at = mask === undefined ? -1 : input.encoding.ids.indexOf(mask);
    if (at < 0) {
      const maskText = model.tokenizer.idToPiece(mask ?? -1) ?? '[MASK]';
      throw new BadInputError(`This is a fill-mask model and the text has no ${maskText}. Write ${maskText} where a word should be predicted.`);
    }
    return at;
  }
  return 0;
}

/** The hidden states of one stack, ordered by index (0 = entering layer 0). */
export function stackStates(states: HiddenStateTensor[], stack?: 'encoder' | 'decoder'): HiddenStateTensor[] {
  const stacks = [...new Set(states.map((s) => s.stack))];
  const chosen = stack ?? (stacks.includes('encoder') ? 'encoder' : stacks[0]);
  return states.filter((s) => s.stack === chosen).sort((a, b) => a.index - b.index);
}
