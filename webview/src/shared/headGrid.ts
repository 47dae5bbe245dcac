/**
 * A layers × heads grid on one canvas: head importance (diverging: red raises the explained output
 * when the head is removed, blue lowers it) or a per-head difference (sequential). Cells can be
 * selected (outlined) for a pruning question. A grid has at most a few thousand cells, so it is
 * drawn whole; the scroller around it handles wide models.
 */
import { divergingRgba } from '../../../src/render/attributionScale';
import type { LegendSpec } from '../../../src/render/chartScene';
import { legendElement } from './svgScene';
import type { ThemeColors } from './theme';

const CELL_W = 28;
const CELL_H = 20;
const LEFT = 44;
const TOP = 20;

export type GridScale = 'diverging' | 'sequential';

export class HeadGrid {
  readonly element: HTMLDivElement;
  readonly canvas: HTMLCanvasElement;
  private readonly legendBox = document.createElement('div');
  private readonly scroller = document.createElement('div');
  private values: number[][] = [];
  private scale: GridScale = 'diverging';
  private readonly selection = new Set<string>();
  private focus: { layer: number; head: number } | undefined;
  private drawnCells = 0;

  /**
   * @param onCell a cell was clicked, or chosen with Enter (`toggle`: Ctrl/Shift-click, Space or Shift+Enter)
   * @param legendTitle what the colour means, with its unit
   */
  constructor(
    private theme: ThemeColors,
    private readonly onCell: (layer: number, head: number, toggle: boolean) => void,
    private readonly ariaLabel: string,
    private readonly legendTitle: string,
  ) {
    this.element = document.createElement('div');
    this.element.className = 'head-grid';
    this.scroller.style.overflow = 'auto';
    this.scroller.style.maxWidth = '100%';
    this.canvas = document.createElement('canvas');
    this.canvas.setAttribute('role', 'img');
    this.canvas.setAttribute('aria-label', `${ariaLabel}. Arrow keys move between heads, Enter shows a head's numbers, Space selects it.`);
    this.canvas.tabIndex = 0;
    this.canvas.style.cursor = 'pointer';
    this.scroller.append(this.canvas);
    this.element.append(this.legendBox, this.scroller);
    this.canvas.addEventListener('click', (e) => {
      const rect = this.canvas.getBoundingClientRect();
      const head = Math.floor((e.clientX - rect.left - LEFT) / CELL_W);
      const layer = Math.floor((e.clientY - rect.top - TOP) / CELL_H);
      if (layer < 0 || layer >= this.values.length || head < 0 || head >= (this.values[layer]?.length ?? 0)) return;
      this.focus = { layer, head };
      this.onCell(layer, head, e.ctrlKey || e.metaKey || e.shiftKey);
      this.draw();
    });
    this.canvas.addEventListener('keydown', (e) => this.onKey(e));
  }

  private onKey(e: KeyboardEvent): void {
    if (this.values.length === 0) return;
    const f = this.focus ?? { layer: 0, head: 0 };
    const heads = this.values[f.layer]?.length ?? 0;
    const move: Record<string, [number, number]> = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    const d = move[e.key];
    if (d) {
      const layer = Math.max(0, Math.min(this.values.length - 1, f.layer + (this.focus ? d[0] : 0)));
      this.focus = { layer, head: Math.max(0, Math.min((this.values[layer]?.length ?? 1) - 1, f.head + (this.focus ? d[1] : 0))) };
      this.onCell(this.focus.layer, this.focus.head, false);
    } else if ((e.key === 'Enter' || e.key === ' ') && heads > 0) {
      this.focus = f;
      this.onCell(f.layer, f.head, e.key === ' ' || e.shiftKey);
    } else return;
    e.preventDefault();
    this.draw();
  }

  /** The colour legend's title. */
  get legend(): string {
    return this.legendTitle;
  }

  private renderLegend(): void {
    while (this.legendBox.firstChild) this.legendBox.removeChild(this.legendBox.firstChild);
    if (this.values.length === 0) return;
    const max = this.extent();
    const f = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toFixed(3)).replace(/^-/, '−');
    const [hr, hg, hb] = this.theme.heat;
    const spec: LegendSpec =
      this.scale === 'diverging'
        ? { title: this.legendTitle, color: (t) => divergingRgba(t, 0.95), t0: -1, t1: 1, labels: [{ t: -1, text: f(-max) }, { t: 0, text: '0' }, { t: 1, text: `+${f(max)}` }] }
        : { title: this.legendTitle, color: (t) => `rgba(${hr}, ${hg}, ${hb}, ${(Math.pow(t, 0.7) * 0.95).toFixed(3)})`, t0: 0, t1: 1, labels: [{ t: 0, text: '0' }, { t: 1, text: f(max) }] };
    this.legendBox.append(legendElement(spec, this.theme, 200));
  }

  /** values[layer][head]. */
  setValues(values: number[][], scale: GridScale): void {
    this.values = values;
    this.scale = scale;
    this.selection.clear();
    this.focus = undefined;
    this.renderLegend();
    this.draw();
  }

  get selected(): [number, number][] {
    return [...this.selection].map((k) => k.split(':').map(Number) as [number, number]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  }

  toggle(layer: number, head: number): void {
    const key = `${layer}:${head}`;
    if (this.selection.has(key)) this.selection.delete(key);
    else this.selection.add(key);
    this.draw();
  }

  clearSelection(): void {
    this.selection.clear();
    this.draw();
  }

  get cells(): number {
    return this.drawnCells;
  }

  setTheme(theme: ThemeColors): void {
    this.theme = theme;
    this.renderLegend();
    this.draw();
  }

  /** Largest |value|: the colour scale's end. */
  private extent(): number {
    let m = 0;
    for (const row of this.values) for (const v of row) if (Number.isFinite(v) && Math.abs(v) > m) m = Math.abs(v);
    return m;
  }

  draw(): void {
    const layers = this.values.length;
    const heads = Math.max(0, ...this.values.map((r) => r.length));
    const width = LEFT + heads * CELL_W + 2;
    const height = TOP + layers * CELL_H + 2;
    const ratio = window.devicePixelRatio || 1;
    this.canvas.width = Math.max(1, Math.floor(width * ratio));
    this.canvas.height = Math.max(1, Math.floor(height * ratio));
    this.canvas.style.width = `${width}px`;
    this.canvas.style.height = `${height}px`;
    const ctx = this.canvas.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    const t = this.theme;
    ctx.fillStyle = t.background;
    ctx.fillRect(0, 0, width, height);
    const max = this.extent() || 1;
    const [hr, hg, hb] = t.heat;
    let cells = 0;
    for (let l = 0; l < layers; l++) {
      for (let h = 0; h < this.values[l].length; h++) {
        const v = this.values[l][h];
        const x = LEFT + h * CELL_W;
        const y = TOP + l * CELL_H;
        ctx.fillStyle = this.scale === 'diverging' ? divergingRgba(v / max, 0.95) : `rgba(${hr}, ${hg}, ${hb}, ${(Math.pow(Math.min(1, Math.abs(v) / max), 0.7) * 0.95).toFixed(3)})`;
        ctx.fillRect(x, y, CELL_W - 1, CELL_H - 1);
        cells++;
      }
    }
    ctx.strokeStyle = t.accent;
    ctx.lineWidth = 2;
    for (const [l, h] of this.selected) ctx.strokeRect(LEFT + h * CELL_W + 1, TOP + l * CELL_H + 1, CELL_W - 3, CELL_H - 3);
    if (this.focus) {
      ctx.strokeStyle = t.foreground;
      ctx.lineWidth = 1;
      ctx.setLineDash([2, 2]);
      ctx.strokeRect(LEFT + this.focus.head * CELL_W + 0.5, TOP + this.focus.layer * CELL_H + 0.5, CELL_W - 2, CELL_H - 2);
      ctx.setLineDash([]);
    }
    ctx.font = `11px ${t.font}`;
    ctx.fillStyle = t.foreground;
    for (let h = 0; h < heads; h++) ctx.fillText(`H${h}`, LEFT + h * CELL_W + 4, 14);
    this.canvas.setAttribute('aria-label', `${this.ariaLabel}: ${layers} layers × ${heads} heads. Arrow keys move between heads, Enter shows a head's numbers, Space selects it.`);
    for (let l = 0; l < layers; l++) ctx.fillText(`L${l}`, 6, TOP + l * CELL_H + 14);
    this.drawnCells = cells;
  }
}
