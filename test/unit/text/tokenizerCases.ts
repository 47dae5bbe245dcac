// Shared inputs for the tokenizer tests: the four tokenizer kinds, hard strings and real sentences.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Tokenizer as ReferenceTokenizer } from '@huggingface/tokenizers';
import { loadTokenizer, Tokenizer } from '../../../src/engine/text/tokenizer';
import { SENTIMENT_DATA, TOKENIZERS } from '../../support/fixtureModels';


export interface TokenizerCase {
  name: string;
  kind: Tokenizer['kind'];
  json: any;
  config: any;
}

function readJson(file: string): any {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

/** The four kinds: two real tokenizers (full vocabularies) and our two generated fixtures. */
export const CASES: TokenizerCase[] = [
  {
    name: 'bert-base-uncased',
    kind: 'wordpiece',
    json: readJson(path.join(TOKENIZERS, 'bert-base-uncased/tokenizer.json')),
    config: readJson(path.join(TOKENIZERS, 'bert-base-uncased/tokenizer_config.json')),
  },
  {
    name: 'gpt2',
    kind: 'bpe-byte-level',
    json: readJson(path.join(TOKENIZERS, 'gpt2/tokenizer.json')),
    config: readJson(path.join(TOKENIZERS, 'gpt2/tokenizer_config.json')),
  },
  {
    name: 'unigram-small',
    kind: 'unigram',
    json: readJson(path.join(TOKENIZERS, 'unigram-small/tokenizer.json')),
    config: {},
  },
  {
    name: 'bpe-byte-fallback-small',
    kind: 'bpe-byte-fallback',
    json: readJson(path.join(TOKENIZERS, 'bpe-byte-fallback-small/tokenizer.json')),
    config: {},
  },
];

const loaded = new Map<string, { ours: Tokenizer; reference: ReferenceTokenizer }>();

/** Our tokenizer and the independent reference (`@huggingface/tokenizers`) for one case. */
export function tokenizersFor(c: TokenizerCase): { ours: Tokenizer; reference: ReferenceTokenizer } {
  let t = loaded.get(c.name);
  if (!t) {
    t = { ours: loadTokenizer(c.json, { tokenizerConfig: c.config }), reference: new ReferenceTokenizer(c.json, c.config) };
    loaded.set(c.name, t);
  }
  return t;
}

/** Text an editor can hold that tokenizers get wrong: whitespace, Unicode edge cases, special strings. */
export const HARD_STRINGS: string[] = [
  'Hello, world!',
  'The movie was unbelievably good.',
  ' tokenization',
  'tabs\tand  runs   of spaces\r\nand lines\n\nend',
  'zero\u200bwidth a\u200db, joiner',
  'thumbs 👍🏽 family 👨‍👩‍👧 flag 🇫🇷 done',
  'e\u0301cole and école and ÉCOLE',
  'naïve café résumé',
  '中文字 and 日本語です',
  'Ｈｅｌｌｏ full-width',
  'ﬁne ligatures ﬂ',
  'مرحبا بالعالم and שלום עולם',
  'control\u0007chars\u0000here\u001b',
  'lone \ud800 surrogate \udc00 here',
  'It\'s 3.14, isn\'t it? $100 (approx.) #tags @user',
  'Σίσυφος İstanbul straße',
  '   leading and trailing   ',
  'a',
  '',
];

/** 200 real sentences (labels removed): the first lines of the three UCI sentiment files. */
export function sentimentLines(count = 200): string[] {
  const dir = SENTIMENT_DATA;
  const files = ['amazon_cells_labelled.txt', 'imdb_labelled.txt', 'yelp_labelled.txt'];
  const per = Math.ceil(count / files.length);
  const lines: string[] = [];
  for (const f of files) {
    const text = fs.readFileSync(path.join(dir, f), 'utf8');
    lines.push(...text.split('\n').filter((l) => l.trim().length > 0).slice(0, per).map((l) => l.replace(/\t\d\s*$/, '')));
  }
  return lines.slice(0, count);
}
