/**
 * A canvas that shows a window onto a large virtual surface: the scroller holds a spacer of the
 * full size and a sticky canvas of the viewport's size, and only what is visible is drawn. This is
 * what keeps a 512 × 512 matrix or 144 heads of a 512-token input responsive.
 */
export interface Viewport {
  /** Scroll offset of the visible area inside the virtual surface (CSS pixels). */
  x: number;
  y: number;
  width: number;
  height: number;
}

export class VirtualCanvas {
  readonly element: HTMLDivElement;
  readonly canvas: HTMLCanvasElement;
  private readonly spacer: HTMLDivElement;
  private frame = 0;
  private width = 0;
  private height = 0;
  private readonly maxHeight: string | undefined;

  constructor(
    private readonly draw: (ctx: CanvasRenderingContext2D, view: Viewport) => void,
    options: { height?: string; className?: string } = {},
  ) {
    this.element = document.createElement('div');
    this.element.className = `virtual-scroller ${options.className ?? ''}`;
    this.maxHeight = options.height;
    if (options.height) this.element.style.height = options.height;
    this.spacer = document.createElement('div');
    this.spacer.className = 'virtual-spacer';
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'virtual-canvas';
    this.element.append(this.canvas, this.spacer);
    this.element.addEventListener('scroll', () => this.schedule(), { passive: true });
    new ResizeObserver(() => this.schedule()).observe(this.element);
  }

  /** Sets the size of the whole virtual surface. */
  setSize(width: number, height: number): void {
    this.width = width;
    this.height = height;
    this.spacer.style.width = `${width}px`;
    this.spacer.style.height = `${height}px`;
    // No taller than what it shows (plus room for a horizontal scroll bar).
    if (this.maxHeight) this.element.style.height = `min(${Math.ceil(height) + 16}px, ${this.maxHeight})`;
    this.schedule();
  }

  get viewport(): Viewport {
    return {
      x: this.element.scrollLeft,
      y: this.element.scrollTop,
      width: Math.min(this.element.clientWidth, Math.max(1, this.width)),
      height: Math.min(this.element.clientHeight, Math.max(1, this.height)),
    };
  }

  /** Position in virtual-surface coordinates of a mouse event. */
  pointAt(event: MouseEvent): { x: number; y: number } {
    const rect = this.canvas.getBoundingClientRect();
    return { x: event.clientX - rect.left + this.element.scrollLeft, y: event.clientY - rect.top + this.element.scrollTop };
  }

  scrollTo(x: number, y: number): void {
    this.element.scrollTo({ left: x, top: y });
  }

  schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.redraw();
    });
  }

  /** Draws now (tests and exports need the picture synchronously). */
  redraw(): void {
    const view = this.viewport;
    const ratio = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.floor(view.width));
    const h = Math.max(1, Math.floor(view.height));
    if (this.canvas.width !== Math.floor(w * ratio) || this.canvas.height !== Math.floor(h * ratio)) {
      this.canvas.width = Math.floor(w * ratio);
      this.canvas.height = Math.floor(h * ratio);
      this.canvas.style.width = `${w}px`;
      this.canvas.style.height = `${h}px`;
    }
    const ctx = this.canvas.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, w, h);
    this.draw(ctx, { ...view, width: w, height: h });
  }
}

/** Parses any CSS colour to RGB through the canvas's own parser. */
export function toRgb(color: string): [number, number, number] {
  const ctx = document.createElement('canvas').getContext('2d');
  if (!ctx) return [128, 128, 128];
  ctx.fillStyle = '#808080';
  ctx.fillStyle = color;
  const v = String(ctx.fillStyle);
  if (v.startsWith('#')) return [parseInt(v.slice(1, 3), 16), parseInt(v.slice(3, 5), 16), parseInt(v.slice(5, 7), 16)];
  const m = /rgba?\((\d+),\s*(\d+),\s*(\d+)/.exec(v);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [128, 128, 128];
}

/** Gamma of the heat scale: lifts small weights, which is where most attention lives. */
const HEAT_GAMMA = 0.6;

/** The heat scale's colour at t ∈ [0, 1] (the same colours heatLookup gives the canvas). */
export function heatColor(background: [number, number, number], heat: [number, number, number], t: number): string {
  const g = Math.pow(Math.max(0, Math.min(1, t)), HEAT_GAMMA);
  const c = [0, 1, 2].map((i) => Math.round(background[i] + (heat[i] - background[i]) * g));
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}

/** A 256-entry lookup from 0–255 to an opaque colour between the background and the heat colour. */
export function heatLookup(background: [number, number, number], heat: [number, number, number]): Uint8ClampedArray {
  const lut = new Uint8ClampedArray(256 * 4);
  for (let i = 0; i < 256; i++) {
    const t = Math.pow(i / 255, HEAT_GAMMA);
    lut[i * 4] = background[0] + (heat[0] - background[0]) * t;
    lut[i * 4 + 1] = background[1] + (heat[1] - background[1]) * t;
    lut[i * 4 + 2] = background[2] + (heat[2] - background[2]) * t;
    lut[i * 4 + 3] = 255;
  }
  return lut;
}

/**
 * Draws cells [r0, r1) × [c0, c1) of a row-major 0–255 matrix at (x, y) with the given cell size,
 * through one ImageData at cell resolution scaled up without smoothing.
 */
export function drawCells(
  ctx: CanvasRenderingContext2D,
  data: ArrayLike<number>,
  cols: number,
  region: { r0: number; r1: number; c0: number; c1: number },
  at: { x: number; y: number; cellW: number; cellH: number },
  lut: Uint8ClampedArray,
  offset = 0,
): number {
  const w = region.c1 - region.c0;
  const h = region.r1 - region.r0;
  if (w <= 0 || h <= 0) return 0;
  const image = new ImageData(w, h);
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      const v = data[offset + (region.r0 + r) * cols + region.c0 + c] | 0;
      const o = (r * w + c) * 4;
      image.data[o] = lut[v * 4];
      image.data[o + 1] = lut[v * 4 + 1];
      image.data[o + 2] = lut[v * 4 + 2];
      image.data[o + 3] = 255;
    }
  }
  const off = document.createElement('canvas');
  off.width = w;
  off.height = h;
  off.getContext('2d')!.putImageData(image, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(off, at.x, at.y, w * at.cellW, h * at.cellH);
  return w * h;
}
