import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadTokenizer, Tokenizer } from '../text/tokenizer';
import { TokenizerError } from '../text/tokenizerError';
import { ModelError } from './modelError';
import { fileKind, fileProblem, MAX_GRAPH_BYTES, readJsonFile, readRegularFile, regularFileSize } from './modelFileReader';
import { OnnxModel, parseOnnxModel, tensorSizeProblem } from './onnxProto';

/** Which ONNX files of a folder to use: full precision, a quantized variant, or an explicit file name. */
export type ModelVariant = 'fp32' | 'quantized' | string;

/** The role a graph file plays. */
export type GraphRole = 'model' | 'encoder' | 'decoder' | 'decoderMerged' | 'decoderWithPast';

/** The files of one model, with absolute paths. */
export interface ModelFiles {
  /** The model folder: the folder given, or the folder of the single file given. */
  folder: string;
  /** Graph files of the chosen variant, by role. An encoder-only or decoder-only export has `model` or `decoder`. */
  graphs: Partial<Record<GraphRole, string>>;
  /** Variant chosen: 'fp32', or the file-name suffix ('quantized', 'int8', 'uint8', 'fp16', 'q4', …). */
  variant: string;
  /** Every variant present in the folder. */
  variants: string[];
  config?: string;
  tokenizer?: string;
  tokenizerConfig?: string;
  specialTokensMap?: string;
}

/** Options for {@link findModelFiles}. */
export interface FindModelOptions {
  /** Variant to choose; see {@link findModelFiles} for the default. */
  variant?: ModelVariant;
  /** Require tokenizer.json (default true). Callers feeding token ids directly can skip it. */
  requireTokenizer?: boolean;
}

const GRAPH_FILE = /^(model|encoder_model|decoder_model|decoder_model_merged|decoder_with_past_model)(?:_([a-z0-9]+))?\.onnx$/;
const ROLE_OF: Record<string, GraphRole> = {
  model: 'model',
  encoder_model: 'encoder',
  decoder_model: 'decoder',
  decoder_model_merged: 'decoderMerged',
  decoder_with_past_model: 'decoderWithPast',
};
/** When fp32 is absent, the first of these present is used. */
const VARIANT_PREFERENCE = ['fp32', 'quantized', 'int8', 'uint8', 'fp16', 'q8', 'q4', 'q4f16', 'bnb4'];
const QUANTIZED_VARIANTS = ['quantized', 'int8', 'uint8', 'q8'];

interface GraphFile {
  role: GraphRole;
  variant: string;
  file: string;
}

function listGraphFiles(dir: string): GraphFile[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const out: GraphFile[] = [];
  for (const name of names) {
    const m = GRAPH_FILE.exec(name);
    // decoder_model_merged matches as decoder_model + suffix "merged"; the role table sorts it out.
    if (!m) continue;
    let stem = m[1];
    let suffix: string | undefined = m[2];
    if (stem === 'decoder_model' && suffix === 'merged') {
      stem = 'decoder_model_merged';
      suffix = undefined;
    }
    out.push({ role: ROLE_OF[stem], variant: suffix ?? 'fp32', file: path.join(dir, name) });
  }
  return out;
}

/** The file when anything by that name is there (a broken link or a pipe too: reading it says what is wrong). */
function pick(dir: string, name: string): string | undefined {
  const p = path.join(dir, name);
  try {
    fs.lstatSync(p);
    return p;
  } catch {
    return undefined;
  }
}

/**
 * Finds the files of a model: a folder in the Optimum / transformers.js layout (graphs at the top or
 * under `onnx/`), or a single `.onnx` file with `tokenizer.json` beside it.
 *
 * The variant defaults to fp32 (the files without a suffix) when present; otherwise the first present of
 * quantized, int8, uint8, fp16, q8, q4, q4f16, bnb4. `'quantized'` takes the first present of quantized,
 * int8, uint8, q8. An explicit file name (`model_int8.onnx`) selects that file's suffix for every role.
 * For an encoder-decoder model, `decoder` is the plain decoder when present (merged and with-past graphs
 * are listed too).
 * @throws ModelError 'not-found' when there is no ONNX graph or the variant is absent;
 *   'missing-tokenizer' when tokenizer.json is absent and required.
 */
export function findModelFiles(target: string, options: FindModelOptions = {}): ModelFiles {
  const requireTokenizer = options.requireTokenizer ?? true;
  const abs = path.resolve(target);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(abs);
  } catch (err) {
    const dangling = fs.lstatSync(abs, { throwIfNoEntry: false }) !== undefined;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !dangling) {
      throw new ModelError('not-found', `No model at ${abs}: the path does not exist.`);
    }
    throw new ModelError('unreadable-file', `Cannot open the model: ${fileProblem(abs, err)}.`);
  }
  if (!stat.isFile() && !stat.isDirectory()) {
    throw new ModelError('unreadable-file', `${abs} is ${fileKind(stat)}, not a model folder or an .onnx file.`);
  }
  let folder: string;
  let candidates: GraphFile[];
  if (stat.isFile()) {
    if (!abs.toLowerCase().endsWith('.onnx')) {
      throw new ModelError('not-found', `${abs} is not an ONNX file: choose a model folder or a .onnx file.`);
    }
    folder = path.dirname(abs);
    candidates = [{ role: 'model', variant: 'fp32', file: abs }];
  } else {
    folder = abs;
    candidates = [...listGraphFiles(folder), ...listGraphFiles(path.join(folder, 'onnx'))];
    if (candidates.length === 0) {
      throw new ModelError(
        'not-found',
        `No ONNX model in ${folder}: expected model.onnx (or encoder_model.onnx and decoder_model.onnx) in the folder or its onnx/ subfolder.`,
      );
    }
  }
  const variants = [...new Set(candidates.map((c) => c.variant))].sort(
    (a, b) => rank(a) - rank(b) || a.localeCompare(b),
  );
  const variant = chooseVariant(options.variant, variants, folder);
  const graphs: Partial<Record<GraphRole, string>> = {};
  // A file at the top of the folder wins over the same name under onnx/.
  for (const c of candidates) if (c.variant === variant && graphs[c.role] === undefined) graphs[c.role] = c.file;
  const files: ModelFiles = { folder, graphs, variant, variants };
  const auxDirs = stat.isFile() ? [folder] : [folder, path.join(folder, 'onnx')];
  for (const dir of auxDirs) {
    files.config ??= pick(dir, 'config.json');
    files.tokenizer ??= pick(dir, 'tokenizer.json');
    files.tokenizerConfig ??= pick(dir, 'tokenizer_config.json');
    files.specialTokensMap ??= pick(dir, 'special_tokens_map.json');
  }
  if (requireTokenizer && !files.tokenizer) {
    throw new ModelError(
      'missing-tokenizer',
      `No tokenizer.json in ${folder}. ONNX Lens needs the model's tokenizer.json beside the model ` +
        `(export it with the model, e.g. tokenizer.save_pretrained(folder) in transformers, or copy it from the model's hub page).`,
    );
  }
  return files;
}

function rank(variant: string): number {
  const i = VARIANT_PREFERENCE.indexOf(variant);
  return i < 0 ? VARIANT_PREFERENCE.length : i;
}

function chooseVariant(requested: ModelVariant | undefined, variants: string[], folder: string): string {
  const list = variants.join(', ');
  if (requested === undefined) return variants[0];
  if (requested === 'fp32') {
    if (variants.includes('fp32')) return 'fp32';
    throw new ModelError('not-found', `No full-precision model (model.onnx) in ${folder}; variants present: ${list}.`);
  }
  if (requested === 'quantized') {
    const q = QUANTIZED_VARIANTS.find((v) => variants.includes(v));
    if (q) return q;
    throw new ModelError('not-found', `No quantized model (model_quantized.onnx) in ${folder}; variants present: ${list}.`);
  }
  const m = GRAPH_FILE.exec(path.basename(requested));
  const suffix = m ? (m[2] === 'merged' ? undefined : m[2]) ?? 'fp32' : requested;
  if (variants.includes(suffix)) return suffix;
  throw new ModelError('not-found', `No model file "${requested}" in ${folder}; variants present: ${list}.`);
}

/** True when a variant name denotes 8-bit integer weights. */
export function isQuantizedVariant(variant: string): boolean {
  return QUANTIZED_VARIANTS.includes(variant);
}

/**
 * Checks that every external-data location of a model stays inside the model folder (no absolute paths,
 * no `..` escapes, no symbolic links leading out) and names a regular file long enough for the bytes the
 * graph reads from it.
 * @throws ModelError 'external-data-outside-folder', 'not-found' (missing data file), 'unreadable-file'
 *   (a pipe, device or link loop) or 'invalid-onnx' (data file too short, bad offset or length).
 */
export function checkExternalData(modelFile: string, model: OnnxModel, folder = path.dirname(modelFile)): void {
  const needed = new Map<string, number>();
  for (const t of model.graph.initializers) {
    if (t.externalLocation === undefined) continue;
    const offset = t.externalOffset ?? 0;
    const length = t.externalLength ?? t.byteSize;
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
      throw new ModelError('invalid-onnx', `${modelFile} gives tensor "${t.name}" an invalid external-data offset or length; re-export the model.`);
    }
    needed.set(t.externalLocation, Math.max(needed.get(t.externalLocation) ?? 0, offset + length));
  }
  if (needed.size === 0) return;
  const root = fs.realpathSync(folder);
  const base = path.dirname(modelFile);
  for (const [loc, end] of needed) {
    const refuse = (why: string): never => {
      throw new ModelError(
        'external-data-outside-folder',
        `${modelFile} refers to external data "${loc}" ${why}. ONNX Lens only reads data files inside the model folder ${folder}; move the data file there and re-export the model with a relative location.`,
      );
    };
    if (loc === '') refuse('with no file name');
    if (path.isAbsolute(loc) || path.win32.isAbsolute(loc)) refuse('by an absolute path');
    const resolved = path.resolve(base, loc);
    if (!isInside(resolved, path.resolve(folder))) refuse('outside the model folder');
    if (fs.lstatSync(resolved, { throwIfNoEntry: false }) === undefined) {
      throw new ModelError('not-found', `${modelFile} needs the external data file "${loc}", which is missing from ${base}.`);
    }
    let real: string;
    try {
      real = fs.realpathSync(resolved);
    } catch (err) {
      throw new ModelError('unreadable-file', `${modelFile} needs the external data file "${loc}", but ${fileProblem(resolved, err)}.`);
    }
    if (!isInside(real, root)) refuse('through a link that leads outside the model folder');
    const size = regularFileSize(resolved);
    if (size < end) {
      throw new ModelError(
        'invalid-onnx',
        `${modelFile} reads up to byte ${end} of its external data file "${loc}", which has only ${size} bytes; the data file is truncated or belongs to another export.`,
      );
    }
  }
}

function isInside(p: string, dir: string): boolean {
  const rel = path.relative(dir, p);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** A graph file read into memory and parsed. */
export interface LoadedGraph {
  file: string;
  bytes: Uint8Array;
  model: OnnxModel;
}

/**
 * Reads and parses one graph file (a regular file of at most 2 GiB), checking its external data stays
 * inside `folder`.
 * @throws ModelError on an unreadable or invalid file or an external-data escape.
 */
export function loadGraphFile(file: string, folder = path.dirname(file)): LoadedGraph {
  const buf = readRegularFile(file, MAX_GRAPH_BYTES);
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  const model = parseOnnxModel(bytes, file);
  for (const t of model.graph.initializers) {
    const problem = tensorSizeProblem(t);
    if (problem) throw new ModelError('invalid-onnx', `${file} is damaged: its ${problem}. Re-export or re-download it.`);
  }
  checkExternalData(file, model, folder);
  return { file, bytes, model };
}

/**
 * Reads config.json. A file that is there but does not parse as a JSON object is reported in `problem`
 * (the graph then gives every field); one that cannot be read at all (a pipe, a device, a link loop) throws.
 * @throws ModelError 'unreadable-file' or 'too-large'.
 */
export function readModelConfig(files: Pick<ModelFiles, 'config'>): { config?: Record<string, unknown>; problem?: string } {
  if (!files.config) return {};
  let json: unknown;
  try {
    json = readJsonFile(files.config);
  } catch (err) {
    if (err instanceof ModelError && err.code === 'invalid-json') return { problem: `${err.message.replace(/ Re-save or re-download it\.$/, '')}; every field comes from the graph.` };
    throw err;
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) {
    return { problem: `${files.config} does not hold a JSON object; every field comes from the graph.` };
  }
  return { config: json as Record<string, unknown> };
}

/**
 * Loads the model's tokenizer from the files {@link findModelFiles} found: tokenizer.json, and the special
 * tokens named in tokenizer_config.json and special_tokens_map.json when those parse.
 * @throws TokenizerError naming the file when tokenizer.json is missing or unusable; ModelError when a
 *   file cannot be read (not a regular file, too large) or tokenizer.json is not JSON.
 */
export function loadModelTokenizer(files: Pick<ModelFiles, 'folder' | 'tokenizer' | 'tokenizerConfig' | 'specialTokensMap'>): Tokenizer {
  if (!files.tokenizer) {
    throw new TokenizerError(
      `No tokenizer.json in ${files.folder}. ONNX Lens needs the Hugging Face "fast" tokenizer file next to the model: ` +
        'save it with tokenizer.save_pretrained(folder) in transformers, or copy tokenizer.json from the model repository.',
      'missing-file',
    );
  }
  const optional = (file: string | undefined): unknown => {
    if (!file) return undefined;
    try {
      return readJsonFile(file);
    } catch (err) {
      // These only name special tokens; a damaged one leaves tokenizer.json's own choices.
      if (err instanceof ModelError && err.code === 'invalid-json') return undefined;
      throw err;
    }
  };
  const json = readJsonFile(files.tokenizer);
  try {
    return loadTokenizer(json, { tokenizerConfig: optional(files.tokenizerConfig), specialTokensMap: optional(files.specialTokensMap) });
  } catch (err) {
    if (err instanceof TokenizerError) throw new TokenizerError(`${files.tokenizer} cannot be used: ${err.message}`, err.code);
    throw err;
  }
}
