import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TrimKeep, trimTokenizer } from '../../src/engine/text/trimTokenizer';

/** The repository root, from a compiled file under out/. */
export const REPO_ROOT = (() => {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json')) || path.basename(dir) === 'out') dir = path.dirname(dir);
  return dir;
})();

export const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'models');
/** Decoder-only models for text generation, with PyTorch references of greedy generation (scripts/fixtures/make_generation_fixtures.py). */
export const GENERATION_FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'generation');
/** Real tokenizer files (bert-base-uncased, gpt2) and the generated small ones; licences in its README. */
export const TOKENIZERS = path.join(REPO_ROOT, 'test', 'fixtures', 'tokenizers');
/** Labelled sentences (UCI Sentiment Labelled Sentences); licence in test/fixtures/data/README.md. */
export const SENTIMENT_DATA = path.join(REPO_ROOT, 'test', 'fixtures', 'data', 'uci-sentiment-labelled');
export const DEMO_MODEL = path.join(REPO_ROOT, 'models', 'demo-sentiment');

/**
 * `tokenizer.recipe.json`: the fixture's tokenizer is the real tokenizer `from` (under TOKENIZERS), trimmed with
 * `trimTokenizer(json, keep)` (`keepFirst`: the older form, ids below it).
 */
export interface TokenizerRecipe {
  from: string;
  keep?: TrimKeep;
  keepFirst?: number;
}

/** The trimmed `tokenizer.json` a recipe describes. */
export function recipeTokenizer(recipe: TokenizerRecipe): any {
  const keep = recipe.keep ?? recipe.keepFirst;
  if (keep === undefined) throw new Error(`tokenizer recipe from ${recipe.from} says nothing about what to keep`);
  const full = JSON.parse(fs.readFileSync(path.join(TOKENIZERS, recipe.from, 'tokenizer.json'), 'utf8'));
  return trimTokenizer(full, keep);
}

const materialised = new Map<string, string>();

/** The folder of a fixture as generated (a recipe's tokenizer not built), or an error saying how to make it. */
export function fixtureFolder(name: string, root = FIXTURES): string {
  const dir = path.join(root, name);
  if (!fs.existsSync(dir)) throw new Error(`fixture ${name} is missing: run npm run fixtures`);
  return dir;
}

/**
 * A fixture as a complete model folder. Fixtures built on real tokenizers carry a recipe instead of
 * the tokenizer (it is read from the full copy under TOKENIZERS and trimmed here); those get a
 * temporary folder with the model files and the trimmed tokenizer.json.
 */
export function fixtureModel(name: string, root = FIXTURES): string {
  const src = fixtureFolder(name, root);
  const recipeFile = path.join(src, 'tokenizer.recipe.json');
  if (!fs.existsSync(recipeFile)) return src;
  const done = materialised.get(src);
  if (done) return done;
  const recipe = JSON.parse(fs.readFileSync(recipeFile, 'utf8')) as TokenizerRecipe;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `onnx-lens-${name}-`));
  fs.cpSync(src, dir, { recursive: true });
  fs.rmSync(path.join(dir, 'tokenizer.recipe.json'));
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(recipeTokenizer(recipe)));
  const config = path.join(TOKENIZERS, recipe.from, 'tokenizer_config.json');
  if (fs.existsSync(config) && !fs.existsSync(path.join(dir, 'tokenizer_config.json'))) fs.copyFileSync(config, path.join(dir, 'tokenizer_config.json'));
  materialised.set(src, dir);
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A tensor from a fixture's reference.json. */
export interface RefTensor {
  shape: number[];
  data: number[];
}

export interface Reference {
  inputs: Record<string, RefTensor>;
  outputs: Record<string, RefTensor>;
  attentions: (RefTensor & { layer: number; kind: string })[];
  hidden_states: (RefTensor & { index: number; kind: string })[];
}

export function readReference(name: string): Reference {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, name, 'reference.json'), 'utf8')) as Reference;
}

/** A generation fixture as a complete model folder (see {@link fixtureModel}). */
export function generationFixture(name: string): string {
  return fixtureModel(name, GENERATION_FIXTURES);
}

/** One prompt of a generation fixture's reference: PyTorch's greedy continuation with its KV cache. */
export interface GenerationCase {
  prompt: string;
  prompt_ids: number[];
  generated: number[];
  stopped: 'eos' | 'length';
  /** [steps, V]: the logits each generated token was chosen from. */
  logits: RefTensor;
  /** PyTorch's own largest |cached − recomputed| logit. */
  pytorch_cache_vs_no_cache: number;
  /** Top-1 minus top-2 logit at each step. */
  margins: number[];
  /** fp32 cases: PyTorch's attention probabilities and hidden states at the prompt (no past) and at the first token with past. */
  internals?: { prompt: GenerationInternals; cached: GenerationInternals & { ids: number[]; past_length: number } };
}

/** One step's attention probabilities per layer ([1, heads, queries, keys]) and hidden states ([1, queries, hidden]; 0 enters layer 0). */
export interface GenerationInternals {
  attentions: RefTensor[];
  hidden_states: RefTensor[];
}

export interface GenerationReference {
  eos_token_id: number[];
  context_window: number;
  cases: GenerationCase[];
  /** llama-gen: the int8 model (ONNX Runtime's dynamic quantization emulated) and the 4-bit model (dequantized weights). */
  variants?: Record<string, GenerationCase[]>;
}

export function readGenerationReference(name: string): GenerationReference {
  return JSON.parse(fs.readFileSync(path.join(GENERATION_FIXTURES, name, 'reference.json'), 'utf8')) as GenerationReference;
}
