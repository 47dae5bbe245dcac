/**
 * A chart as a list of shapes: laid out once, drawn as SVG text (exports, the HTML report, the CLI)
 * or as SVG elements in a webview, and rasterised from that same SVG for PNG. One layout, so a figure
 * looks the same on screen, in an SVG file and in a PNG file.
 */
import { escapeHtml } from './htmlEscape';

export type SceneItem =
  | { kind: 'rect'; x: number; y: number; width: number; height: number; fill: string; stroke?: string; title?: string }
  | { kind: 'line'; x1: number; y1: number; x2: number; y2: number; stroke: string; width?: number; dash?: string }
  | {
      kind: 'text';
      x: number;
      y: number;
      text: string;
      fill: string;
      anchor?: 'start' | 'middle' | 'end';
      size?: number;
      weight?: 'normal' | 'bold';
      /** Degrees, around (x, y). */
      rotate?: number;
    };

export interface ChartScene {
  width: number;
  height: number;
  /** The figure's accessible name and <title>. */
  title: string;
  background: string;
  font: string;
  items: SceneItem[];
  /** What the value axis says, when the chart has one: its title and tick labels. */
  axis?: { title: string; ticks: string[] };
}

export interface SvgPalette {
  foreground: string;
  muted: string;
  background: string;
  font: string;
  /** Bars and cells that push toward the explained output (default red). */
  positive?: string;
  /** … and against it (default blue). */
  negative?: string;
  /** Grid lines. */
  grid?: string;
}

export const DEFAULT_PALETTE: SvgPalette = {
  foreground: '#1f2328',
  muted: '#59636e',
  background: '#ffffff',
  font: 'system-ui, -apple-system, Segoe UI, sans-serif',
  positive: '#dc2626',
  negative: '#2563eb',
  grid: '#d1d9e0',
};

const n = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(1));

/** The scene as standalone SVG text; every string from a model or document is escaped. */
export function sceneToSvg(scene: ChartScene): string {
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${n(scene.width)}" height="${n(scene.height)}" viewBox="0 0 ${n(scene.width)} ${n(scene.height)}" font-family="${escapeHtml(scene.font)}" font-size="12" role="img" aria-label="${escapeHtml(scene.title)}">`,
    `<title>${escapeHtml(scene.title)}</title><rect width="100%" height="100%" fill="${escapeHtml(scene.background)}"/>`,
  ];
  for (const item of scene.items) {
    if (item.kind === 'rect') {
      const stroke = item.stroke ? ` stroke="${escapeHtml(item.stroke)}"` : '';
      const body = item.title ? `><title>${escapeHtml(item.title)}</title></rect>` : '/>';
      parts.push(`<rect x="${n(item.x)}" y="${n(item.y)}" width="${n(Math.max(0, item.width))}" height="${n(Math.max(0, item.height))}" fill="${escapeHtml(item.fill)}"${stroke}${body}`);
    } else if (item.kind === 'line') {
      const dash = item.dash ? ` stroke-dasharray="${escapeHtml(item.dash)}"` : '';
      parts.push(`<line x1="${n(item.x1)}" y1="${n(item.y1)}" x2="${n(item.x2)}" y2="${n(item.y2)}" stroke="${escapeHtml(item.stroke)}" stroke-width="${item.width ?? 1}"${dash}/>`);
    } else {
      const anchor = item.anchor && item.anchor !== 'start' ? ` text-anchor="${item.anchor}"` : '';
      const size = item.size ? ` font-size="${item.size}"` : '';
      const weight = item.weight === 'bold' ? ' font-weight="600"' : '';
      const place = item.rotate ? `transform="translate(${n(item.x)} ${n(item.y)}) rotate(${item.rotate})"` : `x="${n(item.x)}" y="${n(item.y)}"`;
      parts.push(`<text ${place}${anchor}${size}${weight} fill="${escapeHtml(item.fill)}" xml:space="preserve">${escapeHtml(item.text)}</text>`);
    }
  }
  parts.push('</svg>');
  return parts.join('');
}

/**
 * Round tick values covering [lo, hi]: steps of 1, 2, 2.5 or 5 × 10^k, about `count` of them, the
 * first at or below lo and the last at or above hi.
 */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
  if (lo > hi) [lo, hi] = [hi, lo];
  if (lo === hi) {
    const pad = lo === 0 ? 1 : Math.abs(lo) / 2;
    lo -= lo === 0 ? 0 : pad;
    hi += pad;
  }
  const raw = (hi - lo) / Math.max(1, count);
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw * 0.999) ?? 10 * power;
  const first = Math.floor(lo / step + 1e-9);
  const last = Math.ceil(hi / step - 1e-9);
  const ticks: number[] = [];
  for (let i = first; i <= last; i++) ticks.push(Number((i * step).toPrecision(12)));
  return ticks;
}

/** Tick labels with as many decimals as the step needs, the same for every tick. */
export function tickLabels(ticks: readonly number[]): string[] {
  const step = ticks.length > 1 ? Math.abs(ticks[1] - ticks[0]) : 1;
  let decimals = 0;
  while (decimals < 6 && Math.abs(Math.round(step * 10 ** decimals) - step * 10 ** decimals) > 1e-6 * 10 ** decimals) decimals++;
  return ticks.map((t) => {
    const s = t.toFixed(decimals);
    return /^-0(\.0*)?$/.test(s) ? s.slice(1) : s.replace('-', '−');
  });
}

/** Text that fits about `chars` characters, with an ellipsis when cut. */
export function clipText(text: string, chars: number): string {
  return text.length > chars ? `${text.slice(0, Math.max(1, chars - 1))}…` : text;
}

/**
 * Text broken at spaces into lines of about `chars` characters, at most `maxLines` of them (the last cut with
 * an ellipsis when the text is longer): a chart title that fits the chart's width.
 */
export function wrapText(text: string, chars: number, maxLines = 2): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && (line + ' ' + word).length > chars) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  lines.push(line);
  if (lines.length > maxLines) lines.push(lines.splice(maxLines - 1).join(' '));
  return lines.map((l) => clipText(l, chars));
}

export interface LegendSpec {
  title: string;
  /** Colour at t ∈ [t0, t1]. */
  color: (t: number) => string;
  t0: number;
  t1: number;
  /** Labels under the strip at chosen t. */
  labels: { t: number; text: string }[];
}

/** A colour scale legend: a title, a strip of the scale and labelled values under it, at (x, y). */
export function legendItems(spec: LegendSpec, x: number, y: number, width: number, palette: SvgPalette): SceneItem[] {
  const steps = 24;
  const stripY = y + 6;
  const stripH = 10;
  const items: SceneItem[] = [{ kind: 'text', x, y, text: spec.title, fill: palette.foreground, size: 11 }];
  for (let i = 0; i < steps; i++) {
    const t = spec.t0 + ((spec.t1 - spec.t0) * (i + 0.5)) / steps;
    items.push({ kind: 'rect', x: x + (i * width) / steps, y: stripY, width: width / steps + 0.5, height: stripH, fill: spec.color(t) });
  }
  items.push({ kind: 'rect', x, y: stripY, width, height: stripH, fill: 'none', stroke: palette.muted });
  for (const label of spec.labels) {
    const lx = x + ((label.t - spec.t0) / (spec.t1 - spec.t0 || 1)) * width;
    const anchor = lx <= x + 1 ? 'start' : lx >= x + width - 1 ? 'end' : 'middle';
    items.push({ kind: 'line', x1: lx, y1: stripY + stripH, x2: lx, y2: stripY + stripH + 3, stroke: palette.muted });
    items.push({ kind: 'text', x: lx, y: stripY + stripH + 14, text: label.text, fill: palette.muted, size: 10, anchor });
  }
  return items;
}

/** Height that legendItems takes. */
export const LEGEND_HEIGHT = 36;

/** A legend on its own, as a scene (the webview puts one beside each canvas heatmap). */
export function legendScene(spec: LegendSpec, width = 220, palette: SvgPalette = DEFAULT_PALETTE): ChartScene {
  return {
    // Room for the title (about 6.2 px per character at 11 px) when it is longer than the strip.
    width: Math.max(width, Math.ceil(spec.title.length * 6.2)) + 16,
    height: LEGEND_HEIGHT + 8,
    title: `Colour scale: ${spec.title}`,
    background: palette.background,
    font: palette.font,
    items: legendItems(spec, 8, 14, width, palette),
  };
}
