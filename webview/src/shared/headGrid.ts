/**
 * A layers × heads grid on one canvas: head importance (diverging: red raises the explained output
 * when the head is removed, blue lowers it) or a per-head difference (sequential). Cells can be
 * selected (outlined) for a pruning question. A grid has at most a few thousand cells, so it is
 * drawn whole; the scroller around it handles wide models.
 */
import { divergingRgba } from '../../../src/render/attributionScale';
import type { ThemeColors } from './theme';

const CELL_W = 28;
const CELL_H = 20;
const LEFT = 44;
const TOP = 20;

export type GridScale = 'diverging' | 'sequential';

export class HeadGrid {
  readonly element: HTMLDivElement;
  readonly canvas: HTMLCanvasElement;
  private values: number[][] = [];
  private scale: GridScale = 'diverging';
  private readonly selection = new Set<string>();
  private focus: { layer: number; head: number } | undefined;
  private drawnCells = 0;

  constructor(
    private theme: ThemeColors,
    private readonly onCell: (layer: number, head: number, event: MouseEvent) => void,
    ariaLabel: string,
  ) {
    this.element = document.createElement('div');
    this.element.className = 'head-grid';
    this.element.style.overflow = 'auto';
    this.element.style.maxWidth = '100%';
    this.canvas = document.createElement('canvas');
    this.canvas.setAttribute('role', 'img');
    this.canvas.setAttribute('aria-label', ariaLabel);
    this.canvas.style.cursor = 'pointer';
    this.element.append(this.canvas);
    this.canvas.addEventListener('click', (e) => {
      const rect = this.canvas.getBoundingClientRect();
      const head = Math.floor((e.clientX - rect.left - LEFT) / CELL_W);
      const layer = Math.floor((e.clientY - rect.top - TOP) / CELL_H);
      if (layer < 0 || layer >= this.values.length || head < 0 || head >= (this.values[layer]?.length ?? 0)) return;
      this.focus = { layer, head };
      this.onCell(layer, head, e);
      this.draw();
    });
  }

  /** values[layer][head]. */
  setValues(values: number[][], scale: GridScale): void {
    this.values = values;
    this.scale = scale;
    this.selection.clear();
    this.focus = undefined;
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
    for (let l = 0; l < layers; l++) ctx.fillText(`L${l}`, 6, TOP + l * CELL_H + 14);
    this.drawnCells = cells;
  }
}
