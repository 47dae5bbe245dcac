import type { GeneratedToken, GenerateParams, GenerationProgress, GenerationResult, GenerationStopReason } from '../../protocol/engineApi';
import { SeededRandom } from '../explain/random';
import type { LoadedModel } from '../model/loadedModel';
import { BadInputError } from '../process/engineErrors';
import type { RequestContext } from '../process/requestContext';
import type { Tokenizer } from '../text/tokenizer';
import { DecoderStepper } from './decoderCache';
import { eosIds, preparePrompt } from './generationPrompt';
import { chooseToken, type SamplingSettings } from './sampling';

/** Default and largest number of new tokens per request. */
export const DEFAULT_MAX_NEW_TOKENS = 32;
const MAX_NEW_TOKENS_LIMIT = 4096;
const DEFAULT_ALTERNATIVES = 5;

/** Checks and completes the decoding settings; every bad value gets a message naming it and its range. */
export function samplingSettings(params: GenerateParams): SamplingSettings & { seed: number; maxNewTokens: number; stop: string[] } {
  const strategy = params.strategy ?? 'greedy';
  if (strategy !== 'greedy' && strategy !== 'sample') throw new BadInputError(`Unknown decoding strategy "${String(strategy)}": use "greedy" or "sample".`);
  const maxNewTokens = params.maxNewTokens ?? DEFAULT_MAX_NEW_TOKENS;
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1 || maxNewTokens > MAX_NEW_TOKENS_LIMIT) {
    throw new BadInputError(`The number of new tokens must be a whole number from 1 to ${MAX_NEW_TOKENS_LIMIT}, not ${maxNewTokens}.`);
  }
  const temperature = params.temperature ?? 1;
  if (!Number.isFinite(temperature) || temperature <= 0) {
    throw new BadInputError(`The temperature must be a number above 0, not ${temperature} (use the greedy strategy for the most probable tokens).`);
  }
  const topK = params.topK ?? 0;
  if (!Number.isInteger(topK) || topK < 0) throw new BadInputError(`top-k must be a whole number ≥ 0 (0 keeps every token), not ${topK}.`);
  const topP = params.topP ?? 1;
  if (!Number.isFinite(topP) || topP <= 0 || topP > 1) throw new BadInputError(`top-p must be a number above 0 and at most 1, not ${topP}.`);
  const seed = params.seed ?? 0;
  if (!Number.isFinite(seed)) throw new BadInputError(`The seed must be a number, not ${seed}.`);
  const stop = params.stop ?? [];
  if (!Array.isArray(stop) || stop.some((s) => typeof s !== 'string' || s.length === 0)) {
    throw new BadInputError('Stop strings must be non-empty texts.');
  }
  return { strategy, temperature, topK, topP, seed: Math.trunc(seed), maxNewTokens, stop };
}

/**
 * The continuation as text: the whole sequence decoded, minus the decoded prompt (so a leading space that a
 * SentencePiece decoder strips at the start of a text survives), or the new tokens alone when the two
 * decodings do not line up.
 */
export function continuationText(tokenizer: Tokenizer, promptIds: number[], generated: number[]): string {
  const head = tokenizer.decode(promptIds, true);
  const full = tokenizer.decode([...promptIds, ...generated], true);
  return full.startsWith(head) ? full.slice(head.length) : tokenizer.decode(generated, true);
}

/** Text that will not change with the next token: a trailing replacement character may be half a UTF-8 sequence. */
function settled(text: string): string {
  return text.replace(/\uFFFD+$/, '');
}

/**
 * Continues a prompt with a causal LM, one token per step, carrying the key/value cache between steps (or
 * recomputing the sequence when asked or when the graph has no cache). Each token goes out as a progress
 * event as soon as it is chosen. Generation stops at an end-of-sequence id, a stop string, the token limit,
 * the context window, or a cancel — which keeps and returns what was generated.
 */
export async function generateText(model: LoadedModel, params: GenerateParams, ctx: RequestContext): Promise<GenerationResult> {
  const settings = samplingSettings(params);
  if (params.alternatives !== undefined && !(Number.isInteger(params.alternatives) && params.alternatives >= 1 && params.alternatives <= 50)) {
    throw new BadInputError(`alternatives must be a whole number from 1 to 50, got ${String(params.alternatives)}.`);
  }
  const alternatives = params.alternatives ?? DEFAULT_ALTERNATIVES;
  const prompt = preparePrompt(model, params.prompt, params.chat ?? false);
  const notes = [...prompt.notes];
  const eos = new Set(eosIds(model));
  const stepper = await DecoderStepper.create(model, params.useCache ?? true);
  if ((params.useCache ?? true) && stepper.mode === 'none') notes.push('This model has no key/value cache inputs: every step recomputes the whole sequence.');
  const rng = new SeededRandom(settings.seed);
  const vocab = model.card.vocabSize.value > 0 ? model.card.vocabSize.value : Number.MAX_SAFE_INTEGER;
  const tokenizer = model.tokenizer;
  const promptIds = prompt.encoding.ids;
  const sequence = [...promptIds];
  const generated: number[] = [];
  const chosen: Omit<GeneratedToken, 'start' | 'end'>[] = [];
  const window = prompt.contextWindow;
  let stopReason: GenerationStopReason = 'max-new-tokens';
  let stopString: string | undefined;
  const started = Date.now();
  let promptMs = 0;
  let text = '';
  /** ends[k]: the length of the settled text after token k, from the decoding made at that step. */
  const ends: number[] = [];
  for (let step = 0; step < settings.maxNewTokens; step++) {
    if (window > 0 && sequence.length >= window) {
      stopReason = 'context-window';
      break;
    }
    // A cancel arrives as a message: let it in between two steps (a step's native run blocks the loop).
    await new Promise((resolve) => setImmediate(resolve));
    if (ctx.isCancelled()) {
      stopReason = 'cancelled';
      break;
    }
    const sampled = settings.strategy === 'sample';
    const next = await stepper.step(sequence, { top: Math.min(alternatives, vocab), logprobs: sampled });
    if (step === 0) promptMs = Date.now() - started;
    // Greedy: the runtime's TopK already ranks the tokens (ties to the lower id, as argmax).
    const id = sampled ? chooseToken(next.logprobs as Float32Array, settings, rng) : next.topIds[0];
    const logprob = sampled ? (next.logprobs as Float32Array)[id] : next.topLogprobs[0];
    const token = {
      id,
      label: tokenizer.displayToken(id),
      logprob,
      probability: Math.exp(logprob),
      alternatives: next.topIds.map((i, r) => ({ id: i, label: tokenizer.displayToken(i), probability: Math.exp(next.topLogprobs[r]), logit: next.topLogprobs[r] })),
    };
    chosen.push(token);
    generated.push(id);
    sequence.push(id);
    const previous = settled(text);
    text = continuationText(tokenizer, promptIds, generated);
    ends.push(settled(text).length);
    const partial: GenerationProgress = { index: step, token: { ...token, start: previous.length, end: settled(text).length }, text: settled(text) };
    ctx.progress({ done: step + 1, total: settings.maxNewTokens, message: `${step + 1} of at most ${settings.maxNewTokens} tokens`, partial });
    if (eos.has(id)) {
      stopReason = 'eos';
      break;
    }
    const hit = settings.stop.map((s) => ({ s, at: text.indexOf(s) })).filter((x) => x.at >= 0).sort((a, b) => a.at - b.at)[0];
    if (hit) {
      stopReason = 'stop-string';
      stopString = hit.s;
      break;
    }
  }
  const totalMs = Date.now() - started;
  // Offsets from the final decoding: a byte that completed a character earlier changes the text before it.
  const tokens: GeneratedToken[] = [];
  let previousLength = 0;
  for (let k = 0; k < chosen.length; k++) {
    const end = Math.max(previousLength, k === chosen.length - 1 ? settled(text).length : ends[k]);
    tokens.push({ ...chosen[k], start: previousLength, end: k === chosen.length - 1 ? text.length : end });
    previousLength = k === chosen.length - 1 ? text.length : end;
  }
  if (stopReason === 'context-window') notes.push(`Generation stopped at the model's context window of ${window} tokens.`);
  if (stopReason === 'cancelled') notes.push(`Generation was stopped after ${tokens.length} token${tokens.length === 1 ? '' : 's'}; what was generated is kept.`);
  const seconds = totalMs / 1000;
  return {
    kind: 'generation',
    prompt: prompt.prompt,
    modelInput: prompt.modelInput,
    chat: prompt.chat,
    promptTokens: prompt.promptTokens,
    promptWords: prompt.promptWords,
    tokens,
    text,
    stopReason,
    ...(stopString !== undefined ? { stopString } : {}),
    cache: stepper.mode,
    contextWindow: window,
    settings: {
      strategy: settings.strategy,
      temperature: settings.temperature,
      topK: settings.topK,
      topP: settings.topP,
      seed: settings.seed,
      maxNewTokens: settings.maxNewTokens,
      stop: settings.stop,
    },
    sequenceLogprob: tokens.reduce((s, t) => s + t.logprob, 0),
    timing: { promptMs, totalMs, tokensPerSecond: seconds > 0 ? tokens.length / seconds : 0 },
    notes,
  };
}
