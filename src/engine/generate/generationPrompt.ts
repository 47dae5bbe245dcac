import * as fs from 'node:fs';
import * as path from 'node:path';
import { Template } from '@huggingface/jinja';
import type { TokenView, WordView } from '../../protocol/engineApi';
import type { LoadedModel } from '../model/loadedModel';
import { BadInputError } from '../process/engineErrors';
import { MAX_TOKENIZED_CHARS } from '../text/longText';
import type { Encoding } from '../text/tokenizer';

/** A prompt ready to be continued: what the model is fed, and which of its tokens the user wrote. */
export interface GenerationPrompt {
  prompt: string;
  /** The text fed to the model: the prompt, or the prompt inside the chat template. */
  modelInput: string;
  chat: boolean;
  encoding: Encoding;
  /** Where the prompt starts inside `modelInput`. */
  contentStart: number;
  /** Tokens with offsets into `prompt`; template and special tokens are marked special with empty offsets. */
  promptTokens: TokenView[];
  /** Words of the prompt with offsets into `prompt` and indices into the model input's tokens. */
  promptWords: WordView[];
  /** Per model-input token: never removed by an explanation (special and template tokens). */
  locked: boolean[];
  contextWindow: number;
  notes: string[];
}

/** The model's context window in tokens (prompt and generated together); 0 when nothing says. */
export function contextWindow(model: LoadedModel): number {
  const positions = model.card.maxPositions.value;
  if (positions > 0) return positions;
  const fromConfig = [model.config.n_ctx, model.config.max_sequence_length, model.config.seq_length].find((v) => typeof v === 'number' && v > 0);
  return typeof fromConfig === 'number' ? fromConfig : 0;
}

/** The causal LMs generation works with; anything else gets a message naming what it is. */
export function requireCausalLm(model: LoadedModel): void {
  if (model.card.task !== 'causal-lm') {
    throw new BadInputError(
      `Generation needs a causal language model (GPT-2, Llama, Qwen2 or Phi style); ${model.card.name} is a ${model.card.task} model. Explain its prediction instead (Explain Selection, or onnx-lens explain on the command line).`,
    );
  }
}

function readTokenizerConfig(model: LoadedModel): Record<string, unknown> {
  const file = model.files.tokenizerConfig;
  if (!file) return {};
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** The tokenizer's chat template (a string, or the "default" of a list of named templates), if it has one. */
export function chatTemplate(model: LoadedModel): string | undefined {
  const t = readTokenizerConfig(model).chat_template;
  if (typeof t === 'string' && t.trim()) return t;
  if (Array.isArray(t)) {
    const named = t as { name?: unknown; template?: unknown }[];
    const chosen = named.find((x) => x?.name === 'default') ?? named[0];
    if (typeof chosen?.template === 'string') return chosen.template;
  }
  return undefined;
}

function specialText(model: LoadedModel, key: string, id: number | undefined): string {
  const v = readTokenizerConfig(model)[key];
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return id === undefined ? '' : (model.tokenizer.idToPiece(id) ?? '');
}

/**
 * Tokenizes a prompt for generation. With `chat`, the prompt becomes the one user message of the tokenizer's
 * chat template (rendered with `add_generation_prompt`, and tokenized without adding special tokens, as
 * `apply_chat_template` does); a tokenizer without a template gets the plain prompt and a note. The prompt is
 * never truncated: one that leaves no room in the context window is refused with the window's size.
 */
export function preparePrompt(model: LoadedModel, prompt: string, chat = false): GenerationPrompt {
  requireCausalLm(model);
  if (typeof prompt !== 'string' || prompt.trim().length === 0) {
    throw new BadInputError('The prompt is empty. Select or type the text the model should continue.');
  }
  if (prompt.length > MAX_TOKENIZED_CHARS) {
    throw new BadInputError(
      `The prompt has ${prompt.length.toLocaleString('en-US')} characters; ONNX Lens reads at most ${MAX_TOKENIZED_CHARS.toLocaleString('en-US')}, and the model's context window is far shorter. Select a shorter passage.`,
    );
  }
  const notes: string[] = [];
  let modelInput = prompt;
  let contentStart = 0;
  let applied = false;
  if (chat) {
    const template = chatTemplate(model);
    if (!template) {
      notes.push(`${model.card.name}'s tokenizer has no chat template, so the prompt was fed as plain text.`);
    } else {
      const special = model.tokenizer.special;
      let rendered: string;
      try {
        rendered = new Template(template).render({
          messages: [{ role: 'user', content: prompt }],
          add_generation_prompt: true,
          bos_token: specialText(model, 'bos_token', special.bos),
          eos_token: specialText(model, 'eos_token', special.eos),
          unk_token: specialText(model, 'unk_token', special.unk),
          pad_token: specialText(model, 'pad_token', special.pad),
        });
      } catch (err) {
        throw new BadInputError(`The tokenizer's chat template could not be rendered (${(err as Error).message}). Turn the chat option off to feed the prompt as plain text.`);
      }
      const at = rendered.indexOf(prompt);
      if (at < 0) {
        throw new BadInputError('The chat template changes the prompt it wraps, so its words cannot be traced back to the selection. Turn the chat option off to feed the prompt as plain text.');
      }
      modelInput = rendered;
      contentStart = at;
      applied = true;
    }
  }
  const encoding = model.tokenizer.encode(modelInput, { addSpecialTokens: !applied });
  const window = contextWindow(model);
  const n = encoding.ids.length;
  if (window > 0 && n >= window) {
    throw new BadInputError(
      `The prompt has ${n} tokens${applied ? ' with its chat template' : ''}, but ${model.card.name}'s context window is ${window} tokens (the prompt and the generated text together). Shorten the prompt to at most ${window - 1} tokens so there is room to continue it.`,
    );
  }
  const end = contentStart + prompt.length;
  const inside = (start: number, stop: number) => start >= contentStart && stop <= end && stop > start;
  const locked = encoding.tokens.map((t) => t.special || !inside(t.start, t.end));
  const promptTokens: TokenView[] = encoding.tokens.map((t, i) =>
    locked[i]
      ? { id: t.id, text: t.text, start: 0, end: 0, special: true, wordIndex: -1 }
      : { id: t.id, text: t.text, start: t.start - contentStart, end: t.end - contentStart, special: false, wordIndex: -1 },
  );
  const promptWords: WordView[] = [];
  for (const w of encoding.words) {
    const tokenIndices = w.tokenIndices.filter((i) => !locked[i]);
    if (tokenIndices.length === 0 || !inside(w.start, w.end)) continue;
    for (const i of tokenIndices) promptTokens[i].wordIndex = promptWords.length;
    promptWords.push({ text: w.text, start: w.start - contentStart, end: w.end - contentStart, tokenIndices });
  }
  return { prompt, modelInput, chat: applied, encoding, contentStart, promptTokens, promptWords, locked, contextWindow: window, notes };
}

/**
 * The ids that end a generation: generation_config.json's eos_token_id (one or a list), else config.json's,
 * else the tokenizer's end-of-sequence token.
 */
export function eosIds(model: LoadedModel): number[] {
  const fromFile = (file: string): unknown => {
    try {
      return (JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>).eos_token_id;
    } catch {
      return undefined;
    }
  };
  const list = (v: unknown): number[] | undefined =>
    typeof v === 'number' ? [v] : Array.isArray(v) && v.every((x) => typeof x === 'number') ? (v as number[]) : undefined;
  const generationConfig = [path.join(model.files.folder, 'generation_config.json'), path.join(model.files.folder, 'onnx', 'generation_config.json')].find((f) =>
    fs.existsSync(f),
  );
  return (
    (generationConfig ? list(fromFile(generationConfig)) : undefined) ??
    list(model.config.eos_token_id) ??
    (model.tokenizer.special.eos !== undefined ? [model.tokenizer.special.eos] : [])
  );
}
