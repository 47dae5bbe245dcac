/**
 * What the Run on Dataset… command offers before it starts: the columns of a dataset file (from
 * its header row or first JSON object) and which of them look like the text and the label. Also
 * where an example's text sits on its line, so a clicked example opens with exactly that text
 * selected. Pure: the caller reads the first bytes of the file.
 */
import type { DatasetFormat } from '../../protocol/engineApi';
import { delimitedRecords } from '../../engine/inspect/datasetReader';

/** Names that usually hold the text / the label, best first (the engine's defaults agree). */
const TEXT_NAMES = ['text', 'sentence', 'review', 'content', 'document', 'input'];
const LABEL_NAMES = ['label', 'labels', 'sentiment', 'class', 'target', 'gold'];

export interface DatasetColumns {
  format: DatasetFormat;
  /** Column names (csv/tsv header, or the keys of the first JSON object); empty for .txt. */
  columns: string[];
  /** The column most likely to hold the text, and the label (undefined when none looks like one). */
  text?: string;
  label?: string;
}

/** The format of a file name, or undefined when ONNX Lens does not read it. */
export function datasetFormatOf(fileName: string): DatasetFormat | undefined {
  const m = /\.([^./\\]+)$/.exec(fileName.toLowerCase());
  const ext = m?.[1];
  if (ext === 'jsonl' || ext === 'ndjson') return 'jsonl';
  if (ext === 'csv') return 'csv';
  if (ext === 'tsv' || ext === 'tab') return 'tsv';
  if (ext === 'txt') return 'txt';
  return undefined;
}

function firstRecord(head: string, delimiter: string, quoting: boolean): Promise<string[] | undefined> {
  const chunks = (async function* () {
    yield head;
  })();
  return (async () => {
    for await (const r of delimitedRecords(chunks, delimiter, quoting)) {
      if (r.fields.some((f) => f.trim() !== '')) return r.fields;
    }
    return undefined;
  })();
}

function guess(columns: readonly string[], names: readonly string[], exclude?: string): string | undefined {
  const lower = columns.map((c) => c.trim().toLowerCase());
  for (const n of names) {
    const i = lower.indexOf(n);
    if (i >= 0 && columns[i] !== exclude) return columns[i];
  }
  return undefined;
}

/**
 * The columns of a dataset from the start of its file. `head` should hold at least the first full
 * record (the first few kilobytes do). A csv/tsv file is taken to have a header row.
 */
export async function datasetColumns(head: string, format: DatasetFormat): Promise<DatasetColumns> {
  const text = head.replace(/^\uFEFF/, '');
  let columns: string[] = [];
  if (format === 'jsonl') {
    const line = text.split(/\r?\n/).find((l) => l.trim() !== '');
    if (line) {
      try {
        const value = JSON.parse(line) as unknown;
        if (value && typeof value === 'object' && !Array.isArray(value)) {
          columns = Object.entries(value as Record<string, unknown>)
            .filter(([, v]) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')
            .map(([k]) => k);
        }
      } catch {
        // A first line that is not JSON: the engine reports it with its line number.
      }
    }
  } else if (format === 'csv' || format === 'tsv') {
    // Only complete records count: a header cut off by the end of `head` would give a wrong last name.
    const complete = text.lastIndexOf('\n') >= 0 ? text.slice(0, text.lastIndexOf('\n') + 1) : text;
    columns = ((await firstRecord(complete, format === 'csv' ? ',' : '\t', format === 'csv')) ?? []).map((c) => c.trim());
  }
  const textColumn = guess(columns, TEXT_NAMES) ?? (format === 'jsonl' ? undefined : columns[0]);
  return { format, columns, text: textColumn, label: guess(columns, LABEL_NAMES, textColumn) };
}

/**
 * Where `text` sits on `line` (UTF-16 offsets), so the editor can select it. For csv and jsonl the
 * text may be quoted or escaped on the line; then the span is found only when it appears verbatim,
 * and undefined means "select the whole line".
 */
export function exampleSpan(line: string, text: string): { start: number; end: number } | undefined {
  if (text.length === 0) return undefined;
  const at = line.indexOf(text);
  return at >= 0 ? { start: at, end: at + text.length } : undefined;
}
