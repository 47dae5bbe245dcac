import type { AttentionKind, ExplanationResult, Level } from '../../../src/protocol/engineApi';
import type { AttentionMatrixView, AttentionOverview, HeadGridThumbnails, UnitLabel } from '../../../src/protocol/webviewMessages';
import { heatmapSvg } from '../../../src/render/svgCharts';
import { button, clear, el, fmt, select } from '../shared/dom';
import type { ThemeColors } from '../shared/theme';
import { drawCells, heatLookup, toRgb, VirtualCanvas, Viewport } from '../shared/virtualCanvas';
import { coloredText } from './attributionsTab';
import { PairAttentionView } from './pairAttentionView';
import type { PanelChannel, TabView } from './tabView';

type AttentionMode = 'model' | 'head' | 'matrix' | 'rollout';

const THUMB = 56;
const GAP = 8;
const GRID_LEFT = 40;
const GRID_TOP = 22;
const HEAD_COLORS = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#42d4f4', '#f032e6', '#9a6324', '#469990', '#808000', '#000075', '#a9a9a9', '#bfef45', '#fabed4', '#dcbeff', '#ffd8b1'];

/** Attention: model view (all heads), head view (lines), one head's matrix, rollout and flow. */
export class AttentionTab implements TabView {
  readonly element = el('section', { className: 'tab attention' });
  private readonly toolbar = el('div', { className: 'controls' });
  private readonly info = el('p', { className: 'muted' });
  private readonly stage = el('div', { className: 'stage' });
  private overview: AttentionOverview | undefined;
  private mode: AttentionMode = 'model';
  private kind: AttentionKind = 'self';
  private layer = 0;
  private head = -1;
  private selectedHeads = new Set<number>([0]);
  private lut: Uint8ClampedArray;
  private readonly matrices = new Map<string, AttentionMatrixView>();
  private readonly canvas: VirtualCanvas;
  private rollout: ExplanationResult | undefined;
  private drawn = { cells: 0, labels: [] as string[], counts: {} as Record<string, number> };
  private loadingMatrix = false;
  private readonly pairView: PairAttentionView;

  constructor(
    private readonly channel: PanelChannel,
    private theme: ThemeColors,
  ) {
    this.lut = heatLookup(toRgb(theme.background), theme.heat);
    this.canvas = new VirtualCanvas((ctx, view) => this.draw(ctx, view), { height: '70vh', className: 'attention-canvas' });
    this.canvas.canvas.addEventListener('click', (e) => this.onClick(e));
    this.canvas.canvas.addEventListener('mousemove', (e) => this.onHover(e));
    this.pairView = new PairAttentionView(channel, theme);
    this.element.append(this.toolbar, this.info, this.stage, this.pairView.element);
    this.stage.append(el('p', { className: 'empty', text: 'Select text and run "ONNX Lens: Show Attention".' }));
  }

  setOverview(overview: AttentionOverview): void {
    this.overview = overview;
    this.matrices.clear();
    const kinds = overview.grids.map((g) => g.kind);
    if (!kinds.includes(this.kind)) this.kind = kinds[0] ?? 'self';
    const grid = this.grid();
    if (grid && !grid.layers.includes(this.layer)) this.layer = grid.layers[grid.layers.length - 1];
    this.pairView.set(overview.pair, overview.level);
    this.render();
  }

  setRollout(result: ExplanationResult): void {
    this.rollout = result;
    this.mode = 'rollout';
    this.render();
  }

  private grid(): HeadGridThumbnails | undefined {
    return this.overview?.grids.find((g) => g.kind === this.kind);
  }

  private units(): { rows: UnitLabel[]; cols: UnitLabel[] } {
    return this.overview?.units.find((u) => u.kind === this.kind) ?? { rows: [], cols: [] };
  }

  private renderToolbar(): void {
    clear(this.toolbar);
    const o = this.overview;
    const grid = this.grid();
    const modes: { value: AttentionMode; label: string }[] = [
      { value: 'model', label: 'Model view (all heads)' },
      { value: 'head', label: 'Head view (lines)' },
      { value: 'matrix', label: 'Matrix (one head)' },
      { value: 'rollout', label: 'Rollout / flow' },
    ];
    this.toolbar.append(el('label', { text: 'View ' }, select(modes, this.mode, (v) => { this.mode = v as AttentionMode; this.render(); })));
    if (o && o.grids.length > 1) {
      const kinds = o.grids.map((g) => ({ value: g.kind, label: g.kind === 'self' ? 'encoder self' : g.kind === 'decoder' ? 'decoder self' : 'cross (decoder → encoder)' }));
      this.toolbar.append(el('label', { text: 'Attention ' }, select(kinds, this.kind, (v) => { this.kind = v as AttentionKind; this.render(); })));
    }
    this.toolbar.append(
      el('label', { text: 'Level ' }, select([{ value: 'word', label: 'words' }, { value: 'token', label: 'tokens' }], o?.level ?? 'word', (v) => this.channel.post({ type: 'loadAttention', level: v as Level }))),
    );
    if (grid && (this.mode === 'matrix' || this.mode === 'head')) {
      this.toolbar.append(el('label', { text: 'Layer ' }, select(grid.layers.map((l) => ({ value: String(l), label: `${l + 1}` })), String(this.layer), (v) => { this.layer = Number(v); this.render(); })));
    }
    if (grid && this.mode === 'matrix') {
      const heads = [{ value: '-1', label: 'mean of heads' }, ...Array.from({ length: grid.heads }, (_, h) => ({ value: String(h), label: `${h + 1}` }))];
      this.toolbar.append(el('label', { text: 'Head ' }, select(heads, String(this.head), (v) => { this.head = Number(v); this.render(); })));
    }
    if (grid && this.mode === 'head') {
      const box = el('span', { className: 'head-toggles' });
      for (let h = 0; h < grid.heads; h++) {
        const b = el('button', { text: String(h + 1), className: this.selectedHeads.has(h) ? 'toggle on' : 'toggle', title: `Head ${h + 1}` });
        b.style.borderColor = HEAD_COLORS[h % HEAD_COLORS.length];
        b.addEventListener('click', () => {
          if (this.selectedHeads.has(h)) this.selectedHeads.delete(h);
          else this.selectedHeads.add(h);
          this.render();
        });
        box.append(b);
      }
      this.toolbar.append(el('span', { text: 'Heads ' }), box);
    }
    if (this.mode === 'rollout') {
      this.toolbar.append(
        button('Attention rollout', () => this.channel.post({ type: 'loadRollout', method: 'rollout' })),
        button('Attention flow', () => this.channel.post({ type: 'loadRollout', method: 'flow' }), { secondary: true }),
      );
    }
  }

  private render(): void {
    this.renderToolbar();
    clear(this.stage);
    const o = this.overview;
    if (this.mode === 'rollout') {
      this.renderRollout();
      return;
    }
    if (!o) {
      this.stage.append(el('p', { className: 'empty', text: 'Select text and run "ONNX Lens: Show Attention".' }));
      this.drawn = { cells: 0, labels: [], counts: {} };
      return;
    }
    const grid = this.grid();
    if (!grid) {
      this.stage.append(el('p', { className: 'notice', text: o.note ?? 'This model does not expose attention.' }));
      this.drawn = { cells: 0, labels: [], counts: {} };
      return;
    }
    const u = this.units();
    const notes = [o.truncation?.message, o.note].filter(Boolean).join(' ');
    this.info.textContent = `${u.rows.length} × ${u.cols.length} ${o.level === 'word' ? 'words' : 'tokens'} · ${grid.layers.length} layers × ${grid.heads} heads. ${notes}`;
    this.stage.append(this.canvas.element);
    if (this.mode === 'model') {
      this.canvas.setSize(GRID_LEFT + grid.heads * (THUMB + GAP), GRID_TOP + grid.layers.length * (THUMB + GAP));
    } else if (this.mode === 'matrix' || this.mode === 'head') {
      this.ensureMatrix();
      this.layoutMatrix();
    }
    this.canvas.redraw();
  }

  private renderRollout(): void {
    const r = this.rollout;
    if (!r) {
      this.stage.append(el('p', { className: 'empty', text: 'Attention rollout multiplies the attention of all layers (with the residual connection) to estimate how much each input word reaches the output; attention flow treats the layers as a flow network. Pick one above.' }));
      this.drawn = { cells: 0, labels: [], counts: {} };
      return;
    }
    const colored = coloredText(r.text, r.features, (f) => this.channel.post({ type: 'revealText', start: f.start, end: f.end }));
    const table = el('table', { className: 'trust' });
    const top = [...r.features].sort((a, b) => b.value - a.value).slice(0, 10);
    for (const f of top) table.append(el('tr', {}, el('th', { text: f.text }), el('td', { className: 'num', text: fmt(f.value) })));
    this.stage.append(el('p', { className: 'muted', text: `${r.provenance.method}: ${r.target.description}` }), colored.node, el('h4', { text: 'Most relevant' }), table);
    for (const n of r.notes) this.stage.append(el('p', { className: 'notice', text: n }));
    this.drawn = { cells: colored.words, labels: r.features.map((f) => f.text), counts: { words: colored.words } };
  }

  private matrixKey(): string {
    return `${this.kind}:${this.layer}:${this.overview?.level}`;
  }

  private ensureMatrix(): void {
    const grid = this.grid();
    if (!grid || !this.overview || this.matrices.has(this.matrixKey()) || this.loadingMatrix) return;
    this.loadingMatrix = true;
    const key = this.matrixKey();
    const heads = [-1, ...Array.from({ length: grid.heads }, (_, h) => h)];
    this.channel
      .request('attentionMatrix', { kind: this.kind, layer: this.layer, heads, level: this.overview.level })
      .then((m) => {
        this.matrices.set(key, m);
        this.loadingMatrix = false;
        if (key === this.matrixKey()) {
          this.layoutMatrix();
          this.canvas.redraw();
        } else this.ensureMatrix();
      })
      .catch((e: Error) => {
        this.loadingMatrix = false;
        this.info.textContent = e.message;
      });
  }

  private matrixLayout() {
    const u = this.units();
    const n = Math.max(u.rows.length, u.cols.length);
    const cell = Math.max(6, Math.min(28, Math.floor(640 / Math.max(1, n))));
    return { cell, left: 110, top: 90, rowH: 18 };
  }

  private layoutMatrix(): void {
    const u = this.units();
    const l = this.matrixLayout();
    if (this.mode === 'matrix') this.canvas.setSize(l.left + u.cols.length * l.cell + 8, l.top + u.rows.length * l.cell + 8);
    else this.canvas.setSize(Math.max(420, this.canvas.element.clientWidth), 28 + Math.max(u.rows.length, u.cols.length) * l.rowH + 8);
  }

  private draw(ctx: CanvasRenderingContext2D, view: Viewport): void {
    if (!this.overview) return;
    ctx.font = `11px ${this.theme.font}`;
    if (this.mode === 'model') this.drawModel(ctx, view);
    else if (this.mode === 'matrix') this.drawMatrix(ctx, view);
    else if (this.mode === 'head') this.drawHeads(ctx, view);
  }

  /** All layers × heads as thumbnails, only the visible ones. */
  private drawModel(ctx: CanvasRenderingContext2D, view: Viewport): void {
    const g = this.grid();
    if (!g) return;
    const step = THUMB + GAP;
    const c0 = Math.max(0, Math.floor((view.x - GRID_LEFT) / step));
    const c1 = Math.min(g.heads, Math.ceil((view.x + view.width - GRID_LEFT) / step));
    const r0 = Math.max(0, Math.floor((view.y - GRID_TOP) / step));
    const r1 = Math.min(g.layers.length, Math.ceil((view.y + view.height - GRID_TOP) / step));
    const size = g.rows * g.cols;
    let thumbnails = 0;
    for (let li = r0; li < r1; li++) {
      for (let h = c0; h < c1; h++) {
        const x = GRID_LEFT + h * step - view.x;
        const y = GRID_TOP + li * step - view.y;
        drawCells(ctx, g.data, g.cols, { r0: 0, r1: g.rows, c0: 0, c1: g.cols }, { x, y, cellW: THUMB / g.cols, cellH: THUMB / g.rows }, this.lut, (li * g.heads + h) * size);
        if (li === this.layersIndex() && h === this.head) {
          ctx.strokeStyle = this.theme.accent;
          ctx.lineWidth = 2;
          ctx.strokeRect(x - 1, y - 1, THUMB + 2, THUMB + 2);
        }
        thumbnails++;
      }
    }
    ctx.fillStyle = this.theme.foreground;
    const labels: string[] = [];
    for (let li = r0; li < r1; li++) {
      const label = `L${g.layers[li] + 1}`;
      labels.push(label);
      ctx.fillText(label, 4 - Math.min(0, -view.x), GRID_TOP + li * step - view.y + THUMB / 2 + 4);
    }
    for (let h = c0; h < c1; h++) ctx.fillText(`H${h + 1}`, GRID_LEFT + h * step - view.x + THUMB / 2 - 8, 14);
    this.drawn = { cells: thumbnails, labels, counts: { layers: g.layers.length, heads: g.heads, thumbnails: g.layers.length * g.heads, drawnThumbnails: thumbnails } };
  }

  private layersIndex(): number {
    return this.grid()?.layers.indexOf(this.layer) ?? -1;
  }

  private currentMatrix(): { m: AttentionMatrixView; offset: number; scale: number } | undefined {
    const m = this.matrices.get(this.matrixKey());
    if (!m) return undefined;
    const index = m.heads.indexOf(this.head);
    return { m, offset: Math.max(0, index) * m.rows * m.cols, scale: m.scales[Math.max(0, index)] };
  }

  /** One head's full matrix, visible cells only, with sticky row and column labels. */
  private drawMatrix(ctx: CanvasRenderingContext2D, view: Viewport): void {
    const cur = this.currentMatrix();
    const u = this.units();
    const l = this.matrixLayout();
    if (!cur) {
      ctx.fillStyle = this.theme.muted;
      ctx.fillText('Loading…', 10, 20);
      return;
    }
    const { m, offset } = cur;
    const c0 = Math.max(0, Math.floor((view.x) / l.cell));
    const c1 = Math.min(m.cols, Math.ceil((view.x + view.width - l.left) / l.cell) + 1);
    const r0 = Math.max(0, Math.floor((view.y) / l.cell));
    const r1 = Math.min(m.rows, Math.ceil((view.y + view.height - l.top) / l.cell) + 1);
    const cells = drawCells(ctx, m.data, m.cols, { r0, r1, c0, c1 }, { x: l.left + c0 * l.cell - view.x, y: l.top + r0 * l.cell - view.y, cellW: l.cell, cellH: l.cell }, this.lut, offset);
    // Label strips stay put while the cells scroll under them.
    ctx.fillStyle = this.theme.background;
    ctx.fillRect(0, 0, view.width, l.top);
    ctx.fillRect(0, 0, l.left, view.height);
    ctx.fillStyle = this.theme.foreground;
    const clip = (s: string) => (s.length > 14 ? `${s.slice(0, 13)}…` : s);
    const labels: string[] = [];
    for (let r = r0; r < r1; r++) {
      const y = l.top + r * l.cell - view.y + l.cell / 2 + 4;
      if (y < l.top) continue;
      if (l.cell >= 10) ctx.fillText(clip(u.rows[r]?.label ?? ''), 4, y);
      labels.push(u.rows[r]?.label ?? '');
    }
    if (l.cell >= 10) {
      for (let c = c0; c < c1; c++) {
        const x = l.left + c * l.cell - view.x + l.cell / 2;
        if (x < l.left) continue;
        ctx.save();
        ctx.translate(x + 3, l.top - 4);
        ctx.rotate(-Math.PI / 3);
        ctx.fillText(clip(u.cols[c]?.label ?? ''), 0, 0);
        ctx.restore();
      }
    }
    ctx.fillStyle = this.theme.muted;
    ctx.fillText(`layer ${this.layer + 1}, ${this.head < 0 ? 'mean of heads' : `head ${this.head + 1}`} · 100% = ${fmt(cur.scale)}`, 4, 12);
    this.drawn = { cells, labels, counts: { rows: m.rows, cols: m.cols, drawnCells: cells } };
  }

  /** Head view: query words left, key words right, a line per (query, key, head) weighted by attention. */
  private drawHeads(ctx: CanvasRenderingContext2D, view: Viewport): void {
    const m = this.matrices.get(this.matrixKey());
    const u = this.units();
    const l = this.matrixLayout();
    if (!m) {
      ctx.fillStyle = this.theme.muted;
      ctx.fillText('Loading…', 10, 20);
      return;
    }
    const width = view.width;
    const leftX = 120;
    const rightX = width - 120;
    const rowY = (i: number) => 28 + i * l.rowH + l.rowH / 2 - view.y;
    const r0 = Math.max(0, Math.floor((view.y - 28) / l.rowH));
    const r1 = Math.min(m.rows, Math.ceil((view.y + view.height - 28) / l.rowH) + 1);
    let lines = 0;
    ctx.lineWidth = 1.5;
    for (const h of this.selectedHeads) {
      const index = m.heads.indexOf(h);
      if (index < 0) continue;
      const offset = index * m.rows * m.cols;
      ctx.strokeStyle = HEAD_COLORS[h % HEAD_COLORS.length];
      for (let q = r0; q < r1; q++) {
        for (let k = 0; k < m.cols; k++) {
          const v = m.data[offset + q * m.cols + k];
          if (v < 8) continue;
          ctx.globalAlpha = Math.min(1, v / 255);
          ctx.beginPath();
          ctx.moveTo(leftX + 4, rowY(q));
          ctx.lineTo(rightX - 4, rowY(k));
          ctx.stroke();
          lines++;
        }
      }
    }
    ctx.globalAlpha = 1;
    ctx.fillStyle = this.theme.foreground;
    ctx.textAlign = 'right';
    const labels: string[] = [];
    for (let i = r0; i < r1; i++) {
      ctx.fillText((u.rows[i]?.label ?? '').slice(0, 16), leftX, rowY(i) + 4);
      labels.push(u.rows[i]?.label ?? '');
    }
    ctx.textAlign = 'left';
    const k0 = Math.max(0, Math.floor((view.y - 28) / l.rowH));
    const k1 = Math.min(m.cols, Math.ceil((view.y + view.height - 28) / l.rowH) + 1);
    for (let i = k0; i < k1; i++) ctx.fillText((u.cols[i]?.label ?? '').slice(0, 16), rightX, rowY(i) + 4);
    ctx.fillStyle = this.theme.muted;
    ctx.fillText(`layer ${this.layer + 1} · ${this.selectedHeads.size} head(s)`, 4, 14 - Math.min(0, view.y));
    this.drawn = { cells: lines, labels, counts: { lines, heads: this.selectedHeads.size } };
  }

  private hit(e: MouseEvent): { layerIndex: number; head: number } | undefined {
    const g = this.grid();
    if (!g || this.mode !== 'model') return undefined;
    const p = this.canvas.pointAt(e);
    const step = THUMB + GAP;
    const head = Math.floor((p.x - GRID_LEFT) / step);
    const layerIndex = Math.floor((p.y - GRID_TOP) / step);
    if (head < 0 || head >= g.heads || layerIndex < 0 || layerIndex >= g.layers.length) return undefined;
    return { layerIndex, head };
  }

  private onClick(e: MouseEvent): void {
    const h = this.hit(e);
    if (!h) return;
    this.layer = this.grid()!.layers[h.layerIndex];
    this.head = h.head;
    this.mode = 'matrix';
    this.render();
  }

  private onHover(e: MouseEvent): void {
    const h = this.hit(e);
    const g = this.grid();
    if (h && g) this.canvas.canvas.title = `Layer ${g.layers[h.layerIndex] + 1}, head ${h.head + 1} · max ${fmt(g.scales[h.layerIndex * g.heads + h.head])} · click to open`;
    else if (this.mode === 'matrix') {
      const cur = this.currentMatrix();
      const l = this.matrixLayout();
      const p = this.canvas.pointAt(e);
      const c = Math.floor((p.x - l.left) / l.cell);
      const r = Math.floor((p.y - l.top) / l.cell);
      const u = this.units();
      if (cur && r >= 0 && c >= 0 && r < cur.m.rows && c < cur.m.cols) {
        const v = (cur.m.data[cur.offset + r * cur.m.cols + c] / 255) * cur.scale;
        this.canvas.canvas.title = `${u.rows[r]?.label} → ${u.cols[c]?.label}: ${fmt(v)}`;
      }
    }
  }

  describe() {
    return { ...this.drawn, counts: { ...this.drawn.counts, ...this.pairView.describe() } };
  }

  async snapshot(format: 'png' | 'svg') {
    if (this.mode === 'rollout') return undefined;
    const name = this.mode === 'model' ? 'attention-model-view' : `attention-layer${this.layer + 1}-${this.head < 0 ? 'mean' : `head${this.head + 1}`}`;
    if (format === 'png') {
      this.canvas.redraw();
      return { name, data: this.canvas.canvas.toDataURL('image/png') };
    }
    const t = this.theme;
    const palette = { foreground: t.foreground, muted: t.muted, background: t.background, font: t.font };
    const color = (v: number) => `rgba(${t.heat.join(',')}, ${Math.pow(Math.max(0, Math.min(1, v)), 0.6).toFixed(3)})`;
    if (this.mode === 'matrix') {
      const cur = this.currentMatrix();
      if (!cur) return undefined;
      const u = this.units();
      const values = Array.from(cur.m.data.subarray(cur.offset, cur.offset + cur.m.rows * cur.m.cols), (v) => v / 255);
      return { name, data: heatmapSvg({ title: `Layer ${this.layer + 1}, ${this.head < 0 ? 'mean of heads' : `head ${this.head + 1}`}`, rows: u.rows.map((r) => r.label), cols: u.cols.map((c) => c.label), values, color, palette }) };
    }
    const g = this.grid();
    if (!g) return undefined;
    // Model view as vectors: one small heatmap per head, downsampled to keep the file reasonable.
    const n = Math.min(16, g.rows, g.cols);
    const parts: string[] = [];
    const step = 16 * 3 + 6;
    for (let li = 0; li < g.layers.length; li++) {
      for (let h = 0; h < g.heads; h++) {
        const base = (li * g.heads + h) * g.rows * g.cols;
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < n; j++) {
            const v = g.data[base + Math.floor((i * g.rows) / n) * g.cols + Math.floor((j * g.cols) / n)] / 255;
            if (v < 0.02) continue;
            parts.push(`<rect x="${40 + h * step + j * 3}" y="${20 + li * step + i * 3}" width="3" height="3" fill="${color(v)}"/>`);
          }
        }
      }
    }
    const w = 40 + g.heads * step;
    const hgt = 20 + g.layers.length * step;
    const labels = g.layers.map((l, li) => `<text x="4" y="${20 + li * step + 28}" font-size="10" fill="${t.foreground}">L${l + 1}</text>`).join('');
    return { name, data: `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${hgt}" viewBox="0 0 ${w} ${hgt}" font-family="sans-serif"><rect width="100%" height="100%" fill="${t.background}"/>${labels}${parts.join('')}</svg>` };
  }

  setTheme(theme: ThemeColors): void {
    this.theme = theme;
    this.lut = heatLookup(toRgb(theme.background), theme.heat);
    this.canvas.schedule();
    this.pairView.setTheme(theme);
  }

  shown(): void {
    this.canvas.redraw();
  }
}
