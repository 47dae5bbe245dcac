/**
 * Charts as SVG text, built from the same numbers the panel draws on canvas. Used by the panel's
 * SVG export and by the HTML report, so a figure looks the same wherever it ends up. No DOM, no
 * Node: runs in the webview and in the CLI.
 */
import { escapeHtml } from './htmlEscape';
import { divergingRgba, maxAbs, signColor } from './attributionScale';

export interface SvgPalette {
  foreground: string;
  muted: string;
  background: string;
  font: string;
}

export const DEFAULT_PALETTE: SvgPalette = {
  foreground: '#1f2328',
  muted: '#6e7781',
  background: '#ffffff',
  font: 'system-ui, -apple-system, Segoe UI, sans-serif',
};

const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toFixed(3));

function svgOpen(width: number, height: number, palette: SvgPalette, title: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${escapeHtml(palette.font)}" font-size="12" role="img" aria-label="${escapeHtml(title)}">` +
    `<title>${escapeHtml(title)}</title><rect width="100%" height="100%" fill="${escapeHtml(palette.background)}"/>`;
}

/** Horizontal bars, one per feature in input order, signed around a zero line. */
export function attributionBarsSvg(
  features: readonly { text: string; value: number }[],
  options: { title: string; width?: number; palette?: SvgPalette },
): string {
  const p = options.palette ?? DEFAULT_PALETTE;
  const width = options.width ?? 640;
  const rowH = 18;
  const top = 28;
  const labelW = Math.min(200, Math.max(60, ...features.map((f) => Math.min(30, f.text.length) * 7 + 8)));
  const valueW = 56;
  const plotW = Math.max(80, width - labelW - valueW - 16);
  const zeroX = labelW + plotW / 2;
  const scale = maxAbs(features.map((f) => f.value)) || 1;
  const height = top + features.length * rowH + 12;
  const parts = [svgOpen(width, height, p, options.title)];
  parts.push(`<text x="8" y="18" font-weight="600" fill="${p.foreground}">${escapeHtml(options.title)}</text>`);
  parts.push(`<line x1="${zeroX}" y1="${top - 4}" x2="${zeroX}" y2="${height - 8}" stroke="${p.muted}" stroke-width="1"/>`);
  features.forEach((f, i) => {
    const y = top + i * rowH;
    const w = (Math.abs(f.value) / scale) * (plotW / 2);
    const x = f.value >= 0 ? zeroX : zeroX - w;
    const label = f.text.length > 30 ? `${f.text.slice(0, 29)}…` : f.text;
    parts.push(`<text x="${labelW - 6}" y="${y + 13}" text-anchor="end" fill="${p.foreground}">${escapeHtml(label)}</text>`);
    parts.push(`<rect x="${x.toFixed(1)}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 6}" fill="${signColor(f.value)}"><title>${escapeHtml(`${f.text}: ${f.value}`)}</title></rect>`);
    parts.push(`<text x="${labelW + plotW + 6}" y="${y + 13}" fill="${p.muted}">${escapeHtml(fmt(f.value))}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

/** A heatmap of values in [0, 1] (row-major), with row and column labels. */
export function heatmapSvg(options: {
  title: string;
  rows: readonly string[];
  cols: readonly string[];
  values: ArrayLike<number>;
  /** Colour of a value in [0, 1]. */
  color?: (t: number) => string;
  cell?: number;
  palette?: SvgPalette;
}): string {
  const p = options.palette ?? DEFAULT_PALETTE;
  const cell = options.cell ?? 14;
  const color = options.color ?? ((t: number) => `rgba(234, 88, 12, ${Math.round(Math.max(0, Math.min(1, t)) * 1000) / 1000})`);
  const labelW = Math.min(140, Math.max(40, ...options.rows.map((r) => Math.min(18, r.length) * 7 + 8)));
  const labelH = Math.min(140, Math.max(40, ...options.cols.map((c) => Math.min(18, c.length) * 7 + 8)));
  const top = 24 + labelH;
  const width = labelW + options.cols.length * cell + 8;
  const height = top + options.rows.length * cell + 8;
  const clip = (s: string) => (s.length > 18 ? `${s.slice(0, 17)}…` : s);
  const parts = [svgOpen(width, height, p, options.title)];
  parts.push(`<text x="8" y="16" font-weight="600" fill="${p.foreground}">${escapeHtml(options.title)}</text>`);
  options.cols.forEach((c, j) => {
    const x = labelW + j * cell + cell / 2 + 4;
    parts.push(`<text transform="translate(${x} ${top - 4}) rotate(-60)" fill="${p.foreground}" font-size="10">${escapeHtml(clip(c))}</text>`);
  });
  options.rows.forEach((r, i) => {
    const y = top + i * cell;
    parts.push(`<text x="${labelW - 4}" y="${y + cell - 3}" text-anchor="end" fill="${p.foreground}" font-size="10">${escapeHtml(clip(r))}</text>`);
    for (let j = 0; j < options.cols.length; j++) {
      const v = Number(options.values[i * options.cols.length + j]);
      parts.push(`<rect x="${labelW + j * cell}" y="${y}" width="${cell}" height="${cell}" fill="${color(v)}"/>`);
    }
  });
  parts.push('</svg>');
  return parts.join('');
}

/** A simple line chart of one curve over [0, 1] (the deletion or insertion curve of a faithfulness check). */
export function curveSvg(curves: readonly { name: string; values: readonly number[]; color: string }[], options: { title: string; width?: number; height?: number; palette?: SvgPalette }): string {
  const p = options.palette ?? DEFAULT_PALETTE;
  const width = options.width ?? 320;
  const height = options.height ?? 180;
  const left = 40;
  const top = 26;
  const plotW = width - left - 10;
  const plotH = height - top - 24;
  const all = curves.flatMap((c) => c.values).filter(Number.isFinite);
  const lo = Math.min(0, ...all);
  const hi = Math.max(1e-9, ...all);
  const parts = [svgOpen(width, height, p, options.title)];
  parts.push(`<text x="8" y="16" font-weight="600" fill="${p.foreground}">${escapeHtml(options.title)}</text>`);
  parts.push(`<rect x="${left}" y="${top}" width="${plotW}" height="${plotH}" fill="none" stroke="${p.muted}"/>`);
  parts.push(`<text x="${left - 4}" y="${top + 10}" text-anchor="end" font-size="10" fill="${p.muted}">${escapeHtml(fmt(hi))}</text>`);
  parts.push(`<text x="${left - 4}" y="${top + plotH}" text-anchor="end" font-size="10" fill="${p.muted}">${escapeHtml(fmt(lo))}</text>`);
  curves.forEach((c, ci) => {
    const n = c.values.length;
    if (n === 0) return;
    const pts = c.values.map((v, i) => `${(left + (n === 1 ? 0 : (i / (n - 1)) * plotW)).toFixed(1)},${(top + plotH - ((v - lo) / (hi - lo)) * plotH).toFixed(1)}`);
    parts.push(`<polyline fill="none" stroke="${escapeHtml(c.color)}" stroke-width="2" points="${pts.join(' ')}"/>`);
    parts.push(`<text x="${left + 6}" y="${top + plotH + 16 + 0 * ci}" dx="${ci * 120}" font-size="10" fill="${escapeHtml(c.color)}">${escapeHtml(c.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

/** The text with each feature's span on a diverging background, as HTML (text always escaped). */
export function coloredTextHtml(text: string, features: readonly { start: number; end: number; value: number }[]): string {
  const scale = maxAbs(features.map((f) => f.value)) || 1;
  const sorted = [...features].filter((f) => f.end > f.start).sort((a, b) => a.start - b.start);
  let out = '';
  let pos = 0;
  for (const f of sorted) {
    if (f.start < pos) continue;
    out += escapeHtml(text.slice(pos, f.start));
    const t = f.value / scale;
    out += `<span class="feature" style="background:${divergingRgba(t)}" title="${escapeHtml(fmt(f.value))}">${escapeHtml(text.slice(f.start, f.end))}</span>`;
    pos = f.end;
  }
  return out + escapeHtml(text.slice(pos));
}
