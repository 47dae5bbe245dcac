import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import type { DatasetFormat } from '../../protocol/engineApi';
import { BadInputError } from '../process/engineErrors';

/** One example read from a dataset file, or a line that could not be used and why. */
export type DatasetRecord =
  | { line: number; text: string; label?: string }
  | { line: number; skip: string };

export interface DatasetReadOptions {
  format?: DatasetFormat;
  textColumn?: string | number;
  labelColumn?: string | number;
  header?: boolean;
}

/** Longest field accepted, in UTF-16 units: a runaway quoted field must not take the engine's memory. */
const MAX_FIELD_CHARS = 1_000_000;
/** Column names taken as the text / the label when the caller names none. */
const TEXT_NAMES = ['text', 'sentence', 'review', 'content', 'document', 'input'];
const LABEL_NAMES = ['label', 'labels', 'sentiment', 'class', 'target', 'gold'];

/** The format of a file, from its extension. */
export function detectFormat(file: string): DatasetFormat {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.csv') return 'csv';
  if (ext === '.tsv' || ext === '.tab') return 'tsv';
  if (ext === '.txt' || ext === '') return 'txt';
  throw new BadInputError(`ONNX Lens reads .jsonl, .csv, .tsv and .txt files; "${path.basename(file)}" is none of these. Give its format explicitly if it is one of them.`);
}

/**
 * Splits a stream of text into records of fields, as RFC 4180 says for CSV (fields in double quotes may
 * hold the delimiter, line breaks and doubled quotes; CRLF or LF ends a record) or plainly for TSV (no
 * quoting, as the IANA TSV format has none). Yields each record with the 1-based line it starts on. Reads
 * chunk by chunk: memory holds one record at a time.
 */
export async function* delimitedRecords(chunks: AsyncIterable<string>, delimiter: string, quoting: boolean): AsyncGenerator<{ line: number; fields: string[] }> {
  let fields: string[] = [];
  let field = '';
  let inQuotes = false;
  /** After a closing quote: only a delimiter or a line break may follow (anything else is kept, leniently). */
  let afterQuote = false;
  let pendingQuote = false;
  let line = 1;
  let recordLine = 1;
  let sawAny = false;
  let pendingCR = false;
  const push = (c: string) => {
    if (field.length >= MAX_FIELD_CHARS) throw new BadInputError(`A field starting on line ${recordLine} is longer than ${MAX_FIELD_CHARS.toLocaleString('en-US')} characters; is a quote left open?`);
    field += c;
  };
  for await (const chunk of chunks) {
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i];
      if (pendingCR) {
        pendingCR = false;
        if (c === '\n') continue; // CRLF already ended the record
      }
      if (pendingQuote) {
        pendingQuote = false;
        if (c === '"') {
          push('"');
          continue;
        }
        inQuotes = false;
        afterQuote = true;
      }
      if (inQuotes) {
        if (c === '"') pendingQuote = true;
        else {
          if (c === '\n') line++;
          push(c);
        }
        continue;
      }
      if (c === delimiter) {
        fields.push(field);
        field = '';
        afterQuote = false;
        sawAny = true;
        continue;
      }
      if (c === '\n' || c === '\r') {
        fields.push(field);
        yield { line: recordLine, fields };
        fields = [];
        field = '';
        afterQuote = false;
        sawAny = false;
        line++;
        recordLine = line;
        pendingCR = c === '\r';
        continue;
      }
      if (c === '"' && quoting && field.length === 0 && !afterQuote) {
        inQuotes = true;
        sawAny = true;
        continue;
      }
      sawAny = true;
      push(c);
    }
  }
  if (pendingQuote) inQuotes = false;
  if (inQuotes) throw new BadInputError(`A quoted field starting on line ${recordLine} is never closed.`);
  if (sawAny || field.length > 0 || fields.length > 0) {
    fields.push(field);
    yield { line: recordLine, fields };
  }
}

/** Resolves a column given by name or index against a header (or none). */
function columnIndex(col: string | number | undefined, header: string[] | undefined, what: string, fallbackNames: string[]): number | undefined {
  if (col === undefined) {
    if (!header) return undefined;
    const i = header.findIndex((h) => fallbackNames.includes(h.trim().toLowerCase()));
    return i >= 0 ? i : undefined;
  }
  if (typeof col === 'number' || /^\d+$/.test(col)) return Number(col);
  if (!header) throw new BadInputError(`The ${what} column "${col}" is named, but the file has no header row; give the column's number (0 = first).`);
  const i = header.findIndex((h) => h.trim().toLowerCase() === col.toLowerCase());
  if (i < 0) throw new BadInputError(`The file has no ${what} column "${col}"; its columns are ${header.map((h) => `"${h}"`).join(', ')}.`);
  return i;
}

/** A readable stream that reports how many bytes have been read, for progress. */
export interface ByteCounter {
  bytesRead: number;
  size: number;
}

/**
 * Streams the examples of a .jsonl, .csv, .tsv or .txt file: the text (and label) columns the caller picks,
 * with the line each example starts on. Never holds the file in memory.
 */
export async function* readDataset(file: string, options: DatasetReadOptions, counter?: ByteCounter): AsyncGenerator<DatasetRecord> {
  if (!fs.existsSync(file) || !fs.statSync(file).isFile()) throw new BadInputError(`There is no file "${file}".`);
  const format = options.format ?? detectFormat(file);
  const stream = fs.createReadStream(file, { encoding: 'utf8', highWaterMark: 64 * 1024 });
  if (counter) {
    counter.size = fs.statSync(file).size;
    stream.on('data', () => (counter.bytesRead = stream.bytesRead));
  }
  try {
    if (format === 'txt' || format === 'jsonl') {
      const lines = readline.createInterface({ input: stream, crlfDelay: Infinity });
      let n = 0;
      for await (const raw of lines) {
        n++;
        const lineText = n === 1 ? raw.replace(/^\uFEFF/, '') : raw;
        if (lineText.trim().length === 0) continue;
        if (format === 'txt') {
          yield { line: n, text: lineText };
          continue;
        }
        let obj: unknown;
        try {
          obj = JSON.parse(lineText);
        } catch {
          yield { line: n, skip: 'not valid JSON' };
          continue;
        }
        if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
          yield { line: n, skip: 'not a JSON object' };
          continue;
        }
        const rec = obj as Record<string, unknown>;
        const textKey = options.textColumn !== undefined ? String(options.textColumn) : (TEXT_NAMES.find((k) => typeof rec[k] === 'string') ?? Object.keys(rec).find((k) => typeof rec[k] === 'string'));
        const text = textKey === undefined ? undefined : rec[textKey];
        if (typeof text !== 'string') {
          yield { line: n, skip: `no text field${options.textColumn !== undefined ? ` "${options.textColumn}"` : ''}` };
          continue;
        }
        const labelKey = options.labelColumn !== undefined ? String(options.labelColumn) : LABEL_NAMES.find((k) => k in rec);
        const label = labelKey === undefined ? undefined : rec[labelKey];
        yield { line: n, text, label: label === undefined || label === null ? undefined : String(label) };
      }
      return;
    }
    const delimiter = format === 'tsv' ? '\t' : ',';
    let header: string[] | undefined;
    let textCol: number | undefined;
    let labelCol: number | undefined;
    let first = true;
    for await (const rec of delimitedRecords(stream as AsyncIterable<string>, delimiter, format === 'csv')) {
      if (first) {
        first = false;
        rec.fields[0] = rec.fields[0].replace(/^\uFEFF/, '');
        const named = typeof options.textColumn === 'string' && !/^\d+$/.test(options.textColumn);
        const looksLikeHeader = rec.fields.some((f) => [...TEXT_NAMES, ...LABEL_NAMES].includes(f.trim().toLowerCase()));
        const hasHeader = options.header ?? (named || looksLikeHeader);
        if (hasHeader) header = rec.fields;
        textCol = columnIndex(options.textColumn, header, 'text', TEXT_NAMES) ?? 0;
        labelCol = columnIndex(options.labelColumn, header, 'label', LABEL_NAMES);
        if (hasHeader) continue;
      }
      if (rec.fields.length === 1 && rec.fields[0].trim() === '') continue;
      const text = rec.fields[textCol as number];
      if (text === undefined) {
        yield { line: rec.line, skip: `no column ${textCol} (the row has ${rec.fields.length})` };
        continue;
      }
      const label = labelCol === undefined ? undefined : rec.fields[labelCol];
      yield { line: rec.line, text, label: label === undefined ? undefined : label };
    }
  } finally {
    stream.destroy();
  }
}
