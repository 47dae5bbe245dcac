/**
 * A dataset run as CSV, for spreadsheets: one row per listed example (misclassified and least
 * confident), then one row per influential word of each class. Used by the panel's export and by
 * `onnx-lens dataset --csv`.
 */
import type { DatasetResult } from '../protocol/engineApi';

/**
 * One CSV field (RFC 4180). Text that a spreadsheet would run as a formula (=, +, -, @ at the
 * start) gets a leading apostrophe: dataset text is untrusted and must open as text.
 */
export function csvField(value: string | number | boolean | undefined | null, kind: 'text' | 'number' = typeof value === 'number' ? 'number' : 'text'): string {
  if (value === undefined || value === null) return '';
  if (kind === 'number') return typeof value === 'number' && !Number.isFinite(value) ? '' : String(value);
  let s = String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

export const DATASET_CSV_HEADER = ['section', 'line', 'text', 'label', 'predicted', 'probability', 'class', 'word', 'mean_abs_attribution', 'mean_attribution', 'count'];

/** The CSV document (CRLF line ends, as RFC 4180 has them). */
export function datasetCsv(result: DatasetResult): string {
  const rows: string[][] = [DATASET_CSV_HEADER];
  const exampleRow = (section: string, e: DatasetResult['misclassified'][number]) => [
    csvField(section),
    csvField(e.line),
    csvField(e.text),
    csvField(e.label),
    csvField(e.predicted),
    csvField(e.probability),
    '', '', '', '', '',
  ];
  for (const e of result.misclassified) rows.push(exampleRow('misclassified', e));
  for (const e of result.leastConfident) rows.push(exampleRow('least-confident', e));
  for (const [cls, words] of Object.entries(result.words ?? {})) {
    for (const w of words) rows.push([csvField('word'), '', '', '', '', '', csvField(cls), csvField(w.word), csvField(w.meanAbs), csvField(w.mean), csvField(w.count)]);
  }
  return rows.map((r) => r.join(',')).join('\r\n') + '\r\n';
}
