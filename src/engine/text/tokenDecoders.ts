import { byteLevelPieceBytes, decodeUtf8, displayBytes } from './byteLevelAlphabet';
import { patternOf } from './normalizers';
import { TokenizerError } from './tokenizerError';

type Json = Record<string, any>;

/** A decoder step: token strings in, token strings out (Hugging Face's `decode_chain`). */
export type Decoder = (pieces: string[]) => string[];

const BYTE_PIECE = /^<0x([0-9A-Fa-f]{2})>$/;

/** Builds the decoder of a `tokenizer.json` `decoder` entry; null joins pieces with spaces. */
export function buildDecoder(config: Json | null | undefined): Decoder {
  if (config === null || config === undefined) return (pieces) => [pieces.join(' ')];
  switch (config.type) {
    case 'Sequence': {
      const steps = ((config.decoders ?? []) as Json[]).map(buildDecoder);
      return (pieces) => steps.reduce((acc, step) => step(acc), pieces);
    }
    case 'ByteLevel':
      return (pieces) => {
        const bytes: number[] = [];
        for (const p of pieces) {
          const b = byteLevelPieceBytes(p);
          if (b) bytes.push(...b);
          else bytes.push(...new TextEncoder().encode(p));
        }
        return [decodeUtf8(bytes)];
      };
    case 'WordPiece': {
      const prefix = String(config.prefix ?? '##');
      const cleanup = config.cleanup ?? true;
      return (pieces) =>
        pieces.map((p, i) => {
          let t = i > 0 ? (p.startsWith(prefix) ? p.slice(prefix.length) : ' ' + p) : p;
          if (cleanup) t = cleanUpTokenizationSpaces(t);
          return t;
        });
    }
    case 'Metaspace': {
      const replacement = String(config.replacement ?? '▁');
      const scheme: string = config.prepend_scheme ?? (config.add_prefix_space === false ? 'never' : 'always');
      return (pieces) =>
        pieces.map((p, i) => {
          const t = p.split(replacement).join(' ');
          return i === 0 && scheme !== 'never' && t.startsWith(' ') ? t.slice(1) : t;
        });
    }
    case 'Replace': {
      const re = patternOf(config.pattern, 'Replace decoder');
      const content = String(config.content ?? '');
      return (pieces) => pieces.map((p) => p.replace(re, content));
    }
    case 'ByteFallback':
      return (pieces) => {
        const out: string[] = [];
        let bytes: number[] = [];
        const flush = (): void => {
          if (bytes.length === 0) return;
          try {
            out.push(new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes)));
          } catch {
            out.push('\ufffd'.repeat(bytes.length));
          }
          bytes = [];
        };
        for (const p of pieces) {
          const m = BYTE_PIECE.exec(p);
          if (m) bytes.push(parseInt(m[1], 16));
          else {
            flush();
            out.push(p);
          }
        }
        flush();
        return out;
      };
    case 'Fuse':
      return (pieces) => [pieces.join('')];
    case 'Strip': {
      const content = String(config.content ?? ' ');
      const start = Number(config.start ?? 0);
      const stop = Number(config.stop ?? 0);
      return (pieces) =>
        pieces.map((p) => {
          let a = 0;
          let z = p.length;
          for (let k = 0; k < start && p.startsWith(content, a); k++) a += content.length;
          for (let k = 0; k < stop && z - content.length >= a && p.startsWith(content, z - content.length); k++) z -= content.length;
          return p.slice(a, z);
        });
    }
    case 'BPEDecoder': {
      const suffix = String(config.suffix ?? '</w>');
      return (pieces) => pieces.map((p, i) => p.split(suffix).join(i === pieces.length - 1 ? '' : ' '));
    }
    default:
      throw new TokenizerError(
        `This tokenizer uses a "${String(config.type)}" decoder, which ONNX Lens does not support yet.`,
        'unsupported',
      );
  }
}

/** The clean-up transformers applies after decoding (`clean_up_tokenization_spaces`). */
export function cleanUpTokenizationSpaces(s: string): string {
  return s
    .replaceAll(' .', '.')
    .replaceAll(' ?', '?')
    .replaceAll(' !', '!')
    .replaceAll(' ,', ',')
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}

/** How single tokens are shown, derived from the tokenizer's kind. */
export interface DisplayStyle {
  byteLevel: boolean;
  /** WordPiece continuation prefix, e.g. `##`. */
  continuationPrefix?: string;
  /** Metaspace replacement character, e.g. `▁`. */
  metaspace?: string;
}

/**
 * A token as a person reads it: `Ġhello` → ` hello`, `##ing` → `ing`, `▁the` → ` the`, `<0x41>` → `A`.
 * Bytes that do not form whole characters stay visible as `<0xNN>`.
 */
export function displayPiece(piece: string, style: DisplayStyle): string {
  if (style.byteLevel) {
    const bytes = byteLevelPieceBytes(piece);
    return bytes ? displayBytes(bytes) : piece;
  }
  const m = BYTE_PIECE.exec(piece);
  if (m) return displayBytes([parseInt(m[1], 16)]);
  let t = piece;
  if (style.continuationPrefix && t.startsWith(style.continuationPrefix) && t.length > style.continuationPrefix.length) {
    t = t.slice(style.continuationPrefix.length);
  }
  if (style.metaspace) t = t.split(style.metaspace).join(' ');
  return t;
}
