/**
 * Charts as SVG text, built from the same numbers the panel draws on canvas. Used by the panel's
 * SVG export and by the HTML report, so a figure looks the same wherever it ends up. No DOM, no
 * Node: runs in the webview and in the CLI.
 */
import { escapeHtml } from './htmlEscape';
import { divergingRgba, maxAbs } from './attributionScale';
import type { HeadGridThumbnails } from '../protocol/webviewMessages';
import { ChartScene, clipText, DEFAULT_PALETTE, LEGEND_HEIGHT, LegendSpec, legendItems, niceTicks, SceneItem, sceneToSvg, SvgPalette, tickLabels, wrapText } from './chartScene';

const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toFixed(3)).replace(/^-/, '−');

function svgOpen(width: number, height: number, palette: SvgPalette, title: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${escapeHtml(palette.font)}" font-size="12" role="img" aria-label="${escapeHtml(title)}">` +
    `<title>${escapeHtml(title)}</title><rect width="100%" height="100%" fill="${escapeHtml(palette.background)}"/>`;
}

export interface BarChartOptions {
  /** Heading of the figure (also its accessible name). */
  title: string;
  /** Title of the value axis, with its unit, e.g. "attribution toward POSITIVE (logit)". */
  axisTitle: string;
  /** What the two bar colours mean, in words; omitted when the values have one sign by nature. */
  legend?: { positive: string; negative: string };
  width?: number;
  palette?: SvgPalette;
  /** The number written after each bar (default: its value). */
  valueText?: (index: number) => string;
}

/**
 * Horizontal bars, one per item in input order, from a zero line, on a value axis with round ticks,
 * grid lines and a title; positive bars in the palette's positive colour, negative in its negative.
 */
export function attributionBarsScene(features: readonly { text: string; value: number }[], options: BarChartOptions): ChartScene {
  const p = { ...DEFAULT_PALETTE, ...options.palette };
  const width = options.width ?? 640;
  const rowH = 18;
  // The title on two lines when the chart is too narrow for one (about 7 px a character in bold 12 px).
  const titleLines = wrapText(options.title, Math.max(12, Math.floor((width - 16) / 7)));
  const items: SceneItem[] = titleLines.map((line, i) => ({ kind: 'text' as const, x: 8, y: 18 + i * 16, text: line, fill: p.foreground, weight: 'bold' as const }));
  let top = 30 + (titleLines.length - 1) * 16;
  if (options.legend) {
    let x = 8;
    for (const [color, text] of [[p.positive!, options.legend.positive], [p.negative!, options.legend.negative]] as const) {
      items.push({ kind: 'rect', x, y: top, width: 10, height: 10, fill: color });
      items.push({ kind: 'text', x: x + 14, y: top + 9, text, fill: p.foreground, size: 11 });
      x += 22 + Math.min(48, text.length) * 6;
    }
    top += 20;
  }
  top += 4;
  const labelW = Math.min(200, Math.max(60, ...features.map((f) => Math.min(30, f.text.length) * 7 + 8)));
  const valueW = 56;
  const plotX = labelW;
  const plotW = Math.max(80, width - labelW - valueW - 8);
  const values = features.map((f) => (Number.isFinite(f.value) ? f.value : 0));
  const ticks = niceTicks(Math.min(0, ...values), Math.max(0, ...values), Math.max(2, Math.min(6, Math.floor(plotW / 70))));
  const lo = ticks[0];
  const hi = ticks[ticks.length - 1];
  const xOf = (v: number) => plotX + ((v - lo) / (hi - lo || 1)) * plotW;
  const plotBottom = top + features.length * rowH;
  const labels = tickLabels(ticks);
  ticks.forEach((t, i) => {
    const x = xOf(t);
    items.push({ kind: 'line', x1: x, y1: top - 2, x2: x, y2: plotBottom + 3, stroke: t === 0 ? p.muted : p.grid ?? p.muted, width: t === 0 ? 1.5 : 1 });
    items.push({ kind: 'text', x, y: plotBottom + 16, text: labels[i], fill: p.muted, size: 11, anchor: 'middle' });
  });
  features.forEach((f, i) => {
    const y = top + i * rowH;
    const v = values[i];
    const x0 = xOf(0);
    const x1 = xOf(v);
    items.push({ kind: 'text', x: labelW - 6, y: y + 13, text: clipText(f.text, 30), fill: p.foreground, anchor: 'end' });
    items.push({ kind: 'rect', x: Math.min(x0, x1), y: y + 3, width: Math.abs(x1 - x0), height: rowH - 6, fill: v >= 0 ? p.positive! : p.negative!, title: `${f.text}: ${v}` });
    items.push({ kind: 'text', x: plotX + plotW + 6, y: y + 13, text: options.valueText ? options.valueText(i) : fmt(v), fill: p.muted, size: 11 });
  });
  items.push({ kind: 'text', x: plotX + plotW / 2, y: plotBottom + 34, text: options.axisTitle, fill: p.foreground, size: 11, anchor: 'middle' });
  return { width, height: plotBottom + 44, title: options.title, background: p.background, font: p.font, items, axis: { title: options.axisTitle, ticks: labels } };
}

/** The bar chart as SVG text. */
export function attributionBarsSvg(features: readonly { text: string; value: number }[], options: BarChartOptions): string {
  return sceneToSvg(attributionBarsScene(features, options));
}

/** A heatmap of values in [0, 1] (row-major), with row and column labels and, when given, its colour legend. */
export function heatmapSvg(options: {
  title: string;
  rows: readonly string[];
  cols: readonly string[];
  values: ArrayLike<number>;
  /** Colour of a value in [0, 1] (or [−1, 1] for a diverging legend). */
  color?: (t: number) => string;
  cell?: number;
  palette?: SvgPalette;
  /** The colour scale: its title and labelled values (in the values' t units). */
  legend?: Omit<LegendSpec, 'color'>;
}): string {
  const p = { ...DEFAULT_PALETTE, ...options.palette };
  const cell = options.cell ?? 14;
  const color = options.color ?? ((t: number) => `rgba(234, 88, 12, ${Math.round(Math.max(0, Math.min(1, t)) * 1000) / 1000})`);
  const labelW = Math.min(140, Math.max(40, ...options.rows.map((r) => Math.min(18, r.length) * 7 + 8)));
  const labelH = Math.min(140, Math.max(40, ...options.cols.map((c) => Math.min(18, c.length) * 7 + 8)));
  const legendH = options.legend ? LEGEND_HEIGHT + 8 : 0;
  const top = 24 + legendH + labelH;
  const width = Math.max(labelW + options.cols.length * cell + 8, options.legend ? 260 : 0);
  const height = top + options.rows.length * cell + 8;
  const items: SceneItem[] = [{ kind: 'text', x: 8, y: 16, text: options.title, fill: p.foreground, weight: 'bold' }];
  if (options.legend) items.push(...legendItems({ ...options.legend, color }, 8, 36, 220, p));
  options.cols.forEach((c, j) => {
    items.push({ kind: 'text', x: labelW + j * cell + cell / 2 + 4, y: top - 4, rotate: -60, text: clipText(c, 18), fill: p.foreground, size: 10 });
  });
  options.rows.forEach((r, i) => {
    const y = top + i * cell;
    items.push({ kind: 'text', x: labelW - 4, y: y + cell - 3, text: clipText(r, 18), fill: p.foreground, size: 10, anchor: 'end' });
    for (let j = 0; j < options.cols.length; j++) {
      const v = Number(options.values[i * options.cols.length + j]);
      items.push({ kind: 'rect', x: labelW + j * cell, y, width: cell, height: cell, fill: color(v) });
    }
  });
  return sceneToSvg({ width, height, title: options.title, background: p.background, font: p.font, items });
}

/**
 * The model view as vectors: every layer × head as a small heatmap (downsampled to at most 16 × 16
 * cells to keep the file small), with layer and head labels and the colour legend.
 */
export function modelViewSvg(grid: HeadGridThumbnails, options: { title: string; color: (t: number) => string; palette?: SvgPalette }): string {
  const p = { ...DEFAULT_PALETTE, ...options.palette };
  const n = Math.min(16, grid.rows, grid.cols);
  const cell = 4;
  const size = n * cell;
  const step = size + 10;
  const left = 40;
  const top = 24 + LEGEND_HEIGHT + 12 + 16;
  const items: SceneItem[] = [{ kind: 'text', x: 8, y: 16, text: options.title, fill: p.foreground, weight: 'bold' }];
  items.push(...legendItems({ title: 'Attention weight, each head scaled to its largest', color: options.color, t0: 0, t1: 1, labels: [{ t: 0, text: '0' }, { t: 1, text: 'its max' }] }, 8, 36, 220, p));
  for (let h = 0; h < grid.heads; h++) items.push({ kind: 'text', x: left + h * step + size / 2, y: top - 6, text: `H${h + 1}`, fill: p.foreground, size: 10, anchor: 'middle' });
  grid.layers.forEach((layer, li) => {
    items.push({ kind: 'text', x: 4, y: top + li * step + size / 2 + 4, text: `L${layer + 1}`, fill: p.foreground, size: 10 });
    for (let h = 0; h < grid.heads; h++) {
      const base = (li * grid.heads + h) * grid.rows * grid.cols;
      const x0 = left + h * step;
      const y0 = top + li * step;
      items.push({ kind: 'rect', x: x0, y: y0, width: size, height: size, fill: options.color(0), stroke: p.grid });
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          const v = grid.data[base + Math.floor((i * grid.rows) / n) * grid.cols + Math.floor((j * grid.cols) / n)] / 255;
          if (v < 0.02) continue;
          items.push({ kind: 'rect', x: x0 + j * cell, y: y0 + i * cell, width: cell, height: cell, fill: options.color(v) });
        }
      }
    }
  });
  const width = Math.max(left + grid.heads * step, 260);
  return sceneToSvg({ width, height: top + grid.layers.length * step, title: options.title, background: p.background, font: p.font, items });
}

/** The legend of an attention heatmap whose darkest cell is `max` (the views scale each matrix to its largest weight). */
export function attentionLegend(max: number, title = 'Attention weight'): Omit<LegendSpec, 'color'> {
  return { title, t0: 0, t1: 1, labels: [{ t: 0, text: '0' }, { t: 0.5, text: fmt(max / 2) }, { t: 1, text: fmt(max) }] };
}

/** The diverging scale of attributions as a legend: blue (against) through clear (0) to red (toward), ±`scale`. */
export function divergingLegend(title: string, scale: number, maxAlpha = 0.8): LegendSpec {
  return {
    title,
    color: (t) => divergingRgba(t, maxAlpha),
    t0: -1,
    t1: 1,
    labels: [
      { t: -1, text: `−${fmt(scale)}` },
      { t: 0, text: '0' },
      { t: 1, text: `+${fmt(scale)}` },
    ],
  };
}

/**
 * Line charts of curves over a count of steps (the deletion and insertion curves of a faithfulness check): each
 * value is placed at its count (`counts[i]`, the features removed or inserted so far; by default i), so a curve
 * whose steps take several features at once keeps its true shape. The x axis has round ticks and `xTitle`.
 */
export function curveSvg(
  curves: readonly { name: string; values: readonly number[]; counts?: readonly number[]; color: string }[],
  options: { title: string; xTitle?: string; width?: number; height?: number; palette?: SvgPalette },
): string {
  const p = options.palette ?? DEFAULT_PALETTE;
  const width = options.width ?? 420;
  const height = options.height ?? 220;
  const left = 40;
  const top = 26;
  const plotW = width - left - 14;
  const plotH = height - top - 64;
  const plotBottom = top + plotH;
  const xsOf = (c: (typeof curves)[number]) => c.values.map((_, i) => (c.counts && Number.isFinite(c.counts[i]) ? c.counts[i] : i));
  const all = curves.flatMap((c) => c.values).filter(Number.isFinite);
  const lo = Math.min(0, ...all);
  const hi = Math.max(1e-9, ...all);
  const xMax = Math.max(1, ...curves.flatMap(xsOf));
  const xOf = (count: number) => left + (count / xMax) * plotW;
  const yOf = (v: number) => plotBottom - ((v - lo) / (hi - lo)) * plotH;
  const parts = [svgOpen(width, height, p, options.title)];
  parts.push(`<text x="8" y="16" font-weight="600" fill="${p.foreground}">${escapeHtml(options.title)}</text>`);
  parts.push(`<rect x="${left}" y="${top}" width="${plotW}" height="${plotH}" fill="none" stroke="${p.muted}"/>`);
  parts.push(`<text x="${left - 4}" y="${top + 10}" text-anchor="end" font-size="10" fill="${p.muted}">${escapeHtml(fmt(hi))}</text>`);
  parts.push(`<text x="${left - 4}" y="${plotBottom}" text-anchor="end" font-size="10" fill="${p.muted}">${escapeHtml(fmt(lo))}</text>`);
  // Round ticks of the count, ending with the last count (it replaces a round tick too close to it to read apart).
  const ticks = niceTicks(0, xMax, Math.max(2, Math.min(6, Math.floor(plotW / 60)))).filter((t) => t <= xMax && Number.isInteger(t));
  if (ticks[ticks.length - 1] !== xMax) {
    if (ticks.length > 1 && xMax - ticks[ticks.length - 1] < 0.12 * xMax) ticks.pop();
    ticks.push(xMax);
  }
  for (const t of ticks) {
    const x = xOf(t).toFixed(1);
    parts.push(`<line x1="${x}" y1="${plotBottom}" x2="${x}" y2="${plotBottom + 4}" stroke="${p.muted}"/>`);
    parts.push(`<text x="${x}" y="${plotBottom + 15}" text-anchor="middle" font-size="10" fill="${p.muted}" class="x-tick">${t}</text>`);
  }
  parts.push(`<text x="${left + plotW / 2}" y="${plotBottom + 30}" text-anchor="middle" font-size="11" fill="${p.foreground}">${escapeHtml(options.xTitle ?? 'steps')}</text>`);
  curves.forEach((c, ci) => {
    if (c.values.length === 0) return;
    const xs = xsOf(c);
    const pts = c.values.map((v, i) => `${xOf(xs[i]).toFixed(1)},${yOf(v).toFixed(1)}`);
    parts.push(`<polyline fill="none" stroke="${escapeHtml(c.color)}" stroke-width="2" points="${pts.join(' ')}"><title>${escapeHtml(c.name)}</title></polyline>`);
    const lx = left + ci * 120;
    parts.push(`<rect x="${lx}" y="${plotBottom + 41}" width="14" height="3" fill="${escapeHtml(c.color)}"/>`);
    parts.push(`<text x="${lx + 18}" y="${plotBottom + 46}" font-size="10" fill="${p.foreground}">${escapeHtml(c.name)}</text>`);
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
