/**
 * Layout and reading aids of the attention views, as pure functions: how large the model view's
 * thumbnails are at a panel width, which words a thumbnail cell covers, and a head's strongest links.
 */
import type { UnitLabel } from '../protocol/webviewMessages';
import { visibleToken } from './tokenText';

/** The widest thumbnail (px): wider grids would only push the other heads off screen. */
export const MAX_THUMBNAIL = 220;

/**
 * The model view's thumbnail size: as large as the panel allows for all heads side by side, but never
 * below two pixels per word (up to 64 words; thumbnails hold at most 64 × 64 cells) nor below 64 px,
 * so a 20–60 word input stays readable; wide models then scroll sideways.
 */
export function modelViewLayout(width: number, heads: number, units: number, left: number): { thumb: number; gap: number } {
  const gap = 8;
  const fit = Math.floor((width - left) / Math.max(1, heads)) - gap;
  const readable = Math.max(64, 2 * Math.min(64, units));
  return { thumb: Math.max(readable, Math.min(MAX_THUMBNAIL, fit)), gap };
}

/**
 * The label of each of `cells` thumbnail rows (or columns) over `units` words: the word itself when
 * every word has its cell, else the range of words max-pooled into it ("film … moving").
 */
export function pooledUnits(units: readonly UnitLabel[], cells: number): string[] {
  const names = units.map((u) => visibleToken(u.label));
  if (cells >= units.length) return names;
  const out: string[] = [];
  for (let c = 0; c < cells; c++) {
    // maxPool puts unit i into cell floor(i × cells / units).
    const first = Math.ceil((c * units.length) / cells);
    const last = Math.ceil(((c + 1) * units.length) / cells) - 1;
    out.push(first === last ? names[first] : `${names[first]} … ${names[last]}`);
  }
  return out;
}

/** The `count` largest cells of a rows × cols block of 0–255 values (at `offset`), as attention weights. */
export function strongestLinks(data: ArrayLike<number>, offset: number, rows: number, cols: number, scale: number, count: number): { row: number; col: number; value: number }[] {
  const cells: { row: number; col: number; v: number }[] = [];
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) cells.push({ row: r, col: c, v: data[offset + r * cols + c] });
  return cells
    .sort((a, b) => b.v - a.v || a.row - b.row || a.col - b.col)
    .slice(0, count)
    .map(({ row, col, v }) => ({ row, col, value: (v / 255) * scale }));
}
