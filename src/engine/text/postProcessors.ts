import { TokenizerError } from './tokenizerError';

type Json = Record<string, any>;

/** One item of a template: special tokens to insert, or the tokens of the first or second text. */
export type TemplateItem =
  | { kind: 'special'; ids: number[]; pieces: string[]; typeId: number }
  | { kind: 'sequence'; sequence: 0 | 1; typeId: number };

/** Where the special tokens go around one text (`single`) or two texts (`pair`). */
export interface Template {
  single: TemplateItem[];
  pair: TemplateItem[];
}

const PLAIN: Template = {
  single: [{ kind: 'sequence', sequence: 0, typeId: 0 }],
  pair: [
    { kind: 'sequence', sequence: 0, typeId: 0 },
    // Without a template Hugging Face concatenates the texts and leaves every type id at 0.
    { kind: 'sequence', sequence: 1, typeId: 0 },
  ],
};

/**
 * Reads a `post_processor` entry as a template. TemplateProcessing, BertProcessing and
 * RobertaProcessing add special tokens; ByteLevel only trims offsets (our offsets are always trimmed),
 * so it adds nothing. A Sequence uses the first step that adds tokens.
 */
export function buildTemplate(config: Json | null | undefined, tokenToId: (piece: string) => number | undefined): Template {
  if (config === null || config === undefined) return PLAIN;
  const special = (piece: string, id: unknown, typeId: number): TemplateItem => {
    const resolved = typeof id === 'number' ? id : tokenToId(piece);
    if (resolved === undefined) {
      throw new TokenizerError(`The post-processor in tokenizer.json adds "${piece}", which is not in the vocabulary.`, 'malformed');
    }
    return { kind: 'special', ids: [resolved], pieces: [piece], typeId };
  };
  const seq = (sequence: 0 | 1, typeId: number): TemplateItem => ({ kind: 'sequence', sequence, typeId });
  switch (config.type) {
    case 'TemplateProcessing': {
      const specials = (config.special_tokens ?? {}) as Record<string, { ids?: number[]; tokens?: string[] }>;
      const read = (items: unknown): TemplateItem[] => {
        if (!Array.isArray(items)) return [];
        return items.map((item: Json) => {
          if (item.SpecialToken) {
            const name = String(item.SpecialToken.id);
            const entry = specials[name];
            const ids = entry?.ids ?? (tokenToId(name) !== undefined ? [tokenToId(name) as number] : undefined);
            if (!ids) {
              throw new TokenizerError(`The template in tokenizer.json uses "${name}", which it does not define.`, 'malformed');
            }
            return { kind: 'special', ids, pieces: entry?.tokens ?? [name], typeId: item.SpecialToken.type_id ?? 0 };
          }
          if (item.Sequence) return seq(item.Sequence.id === 'B' ? 1 : 0, item.Sequence.type_id ?? 0);
          throw new TokenizerError('A template item in tokenizer.json is neither SpecialToken nor Sequence.', 'malformed');
        });
      };
      const single = read(config.single);
      const pair = read(config.pair);
      return { single: single.length > 0 ? single : PLAIN.single, pair: pair.length > 0 ? pair : [...single, ...PLAIN.pair.slice(1)] };
    }
    case 'BertProcessing': {
      const [sepPiece, sepId] = config.sep ?? ['[SEP]', undefined];
      const [clsPiece, clsId] = config.cls ?? ['[CLS]', undefined];
      return {
        single: [special(clsPiece, clsId, 0), seq(0, 0), special(sepPiece, sepId, 0)],
        pair: [special(clsPiece, clsId, 0), seq(0, 0), special(sepPiece, sepId, 0), seq(1, 1), special(sepPiece, sepId, 1)],
      };
    }
    case 'RobertaProcessing': {
      const [sepPiece, sepId] = config.sep ?? ['</s>', undefined];
      const [clsPiece, clsId] = config.cls ?? ['<s>', undefined];
      // RoBERTa has a single token type: type 1 would index past its type embedding.
      return {
        single: [special(clsPiece, clsId, 0), seq(0, 0), special(sepPiece, sepId, 0)],
        pair: [
          special(clsPiece, clsId, 0),
          seq(0, 0),
          special(sepPiece, sepId, 0),
          special(sepPiece, sepId, 0),
          seq(1, 0),
          special(sepPiece, sepId, 0),
        ],
      };
    }
    case 'ByteLevel':
      return PLAIN;
    case 'Sequence': {
      const steps = ((config.processors ?? []) as Json[]).map((p) => buildTemplate(p, tokenToId));
      return steps.find((t) => t !== PLAIN) ?? PLAIN;
    }
    default:
      throw new TokenizerError(
        `This tokenizer uses a "${String(config.type)}" post-processor, which ONNX Lens does not support yet.`,
        'unsupported',
      );
  }
}

/** Number of special tokens a template adds. */
export function countSpecials(items: TemplateItem[]): number {
  return items.reduce((n, item) => n + (item.kind === 'special' ? item.ids.length : 0), 0);
}
