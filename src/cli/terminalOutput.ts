/**
 * Text output for people: ANSI colours when the output is a terminal, plain text when it is piped
 * or NO_COLOR is set. Attribution colours follow the report and the editor: red pushes toward the
 * explained output, blue pushes against it, deeper colour for a stronger effect.
 */

/** Whether to colour output written to `stream`: NO_COLOR wins, then FORCE_COLOR, then "is it a terminal". */
export function shouldColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env, flag?: boolean): boolean {
  if (flag === false) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (flag === true) return true;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false') return true;
  return stream.isTTY === true && env.TERM !== 'dumb';
}

/** ANSI styling that turns into plain text when colour is off. */
export class Style {
  constructor(readonly color: boolean) {}

  private wrap(open: string, text: string): string {
    return this.color ? `\x1b[${open}m${text}\x1b[0m` : text;
  }

  bold(text: string): string {
    return this.wrap('1', text);
  }
  dim(text: string): string {
    return this.wrap('2', text);
  }
  red(text: string): string {
    return this.wrap('31', text);
  }
  green(text: string): string {
    return this.wrap('32', text);
  }
  yellow(text: string): string {
    return this.wrap('33', text);
  }
  blue(text: string): string {
    return this.wrap('34', text);
  }
  cyan(text: string): string {
    return this.wrap('36', text);
  }

  /** Text on a background whose hue says the sign and whose depth says the strength (0…1). */
  attribution(text: string, value: number, maxAbs: number): string {
    if (!this.color || maxAbs <= 0 || value === 0 || !Number.isFinite(value)) return text;
    const level = strengthLevel(value, maxAbs);
    if (level === 0) return text;
    // xterm-256 backgrounds, light to deep; black text stays readable on the light ones.
    const reds = [224, 217, 210, 203, 196];
    const blues = [189, 153, 117, 75, 33];
    const bg = (value > 0 ? reds : blues)[level - 1];
    const fg = level >= 4 ? 15 : 16;
    return `\x1b[48;5;${bg};38;5;${fg}m${text}\x1b[0m`;
  }

  /** A bar of `width` cells at most, coloured by sign. */
  bar(value: number, maxAbs: number, width: number): string {
    const cells = barCells(value, maxAbs, width);
    return value >= 0 ? this.red(cells) : this.blue(cells);
  }
}

/** Strength 0–5 of an attribution relative to the largest one; 0 means too small to colour. */
export function strengthLevel(value: number, maxAbs: number): number {
  if (maxAbs <= 0 || !Number.isFinite(value)) return 0;
  const r = Math.min(1, Math.abs(value) / maxAbs);
  if (r < 0.05) return 0;
  return Math.min(5, Math.ceil(r * 5));
}

/** A horizontal bar of block characters, with eighth-cell resolution. */
export function barCells(value: number, maxAbs: number, width: number): string {
  if (maxAbs <= 0 || !Number.isFinite(value)) return '';
  const eighths = Math.round((Math.min(1, Math.abs(value) / maxAbs) * width) * 8);
  const full = Math.floor(eighths / 8);
  const rest = eighths % 8;
  return '█'.repeat(full) + (rest ? '▏▎▍▌▋▊▉'[rest - 1] : '');
}

/** Shade character for an attention weight in 0…1, for matrices drawn in text. */
export function shade(value: number): string {
  const chars = ' ·░▒▓█';
  if (!(value > 0)) return ' ';
  return chars[Math.min(chars.length - 1, 1 + Math.floor(Math.min(1, value) * (chars.length - 1)))];
}

/** A signed number with a fixed count of decimals: +0.123 / −0.045. */
export function signed(value: number, digits = 3): string {
  if (!Number.isFinite(value)) return String(value);
  const text = Math.abs(value).toFixed(digits);
  return (value < 0 && Number(text) !== 0 ? '-' : '+') + text;
}

/** A probability as a percentage, one decimal. */
export function percent(p: number): string {
  return `${(p * 100).toFixed(1)}%`;
}

/** Bytes in the largest unit that keeps the number above 1. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return '?';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

/** Milliseconds as "850 ms" or "2.4 s". */
export function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/** Display width of a string without its ANSI escapes (wide CJK characters count two). */
export function visibleWidth(text: string): number {
  // eslint-disable-next-line no-control-regex
  const plain = text.replace(/\x1b\[[0-9;]*m/g, '');
  let width = 0;
  for (const ch of plain) {
    const cp = ch.codePointAt(0)!;
    width += cp >= 0x1100 && (cp <= 0x115f || (cp >= 0x2e80 && cp <= 0xa4cf) || (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0xff00 && cp <= 0xff60) || (cp >= 0x1f300 && cp <= 0x1faff) || (cp >= 0x20000 && cp <= 0x3fffd)) ? 2 : 1;
  }
  return width;
}

/** Pads to a display width (left-aligned, or right-aligned for numbers). */
export function pad(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  const fill = ' '.repeat(Math.max(0, width - visibleWidth(text)));
  return align === 'left' ? text + fill : fill + text;
}

/** Shortens a string to `max` characters with an ellipsis. */
export function truncate(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : chars.slice(0, Math.max(1, max - 1)).join('') + '…';
}

/**
 * Characters that act on a terminal instead of showing: the C0 controls (escape, carriage return, bell…)
 * except line feed and tab, DEL, the C1 controls (U+009B is a one-character CSI), and the bidirectional
 * embedding, override and isolate controls, which reorder what the rest of the line shows.
 */
const TERMINAL_CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text from outside (the input, labels from a model's config, file names) made safe to print: every
 * terminal control becomes U+FFFD. One UTF-16 unit for one, so character offsets into the text still hold.
 */
export function terminalSafe(text: string): string {
  return text.replace(TERMINAL_CONTROLS, '\ufffd');
}

/**
 * A copy of a result with every string made terminal-safe (typed arrays are shared, not copied), for the
 * text views: whatever a renderer prints of it cannot move the cursor, retitle the window or recolour.
 */
export function forTerminal<T>(value: T): T {
  const visit = (v: unknown): unknown => {
    if (typeof v === 'string') return terminalSafe(v);
    if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) return v;
    if (Array.isArray(v)) return v.map(visit);
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = visit(x);
    return out;
  };
  return visit(value) as T;
}

/** Makes whitespace and control characters in a token visible, so a table cell stays on one line. */
export function printable(text: string): string {
  return terminalSafe(text.replace(/\n/g, '⏎').replace(/\t/g, '⇥'));
}

/** Rows of cells laid out in columns; `right` lists the columns to right-align. */
export function table(rows: string[][], right: ReadonlySet<number> = new Set(), indent = '  '): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, visibleWidth(cell))));
  return rows
    .map((row) => (indent + row.map((cell, i) => (i === row.length - 1 && !right.has(i) ? cell : pad(cell, widths[i], right.has(i) ? 'right' : 'left'))).join('  ')).trimEnd())
    .join('\n');
}
