import type { AttentionResult, AttentionTensor, HiddenStateTensor, TokenView, WordView } from '../protocol/engineApi';
import { isPairResult, segmentShares, type SegmentShares } from '../render/segmentAttention';
import { CliError, ExitCode } from './exitCodes';

/**
 * Characters JSON.stringify leaves raw that a terminal would act on (DEL, the C1 controls, bidirectional
 * overrides) or that end a line in JavaScript (U+2028, U+2029). They only occur inside JSON strings, so
 * writing them as \uXXXX keeps the document's value and makes it safe to print.
 */
const RAW_CONTROLS = /[\u007f-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;

function escapeRawControls(json: string): string {
  return json.replace(RAW_CONTROLS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** JSON.stringify that writes typed arrays (Float32Array…) as plain number arrays, and no raw control character. */
export function toJson(value: unknown, indent = 2): string {
  return escapeRawControls(
    JSON.stringify(value, (_key, v: unknown) => (ArrayBuffer.isView(v) && !(v instanceof DataView) ? Array.from(v as unknown as ArrayLike<number>) : v), indent),
  );
}

/** Numbers per piece when a long array is written out: keeps every piece far below string limits. */
const NUMBERS_PER_PIECE = 65536;

function isNumberArray(v: unknown): v is ArrayLike<number> {
  return (ArrayBuffer.isView(v) && !(v instanceof DataView)) || (Array.isArray(v) && v.length > 1024 && typeof v[0] === 'number');
}

/**
 * Writes a JSON document piece by piece, so documents far larger than a string can hold (every attention
 * matrix of a 512-token, 12 × 12-head model is 151 M numbers) stream out. Typed arrays become number
 * arrays; non-finite numbers become null, as JSON.stringify does.
 */
export function writeJson(value: unknown, write: (piece: string) => void, indent = 2): void {
  const pad = (depth: number) => `\n${' '.repeat(indent * depth)}`;
  const visit = (v: unknown, depth: number): void => {
    if (isNumberArray(v)) {
      write('[');
      for (let i = 0; i < v.length; i += NUMBERS_PER_PIECE) {
        const end = Math.min(v.length, i + NUMBERS_PER_PIECE);
        const parts: string[] = new Array(end - i);
        for (let j = i; j < end; j++) parts[j - i] = Number.isFinite(v[j]) ? String(v[j]) : 'null';
        write((i > 0 ? ',' : '') + parts.join(','));
      }
      write(']');
      return;
    }
    if (Array.isArray(v)) {
      if (v.length === 0) return void write('[]');
      write('[');
      v.forEach((item, i) => {
        write((i > 0 ? ',' : '') + pad(depth + 1));
        if (item === undefined || typeof item === 'function') write('null');
        else visit(item, depth + 1);
      });
      write(`${pad(depth)}]`);
      return;
    }
    if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON !== 'function') {
      const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined && typeof x !== 'function');
      if (entries.length === 0) return void write('{}');
      write('{');
      entries.forEach(([k, x], i) => {
        write(`${i > 0 ? ',' : ''}${pad(depth + 1)}${escapeRawControls(JSON.stringify(k))}: `);
        visit(x, depth + 1);
      });
      write(`${pad(depth)}}`);
      return;
    }
    write(escapeRawControls(JSON.stringify(v) ?? 'null'));
  };
  visit(value, 0);
  write('\n');
}

/** One attention tensor as `attention --json` writes it. */
export interface AttentionJsonLayer {
  layer: number;
  kind: AttentionTensor['kind'];
  /** [batch=1, heads, queries, keys]; heads is 1 when --head picked one. */
  shape: [number, number, number, number];
  /** The head kept, when --head was given. */
  head?: number;
  /** Row-major: data[((h * queries) + q) * keys + k]. Written as a number array. */
  data: ArrayLike<number>;
}

/** The output of `attention --json`. */
export interface AttentionJson {
  text: string;
  /** The second text of a sentence pair (tokens and words carry `segment` 0 or 1). */
  textPair?: string;
  tokens: TokenView[];
  words: WordView[];
  decoderTokens?: TokenView[];
  attentions: AttentionJsonLayer[];
  hiddenStates: { index: number; stack: HiddenStateTensor['stack']; shape: [number, number, number]; data: ArrayLike<number> }[];
  truncation?: AttentionResult['encoded']['truncation'];
  /** Sentence pairs: per layer, per head, the mean share of attention crossing between the texts. */
  acrossPair?: SegmentShares[];
  note?: string;
}

/**
 * Keeps the layers and head asked for. `layer` selects that layer in every stack (a text-to-text
 * model has self, decoder and cross attention at each layer index). Throws CliError (exit 1) when
 * the layer or head does not exist, saying which do.
 */
export function selectAttention(attentions: readonly AttentionTensor[], layer?: number, head?: number): { tensor: AttentionTensor; head?: number; data: Float32Array; shape: [number, number, number, number] }[] {
  if (attentions.length === 0) return [];
  const layers = [...new Set(attentions.map((a) => a.layer))].sort((a, b) => a - b);
  const picked = layer === undefined ? attentions : attentions.filter((a) => a.layer === layer);
  if (picked.length === 0) {
    throw new CliError(`Layer ${layer} does not exist: this model has layers ${layers[0]}–${layers[layers.length - 1]}.`, ExitCode.badInput);
  }
  return picked.map((tensor) => {
    const [b, heads, q, k] = tensor.shape;
    if (head === undefined) return { tensor, data: tensor.data, shape: tensor.shape };
    if (head >= heads) throw new CliError(`Head ${head} does not exist: layer ${tensor.layer} has heads 0–${heads - 1}.`, ExitCode.badInput);
    const size = q * k;
    return { tensor, head, data: tensor.data.subarray(head * size, (head + 1) * size), shape: [b, 1, q, k] as [number, number, number, number] };
  });
}

/** The `attention --json` document for an engine result. */
export function attentionJson(result: AttentionResult, options: { layer?: number; head?: number; hidden: boolean }): AttentionJson {
  const selected = selectAttention(result.attentions, options.layer, options.head);
  return {
    text: result.encoded.text,
    ...(result.encoded.textPair !== undefined ? { textPair: result.encoded.textPair } : {}),
    tokens: result.encoded.tokens,
    words: result.encoded.words,
    ...(result.encoded.decoder ? { decoderTokens: result.encoded.decoder.tokens } : {}),
    attentions: selected.map((s) => ({
      layer: s.tensor.layer,
      kind: s.tensor.kind,
      shape: s.shape,
      ...(s.head !== undefined ? { head: s.head } : {}),
      data: s.data,
    })),
    hiddenStates: options.hidden ? result.hiddenStates.map((h) => ({ index: h.index, stack: h.stack, shape: h.shape, data: h.data })) : [],
    ...(result.encoded.truncation ? { truncation: result.encoded.truncation } : {}),
    ...(isPairResult(result) ? { acrossPair: segmentShares(result).filter((s) => options.layer === undefined || s.layer === options.layer) } : {}),
    ...(result.note ? { note: result.note } : {}),
  };
}
