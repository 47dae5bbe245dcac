import type { AttentionKind, ExplanationResult, Level } from '../../../src/protocol/engineApi';
import type { AttentionMatrixView, AttentionOverview, DrawnSummary, HeadGridThumbnails, UnitLabel } from '../../../src/protocol/webviewMessages';
import { modelViewLayout, pooledUnits, strongestLinks } from '../../../src/render/attentionLayout';
import type { LegendSpec } from '../../../src/render/chartScene';
import { attentionLegend, heatmapSvg, modelViewSvg } from '../../../src/render/svgCharts';
import { visibleToken } from '../../../src/render/tokenText';
import { button, clear, el, fmt, select } from '../shared/dom';
import { legendElement, themePalette } from '../shared/svgScene';
import type { ThemeColors } from '../shared/theme';
import { drawCells, heatColor, heatLookup, toRgb, VirtualCanvas, Viewport } from '../shared/virtualCanvas';
import { coloredText } from './attributionsTab';
import { PairAttentionView } from './pairAttentionView';
import type { PanelChannel, TabView } from './tabView';

type AttentionMode = 'model' | 'head' | 'matrix' | 'rollout';

const GRID_LEFT = 40;
const GRID_TOP = 22;
const HEAD_TOP = 30;
const ROW_H = 20;
const HEAD_COLORS = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#42d4f4', '#f032e6', '#9a6324', '#469990', '#808000', '#000075', '#a9a9a9', '#bfef45', '#fabed4', '#dcbeff', '#ffd8b1'];
const MODE_TITLES: Record<AttentionMode, string> = {
  model: 'Model view (all heads)',
  head: 'Head view (lines)',
  matrix: 'Matrix (one head)',
  rollout: 'Rollout / flow',
};

const clipLabel = (s: string, n = 16) => {
  const v = visibleToken(s);
  return v.length > n ? `${v.slice(0, n - 1)}…` : v;
};

/**
 * Attention, after BertViz: the model view (every layer × head as a thumbnail sized to the panel,
 * values on hover), the head view (query words left, key words right, a line per attention weight
 * coloured by head; hover or arrow keys pick a word and show only its lines), one head's matrix,
 * and rollout / flow. Every view has a colour legend, keyboard access and a text description.
 */
export class AttentionTab implements TabView {
  readonly element = el('section', { className: 'tab attention' });
  private readonly toolbar = el('div', { className: 'controls' });
  private readonly info = el('p', { className: 'muted' });
  private readonly legendBox = el('div', { className: 'legend-box' });
  private readonly stage = el('div', { className: 'stage' });
  /** What the pointer or the keyboard points at, in words; read out by screen readers. */
  private readonly focusLine = el('p', { className: 'focus-line', attrs: { 'aria-live': 'polite' } });
  private readonly textAlternative = el('details', { className: 'text-alternative' });
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
  private legends: string[] = [];
  private loadingMatrix = false;
  /** Keyboard cursor: a head of the model view, a cell of the matrix, a word of the head view. */
  private cursor = { layerIndex: 0, head: 0, row: -1, col: -1 };
  /** Word picked in the head view (by pointer or keyboard): only its lines are drawn. */
  private picked: { side: 'query' | 'key'; index: number } | undefined;
  /** The picked word stays picked (a click or the keyboard) instead of following the pointer. */
  private pinned = false;
  private thumb = 64;
  private gap = 8;
  private stageWidth = 0;
  private readonly resize = new ResizeObserver(() => this.onResize());
  private readonly pairView: PairAttentionView;

  constructor(
    private readonly channel: PanelChannel,
    private theme: ThemeColors,
  ) {
    this.lut = heatLookup(toRgb(theme.background), theme.heat);
    this.canvas = new VirtualCanvas((ctx, view) => this.draw(ctx, view), { height: '70vh', className: 'attention-canvas' });
    const c = this.canvas.canvas;
    c.tabIndex = 0;
    c.setAttribute('role', 'img');
    c.addEventListener('click', (e) => this.onClick(e));
    c.addEventListener('mousemove', (e) => this.onHover(e));
    c.addEventListener('mouseleave', () => this.onLeave());
    c.addEventListener('keydown', (e) => this.onKey(e));
    // The keyboard cursor is drawn only while the canvas has the focus.
    c.addEventListener('focus', () => this.canvas.schedule());
    c.addEventListener('blur', () => this.canvas.schedule());
    this.pairView = new PairAttentionView(channel, theme);
    this.element.append(this.toolbar, this.info, this.legendBox, this.stage, this.focusLine, this.textAlternative, this.pairView.element);
    this.stage.append(el('p', { className: 'empty', text: 'Select text and run "ONNX Lens: Show Attention".' }));
    this.resize.observe(this.stage);
  }

  setOverview(overview: AttentionOverview): void {
    this.overview = overview;
    this.matrices.clear();
    this.picked = undefined;
    const kinds = overview.grids.map((g) => g.kind);
    if (!kinds.includes(this.kind)) this.kind = kinds[0] ?? 'self';
    const grid = this.grid();
    if (grid && !grid.layers.includes(this.layer)) this.layer = grid.layers[grid.layers.length - 1];
    if (grid) this.cursor = { layerIndex: Math.min(this.cursor.layerIndex, grid.layers.length - 1), head: Math.min(this.cursor.head, grid.heads - 1), row: -1, col: -1 };
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

  private kindName(kind = this.kind): string {
    return kind === 'self' ? 'self-attention' : kind === 'decoder' ? 'decoder self-attention' : 'cross-attention (decoder → encoder)';
  }

  // --- toolbar ----------------------------------------------------------------------------------

  private renderToolbar(): void {
    clear(this.toolbar);
    const o = this.overview;
    const grid = this.grid();
    const modes = (Object.keys(MODE_TITLES) as AttentionMode[]).map((m) => ({ value: m, label: MODE_TITLES[m] }));
    this.toolbar.append(el('label', { text: 'View ' }, select(modes, this.mode, (v) => this.setMode(v as AttentionMode))));
    if (o && o.grids.length > 1) {
      const kinds = o.grids.map((g) => ({ value: g.kind, label: g.kind === 'self' ? 'encoder self' : g.kind === 'decoder' ? 'decoder self' : 'cross (decoder → encoder)' }));
      this.toolbar.append(el('label', { text: 'Attention ' }, select(kinds, this.kind, (v) => { this.kind = v as AttentionKind; this.picked = undefined; this.render(); })));
    }
    if (this.mode !== 'rollout') {
      this.toolbar.append(
        el('label', { text: 'Level ' }, select([{ value: 'word', label: 'words' }, { value: 'token', label: 'tokens' }], o?.level ?? 'word', (v) => this.channel.post({ type: 'loadAttention', level: v as Level }))),
      );
    }
    if (grid && (this.mode === 'matrix' || this.mode === 'head')) {
      this.toolbar.append(el('label', { text: 'Layer ' }, select(grid.layers.map((l) => ({ value: String(l), label: `${l + 1}` })), String(this.layer), (v) => { this.layer = Number(v); this.render(); })));
    }
    if (grid && this.mode === 'matrix') {
      const heads = [{ value: '-1', label: 'mean of heads' }, ...Array.from({ length: grid.heads }, (_, h) => ({ value: String(h), label: `${h + 1}` }))];
      this.toolbar.append(el('label', { text: 'Head ' }, select(heads, String(this.head), (v) => { this.head = Number(v); this.render(); })));
    }
    if (grid && this.mode === 'head') {
      const box = el('span', { className: 'head-toggles', attrs: { role: 'group', 'aria-label': 'Heads shown' } });
      for (let h = 0; h < grid.heads; h++) {
        const on = this.selectedHeads.has(h);
        const b = el('button', { text: String(h + 1), className: on ? 'toggle on' : 'toggle', title: `Head ${h + 1}`, attrs: { 'aria-pressed': String(on), 'aria-label': `Head ${h + 1}` } });
        b.style.borderColor = HEAD_COLORS[h % HEAD_COLORS.length];
        b.addEventListener('click', () => {
          if (this.selectedHeads.has(h)) this.selectedHeads.delete(h);
          else this.selectedHeads.add(h);
          this.render();
          (this.toolbar.querySelector(`[aria-label="Head ${h + 1}"]`) as HTMLElement | null)?.focus();
        });
        box.append(b);
      }
      const all = button('All', () => { for (let h = 0; h < grid.heads; h++) this.selectedHeads.add(h); this.render(); }, { secondary: true, title: 'Show every head' });
      this.toolbar.append(el('span', { className: 'muted', text: 'Heads ' }), box, all);
    }
    if (this.mode === 'rollout') {
      this.toolbar.append(
        button('Attention rollout', () => this.channel.post({ type: 'loadRollout', method: 'rollout' }), { title: 'Multiply the attention of all layers, with the residual connection' }),
        button('Attention flow', () => this.channel.post({ type: 'loadRollout', method: 'flow' }), { secondary: true, title: 'Treat the layers as a flow network' }),
      );
    }
  }

  private setMode(mode: AttentionMode): void {
    this.mode = mode;
    this.picked = undefined;
    if (mode === 'head' || mode === 'matrix') {
      const grid = this.grid();
      // The head chosen in the model view carries over.
      if (grid && this.head >= 0) this.selectedHeads = new Set([this.head]);
    }
    this.render();
  }

  // --- rendering --------------------------------------------------------------------------------

  private render(): void {
    this.renderToolbar();
    clear(this.stage);
    clear(this.legendBox);
    this.legends = [];
    this.focusLine.textContent = '';
    const o = this.overview;
    if (this.mode === 'rollout') {
      this.info.textContent = '';
      this.renderRollout();
      this.renderTextAlternative();
      return;
    }
    if (!o) {
      this.info.textContent = '';
      this.stage.append(el('p', { className: 'empty', text: 'Select text and run "ONNX Lens: Show Attention".' }));
      this.drawn = { cells: 0, labels: [], counts: {} };
      this.renderTextAlternative();
      return;
    }
    const grid = this.grid();
    if (!grid) {
      this.info.textContent = '';
      this.stage.append(el('p', { className: 'notice', text: o.note ?? 'This model does not expose attention.' }));
      this.drawn = { cells: 0, labels: [], counts: {} };
      this.renderTextAlternative();
      return;
    }
    const u = this.units();
    const notes = [o.truncation?.message, o.note].filter(Boolean).join(' ');
    this.info.textContent = `${this.kindName()}: ${u.rows.length} × ${u.cols.length} ${o.level === 'word' ? 'words' : 'tokens'} · ${grid.layers.length} layers × ${grid.heads} heads. ${notes}`;
    this.stage.append(this.canvas.element);
    this.canvas.canvas.setAttribute('aria-label', this.canvasLabel());
    if (this.mode === 'model') this.layoutModel();
    else {
      this.ensureMatrix();
      this.layoutMatrix();
    }
    this.renderLegend();
    this.canvas.redraw();
    this.renderTextAlternative();
  }

  private canvasLabel(): string {
    const grid = this.grid();
    if (!grid) return 'Attention';
    if (this.mode === 'model') return `Model view: ${grid.layers.length} layers by ${grid.heads} heads of ${this.kindName()}. Arrow keys choose a head, Enter opens its matrix. A text description follows.`;
    if (this.mode === 'head') return `Head view of layer ${this.layer + 1}: lines from each query word on the left to the words it attends to on the right. Up and down arrows pick a word, Escape shows all. A text description follows.`;
    return `Attention matrix of layer ${this.layer + 1}, ${this.head < 0 ? 'mean of heads' : `head ${this.head + 1}`}: rows attend to columns. Arrow keys move between cells. A text description follows.`;
  }

  private renderLegend(): void {
    const spec = this.legendSpec();
    if (!spec) return;
    this.legends.push(spec.title);
    this.legendBox.append(legendElement(spec, this.theme, 240));
  }

  private legendSpec(): LegendSpec | undefined {
    const bg = toRgb(this.theme.background);
    const color = (t: number) => heatColor(bg, this.theme.heat, t);
    if (this.mode === 'model') {
      return { title: 'Attention weight, each head scaled to its largest', color, t0: 0, t1: 1, labels: [{ t: 0, text: '0' }, { t: 0.5, text: '½ of its max' }, { t: 1, text: 'its max' }] };
    }
    const cur = this.currentMatrix();
    if (this.mode === 'matrix') {
      const spec = attentionLegend(cur?.scale ?? 1, `Attention weight (layer ${this.layer + 1}, ${this.head < 0 ? 'mean of heads' : `head ${this.head + 1}`})`);
      return { ...spec, color };
    }
    // Head view: a line's opacity is its weight relative to the head's largest.
    const head = [...this.selectedHeads][0] ?? 0;
    const lineColor = HEAD_COLORS[head % HEAD_COLORS.length];
    const rgb = toRgb(lineColor);
    return {
      title: 'Line opacity: attention weight, each head scaled to its largest',
      color: (t) => heatColor(bg, rgb, Math.pow(t, 1 / 0.6)),
      t0: 0,
      t1: 1,
      labels: [{ t: 0, text: '0' }, { t: 1, text: 'the head’s max' }],
    };
  }

  private renderRollout(): void {
    const r = this.rollout;
    if (!r) {
      this.stage.append(el('p', { className: 'empty', text: 'Attention rollout multiplies the attention of all layers (with the residual connection) to estimate how much each input word reaches the output; attention flow treats the layers as a flow network. Pick one above.' }));
      this.drawn = { cells: 0, labels: [], counts: {} };
      return;
    }
    const max = Math.max(0, ...r.features.map((f) => f.value));
    const title = `Word colour: ${r.provenance.method === 'flow' ? 'attention flow' : 'attention rollout'} to the output`;
    this.legends.push(title);
    this.legendBox.append(legendElement({ title, color: (t) => `rgba(239, 68, 68, ${(0.8 * t).toFixed(3)})`, t0: 0, t1: 1, labels: [{ t: 0, text: '0' }, { t: 1, text: fmt(max) }] }, this.theme, 240));
    const colored = coloredText(r.text, r.features, (f) => this.channel.post({ type: 'revealText', start: f.start, end: f.end }));
    const table = el('table', { className: 'trust' });
    const top = [...r.features].sort((a, b) => b.value - a.value).slice(0, 10);
    for (const f of top) table.append(el('tr', {}, el('th', { text: f.text }), el('td', { className: 'num', text: fmt(f.value) })));
    this.stage.append(el('p', { className: 'muted', text: `${r.provenance.method}: ${r.target.description}` }), colored.node, el('h4', { text: 'Most relevant' }), table);
    for (const n of r.notes) this.stage.append(el('p', { className: 'notice', text: n }));
    this.drawn = { cells: colored.words, labels: r.features.map((f) => f.text), counts: { words: colored.words } };
  }

  /** The text description of the view: per head (model view) or per word (head and matrix views), the strongest links. */
  private renderTextAlternative(): void {
    clear(this.textAlternative);
    const grid = this.grid();
    const u = this.units();
    if (this.mode === 'rollout' || !grid || !this.overview) {
      this.textAlternative.hidden = true;
      return;
    }
    this.textAlternative.hidden = false;
    const table = el('table', { className: 'trust' });
    if (this.mode === 'model') {
      this.textAlternative.append(el('summary', { text: `Text description: the strongest links of each of the ${grid.layers.length * grid.heads} heads` }));
      table.append(el('tr', {}, el('th', { text: 'head' }), el('th', { text: 'strongest links (query → key: weight)' })));
      const rowsOf = pooledUnits(u.rows, grid.rows);
      const colsOf = pooledUnits(u.cols, grid.cols);
      grid.layers.forEach((layer, li) => {
        for (let h = 0; h < grid.heads; h++) {
          const index = li * grid.heads + h;
          const links = strongestLinks(grid.data, index * grid.rows * grid.cols, grid.rows, grid.cols, grid.scales[index], 3);
          const text = links.map((l) => `${rowsOf[l.row]} → ${colsOf[l.col]}: ${fmt(l.value, 2)}`).join('; ');
          table.append(el('tr', {}, el('th', { text: `layer ${layer + 1}, head ${h + 1}` }), el('td', { text })));
        }
      });
    } else {
      const m = this.matrices.get(this.matrixKey());
      const heads = this.mode === 'matrix' ? [this.head] : [...this.selectedHeads].sort((a, b) => a - b);
      this.textAlternative.append(el('summary', { text: `Text description: what each ${this.overview.level === 'word' ? 'word' : 'token'} attends to most (layer ${this.layer + 1})` }));
      if (!m) {
        this.textAlternative.append(el('p', { className: 'muted', text: 'Loading…' }));
        return;
      }
      table.append(el('tr', {}, el('th', { text: 'query' }), ...heads.map((h) => el('th', { text: h < 0 ? 'mean of heads' : `head ${h + 1}` }))));
      for (let r = 0; r < m.rows; r++) {
        const cells = heads.map((h) => {
          const index = m.heads.indexOf(h);
          if (index < 0) return el('td', { text: '—' });
          const links = strongestLinks(m.data, index * m.rows * m.cols + r * m.cols, 1, m.cols, m.scales[index], 3);
          return el('td', { text: links.map((l) => `${visibleToken(u.cols[l.col]?.label ?? '')} ${fmt(l.value, 2)}`).join(', ') });
        });
        table.append(el('tr', {}, el('th', { text: visibleToken(u.rows[r]?.label ?? '') }), ...cells));
      }
    }
    this.textAlternative.append(table);
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
        if (key === this.matrixKey() && (this.mode === 'matrix' || this.mode === 'head')) this.render();
        else this.ensureMatrix();
      })
      .catch((e: Error) => {
        this.loadingMatrix = false;
        this.info.textContent = e.message;
      });
  }

  private onResize(): void {
    const width = Math.floor(this.stage.clientWidth);
    if (width === 0 || width === this.stageWidth) return;
    this.stageWidth = width;
    if (!this.overview || this.mode === 'rollout') return;
    if (this.mode === 'model') this.layoutModel();
    else this.layoutMatrix();
    this.canvas.redraw();
  }

  /** Thumbnails sized to the panel, never smaller than what keeps 20–60 words readable. */
  private layoutModel(): void {
    const g = this.grid();
    if (!g) return;
    const width = this.stage.clientWidth || this.element.clientWidth || 600;
    const layout = modelViewLayout(width - 2, g.heads, Math.max(this.units().rows.length, this.units().cols.length), GRID_LEFT);
    this.thumb = layout.thumb;
    this.gap = layout.gap;
    this.canvas.setSize(GRID_LEFT + g.heads * (this.thumb + layout.gap), GRID_TOP + g.layers.length * (this.thumb + layout.gap));
  }

  private matrixLayout() {
    const u = this.units();
    const n = Math.max(u.rows.length, u.cols.length);
    const cell = Math.max(6, Math.min(28, Math.floor(640 / Math.max(1, n))));
    return { cell, left: 110, top: 90 };
  }

  private layoutMatrix(): void {
    const u = this.units();
    const l = this.matrixLayout();
    if (this.mode === 'matrix') this.canvas.setSize(l.left + u.cols.length * l.cell + 8, l.top + u.rows.length * l.cell + 8);
    else this.canvas.setSize(Math.max(360, (this.stage.clientWidth || 600) - 2), HEAD_TOP + Math.max(u.rows.length, u.cols.length) * ROW_H + 8);
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
    const step = this.thumb + this.gap;
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
        drawCells(ctx, g.data, g.cols, { r0: 0, r1: g.rows, c0: 0, c1: g.cols }, { x, y, cellW: this.thumb / g.cols, cellH: this.thumb / g.rows }, this.lut, (li * g.heads + h) * size);
        ctx.strokeStyle = this.theme.border;
        ctx.lineWidth = 1;
        ctx.strokeRect(x - 0.5, y - 0.5, this.thumb + 1, this.thumb + 1);
        const cursor = li === this.cursor.layerIndex && h === this.cursor.head && document.activeElement === this.canvas.canvas;
        if ((li === this.layersIndex() && h === this.head) || cursor) {
          ctx.strokeStyle = this.theme.accent;
          ctx.lineWidth = 2;
          ctx.strokeRect(x - 2, y - 2, this.thumb + 4, this.thumb + 4);
        }
        thumbnails++;
      }
    }
    ctx.fillStyle = this.theme.foreground;
    const labels: string[] = [];
    for (let li = r0; li < r1; li++) {
      const label = `L${g.layers[li] + 1}`;
      labels.push(label);
      ctx.fillText(label, 4, GRID_TOP + li * step - view.y + this.thumb / 2 + 4);
    }
    ctx.textAlign = 'center';
    for (let h = c0; h < c1; h++) ctx.fillText(`H${h + 1}`, GRID_LEFT + h * step - view.x + this.thumb / 2, 14);
    ctx.textAlign = 'left';
    const u = this.units();
    this.drawn = {
      cells: thumbnails,
      labels,
      counts: {
        layers: g.layers.length,
        heads: g.heads,
        thumbnails: g.layers.length * g.heads,
        drawnThumbnails: thumbnails,
        units: u.rows.length,
        specialUnits: u.rows.filter((r) => r.special).length,
        thumbnailPx: this.thumb,
        gridWidth: GRID_LEFT + g.heads * step,
      },
    };
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
    const c0 = Math.max(0, Math.floor(view.x / l.cell));
    const c1 = Math.min(m.cols, Math.ceil((view.x + view.width - l.left) / l.cell) + 1);
    const r0 = Math.max(0, Math.floor(view.y / l.cell));
    const r1 = Math.min(m.rows, Math.ceil((view.y + view.height - l.top) / l.cell) + 1);
    const cells = drawCells(ctx, m.data, m.cols, { r0, r1, c0, c1 }, { x: l.left + c0 * l.cell - view.x, y: l.top + r0 * l.cell - view.y, cellW: l.cell, cellH: l.cell }, this.lut, offset);
    if (this.cursor.row >= 0 && this.cursor.col >= 0) {
      ctx.strokeStyle = this.theme.accent;
      ctx.lineWidth = 2;
      ctx.strokeRect(l.left + this.cursor.col * l.cell - view.x, l.top + this.cursor.row * l.cell - view.y, l.cell, l.cell);
    }
    // Label strips stay put while the cells scroll under them.
    ctx.fillStyle = this.theme.background;
    ctx.fillRect(0, 0, view.width, l.top);
    ctx.fillRect(0, 0, l.left, view.height);
    ctx.fillStyle = this.theme.foreground;
    const labels: string[] = [];
    for (let r = r0; r < r1; r++) {
      const y = l.top + r * l.cell - view.y + l.cell / 2 + 4;
      if (y < l.top) continue;
      ctx.fillStyle = r === this.cursor.row ? this.theme.accent : this.theme.foreground;
      if (l.cell >= 10) ctx.fillText(clipLabel(u.rows[r]?.label ?? '', 14), 4, y);
      labels.push(u.rows[r]?.label ?? '');
    }
    if (l.cell >= 10) {
      for (let c = c0; c < c1; c++) {
        const x = l.left + c * l.cell - view.x + l.cell / 2;
        if (x < l.left) continue;
        ctx.save();
        ctx.fillStyle = c === this.cursor.col ? this.theme.accent : this.theme.foreground;
        ctx.translate(x + 3, l.top - 4);
        ctx.rotate(-Math.PI / 3);
        ctx.fillText(clipLabel(u.cols[c]?.label ?? '', 14), 0, 0);
        ctx.restore();
      }
    }
    ctx.fillStyle = this.theme.muted;
    ctx.fillText(`layer ${this.layer + 1}, ${this.head < 0 ? 'mean of heads' : `head ${this.head + 1}`} · rows attend to columns`, 4, 12);
    this.drawn = { cells, labels, counts: { rows: m.rows, cols: m.cols, drawnCells: cells } };
  }

  /** Where the head view puts its two columns of words. */
  private headColumns(width: number): { leftX: number; rightX: number } {
    const u = this.units();
    const longest = Math.max(4, ...u.rows.map((r) => Math.min(16, visibleToken(r.label).length)), ...u.cols.map((c) => Math.min(16, visibleToken(c.label).length)));
    const labelW = Math.min(130, 12 + longest * 7);
    return { leftX: labelW, rightX: Math.max(labelW + 120, width - labelW) };
  }

  /**
   * Head view: query words left, key words right, a line per (query, key, head) with its opacity
   * the attention weight; a picked word shows only its own lines, in full strength.
   */
  private drawHeads(ctx: CanvasRenderingContext2D, view: Viewport): void {
    const m = this.matrices.get(this.matrixKey());
    const u = this.units();
    if (!m) {
      ctx.fillStyle = this.theme.muted;
      ctx.fillText('Loading…', 10, 20);
      return;
    }
    const { leftX, rightX } = this.headColumns(view.width);
    const rowY = (i: number) => HEAD_TOP + i * ROW_H + ROW_H / 2 - view.y;
    const r0 = Math.max(0, Math.floor((view.y - HEAD_TOP) / ROW_H) - 1);
    const r1 = Math.min(Math.max(m.rows, m.cols), Math.ceil((view.y + view.height - HEAD_TOP) / ROW_H) + 1);
    const picked = this.picked;
    let lines = 0;
    ctx.lineWidth = 2;
    for (const h of this.selectedHeads) {
      const index = m.heads.indexOf(h);
      if (index < 0) continue;
      const offset = index * m.rows * m.cols;
      ctx.strokeStyle = HEAD_COLORS[h % HEAD_COLORS.length];
      for (let q = 0; q < m.rows; q++) {
        if (picked?.side === 'query' && q !== picked.index) continue;
        for (let k = 0; k < m.cols; k++) {
          if (picked?.side === 'key' && k !== picked.index) continue;
          const v = m.data[offset + q * m.cols + k];
          if (v < 8) continue;
          const y0 = rowY(q);
          const y1 = rowY(k);
          // Only lines that cross the visible band.
          if ((y0 < -ROW_H && y1 < -ROW_H) || (y0 > view.height + ROW_H && y1 > view.height + ROW_H)) continue;
          ctx.globalAlpha = Math.min(1, (v / 255) * (picked ? 1 : 0.9));
          ctx.beginPath();
          ctx.moveTo(leftX + 6, y0);
          ctx.lineTo(rightX - 6, y1);
          ctx.stroke();
          lines++;
        }
      }
    }
    ctx.globalAlpha = 1;
    const labels: string[] = [];
    const label = (text: string, x: number, y: number, align: CanvasTextAlign, on: boolean) => {
      ctx.textAlign = align;
      if (on) {
        const w = ctx.measureText(text).width + 6;
        ctx.fillStyle = this.theme.accent;
        ctx.globalAlpha = 0.25;
        ctx.fillRect(align === 'right' ? x - w + 3 : x - 3, y - 12, w, 16);
        ctx.globalAlpha = 1;
      }
      ctx.fillStyle = this.theme.foreground;
      ctx.fillText(text, x, y);
    };
    for (let i = r0; i < Math.min(r1, m.rows); i++) {
      label(clipLabel(u.rows[i]?.label ?? ''), leftX, rowY(i) + 4, 'right', picked?.side === 'query' && picked.index === i);
      labels.push(u.rows[i]?.label ?? '');
    }
    for (let i = r0; i < Math.min(r1, m.cols); i++) label(clipLabel(u.cols[i]?.label ?? ''), rightX, rowY(i) + 4, 'left', picked?.side === 'key' && picked.index === i);
    ctx.textAlign = 'left';
    ctx.fillStyle = this.theme.background;
    ctx.fillRect(0, 0, view.width, HEAD_TOP - 8);
    ctx.fillStyle = this.theme.muted;
    ctx.fillText(`layer ${this.layer + 1} · ${this.selectedHeads.size} head(s) · queries attend ${this.kind === 'cross' ? '(decoder)' : ''}`, 4, 14);
    ctx.textAlign = 'right';
    ctx.fillText(`keys ${this.kind === 'cross' ? '(encoder)' : ''}`, view.width - 4, 14);
    ctx.textAlign = 'left';
    this.drawn = { cells: lines, labels, counts: { lines, heads: this.selectedHeads.size, rows: m.rows, cols: m.cols, picked: picked ? 1 : 0 } };
  }

  // --- pointer and keyboard ---------------------------------------------------------------------

  private modelHit(p: { x: number; y: number }): { layerIndex: number; head: number; row: number; col: number } | undefined {
    const g = this.grid();
    if (!g) return undefined;
    const step = this.thumb + this.gap;
    const head = Math.floor((p.x - GRID_LEFT) / step);
    const layerIndex = Math.floor((p.y - GRID_TOP) / step);
    if (head < 0 || head >= g.heads || layerIndex < 0 || layerIndex >= g.layers.length) return undefined;
    const dx = p.x - GRID_LEFT - head * step;
    const dy = p.y - GRID_TOP - layerIndex * step;
    if (dx > this.thumb || dy > this.thumb) return undefined;
    return { layerIndex, head, row: Math.min(g.rows - 1, Math.floor((dy / this.thumb) * g.rows)), col: Math.min(g.cols - 1, Math.floor((dx / this.thumb) * g.cols)) };
  }

  /** "Layer 1, head 2 · “film” → “the”: 0.41". */
  private describeThumbnailCell(layerIndex: number, head: number, row: number, col: number): string {
    const g = this.grid()!;
    const u = this.units();
    const index = layerIndex * g.heads + head;
    const value = (g.data[index * g.rows * g.cols + row * g.cols + col] / 255) * g.scales[index];
    const rows = pooledUnits(u.rows, g.rows);
    const cols = pooledUnits(u.cols, g.cols);
    return `Layer ${g.layers[layerIndex] + 1}, head ${head + 1} · ${rows[row]} → ${cols[col]}: ${fmt(value, 3)}${g.rows < u.rows.length || g.cols < u.cols.length ? ' (largest in the block)' : ''}`;
  }

  private describeHead(layerIndex: number, head: number): string {
    const g = this.grid()!;
    const u = this.units();
    const index = layerIndex * g.heads + head;
    const links = strongestLinks(g.data, index * g.rows * g.cols, g.rows, g.cols, g.scales[index], 3);
    const rows = pooledUnits(u.rows, g.rows);
    const cols = pooledUnits(u.cols, g.cols);
    return `Layer ${g.layers[layerIndex] + 1}, head ${head + 1}: strongest ${links.map((l) => `${rows[l.row]} → ${cols[l.col]} ${fmt(l.value, 2)}`).join('; ')}. Enter opens it.`;
  }

  /** What a word attends to (query) or receives from (key) in the heads shown. */
  private describePicked(): string {
    const m = this.matrices.get(this.matrixKey());
    const p = this.picked;
    if (!m || !p) return '';
    const u = this.units();
    const parts: string[] = [];
    for (const h of [...this.selectedHeads].sort((a, b) => a - b)) {
      const index = m.heads.indexOf(h);
      if (index < 0) continue;
      const base = index * m.rows * m.cols;
      const values = p.side === 'query'
        ? Array.from({ length: m.cols }, (_, k) => ({ i: k, v: m.data[base + p.index * m.cols + k] }))
        : Array.from({ length: m.rows }, (_, q) => ({ i: q, v: m.data[base + q * m.cols + p.index] }));
      const top = values.sort((a, b) => b.v - a.v).slice(0, 3);
      const names = p.side === 'query' ? u.cols : u.rows;
      parts.push(`head ${h + 1}: ${top.map((t) => `${visibleToken(names[t.i]?.label ?? '')} ${fmt((t.v / 255) * m.scales[index], 2)}`).join(', ')}`);
    }
    const word = visibleToken((p.side === 'query' ? u.rows : u.cols)[p.index]?.label ?? '');
    return `“${word}” ${p.side === 'query' ? 'attends to' : 'is attended to by'} — ${parts.join(' · ')}`;
  }

  private onClick(e: MouseEvent): void {
    this.canvas.canvas.focus();
    if (this.mode === 'model') {
      const h = this.modelHit(this.canvas.pointAt(e));
      if (!h) return;
      this.openHead(h.layerIndex, h.head);
    } else if (this.mode === 'head') {
      this.pickAt(e);
      // A click keeps the pick until the next click elsewhere or Escape.
      this.pinned = this.picked !== undefined;
    }
  }

  private openHead(layerIndex: number, head: number): void {
    this.layer = this.grid()!.layers[layerIndex];
    this.head = head;
    this.cursor = { ...this.cursor, layerIndex, head, row: -1, col: -1 };
    this.mode = 'matrix';
    this.render();
  }

  private pickAt(e: MouseEvent): void {
    const m = this.matrices.get(this.matrixKey());
    if (!m) return;
    const p = this.canvas.pointAt(e);
    const { leftX, rightX } = this.headColumns(this.canvas.viewport.width);
    const index = Math.floor((p.y - HEAD_TOP) / ROW_H);
    const before = this.picked;
    if (p.x <= leftX + 8 && index >= 0 && index < m.rows) this.picked = { side: 'query', index };
    else if (p.x >= rightX - 8 && index >= 0 && index < m.cols) this.picked = { side: 'key', index };
    else this.picked = undefined;
    if (before?.side !== this.picked?.side || before?.index !== this.picked?.index) {
      this.focusLine.textContent = this.describePicked();
      this.canvas.schedule();
    }
  }

  private onHover(e: MouseEvent): void {
    const c = this.canvas.canvas;
    if (this.mode === 'model') {
      const h = this.modelHit(this.canvas.pointAt(e));
      c.title = h ? `${this.describeThumbnailCell(h.layerIndex, h.head, h.row, h.col)} · click to open` : '';
    } else if (this.mode === 'matrix') {
      const cur = this.currentMatrix();
      const l = this.matrixLayout();
      const p = this.canvas.pointAt(e);
      const col = Math.floor((p.x - l.left) / l.cell);
      const row = Math.floor((p.y - l.top) / l.cell);
      const u = this.units();
      c.title = cur && row >= 0 && col >= 0 && row < cur.m.rows && col < cur.m.cols ? `${visibleToken(u.rows[row]?.label ?? '')} → ${visibleToken(u.cols[col]?.label ?? '')}: ${fmt((cur.m.data[cur.offset + row * cur.m.cols + col] / 255) * cur.scale)}` : '';
    } else if (this.mode === 'head' && !this.pinned) {
      this.pickAt(e);
    }
  }

  private onLeave(): void {
    if (this.mode === 'head' && !this.pinned && this.picked) {
      this.picked = undefined;
      this.focusLine.textContent = '';
      this.canvas.schedule();
    }
  }

  /** Arrow keys move through heads (model view), cells (matrix) or words (head view); Enter opens a head; Escape clears. */
  private onKey(e: KeyboardEvent): void {
    const g = this.grid();
    if (!g) return;
    const move: Record<string, [number, number]> = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    const d = move[e.key];
    if (this.mode === 'model') {
      if (d) {
        this.cursor.layerIndex = Math.max(0, Math.min(g.layers.length - 1, this.cursor.layerIndex + d[0]));
        this.cursor.head = Math.max(0, Math.min(g.heads - 1, this.cursor.head + d[1]));
        this.focusLine.textContent = this.describeHead(this.cursor.layerIndex, this.cursor.head);
        this.scrollIntoView(GRID_LEFT + this.cursor.head * (this.thumb + this.gap), GRID_TOP + this.cursor.layerIndex * (this.thumb + this.gap), this.thumb);
      } else if (e.key === 'Enter' || e.key === ' ') {
        this.openHead(this.cursor.layerIndex, this.cursor.head);
        this.canvas.canvas.focus();
      } else return;
    } else if (this.mode === 'matrix') {
      const cur = this.currentMatrix();
      if (!cur || !d) {
        if (e.key === 'Escape') this.setMode('model');
        else return;
      } else {
        this.cursor.row = Math.max(0, Math.min(cur.m.rows - 1, (this.cursor.row < 0 ? 0 : this.cursor.row + d[0])));
        this.cursor.col = Math.max(0, Math.min(cur.m.cols - 1, (this.cursor.col < 0 ? 0 : this.cursor.col + d[1])));
        const u = this.units();
        const v = (cur.m.data[cur.offset + this.cursor.row * cur.m.cols + this.cursor.col] / 255) * cur.scale;
        this.focusLine.textContent = `${visibleToken(u.rows[this.cursor.row]?.label ?? '')} → ${visibleToken(u.cols[this.cursor.col]?.label ?? '')}: ${fmt(v)}`;
        const l = this.matrixLayout();
        this.scrollIntoView(this.cursor.col * l.cell, this.cursor.row * l.cell, l.cell);
      }
    } else if (this.mode === 'head') {
      const m = this.matrices.get(this.matrixKey());
      if (!m) return;
      if (e.key === 'Escape') {
        this.picked = undefined;
        this.pinned = false;
        this.focusLine.textContent = '';
      } else if (e.key === 'ArrowUp' || e.key === 'ArrowDown') {
        const side = this.picked?.side ?? 'query';
        const count = side === 'query' ? m.rows : m.cols;
        const index = this.picked ? Math.max(0, Math.min(count - 1, this.picked.index + (e.key === 'ArrowDown' ? 1 : -1))) : 0;
        this.picked = { side, index };
        this.pinned = true;
        this.focusLine.textContent = this.describePicked();
        this.scrollIntoView(0, index * ROW_H, ROW_H);
      } else if ((e.key === 'ArrowLeft' || e.key === 'ArrowRight') && this.picked) {
        const side = e.key === 'ArrowLeft' ? 'query' : 'key';
        this.picked = { side, index: Math.min(this.picked.index, (side === 'query' ? m.rows : m.cols) - 1) };
        this.focusLine.textContent = this.describePicked();
      } else return;
    }
    e.preventDefault();
    this.canvas.schedule();
  }

  private scrollIntoView(x: number, y: number, size: number): void {
    const v = this.canvas.viewport;
    const sx = x < v.x ? x : x + size > v.x + v.width ? x + size - v.width : v.x;
    const sy = y < v.y ? y : y + size > v.y + v.height ? y + size - v.height : v.y;
    if (sx !== v.x || sy !== v.y) this.canvas.scrollTo(sx, sy);
  }

  // --- TabView ----------------------------------------------------------------------------------

  describe(): Pick<DrawnSummary, 'cells' | 'labels' | 'counts' | 'legends'> {
    return {
      ...this.drawn,
      counts: { ...this.drawn.counts, textRows: this.textAlternative.hidden ? 0 : this.textAlternative.querySelectorAll('tr').length - 1, ...this.pairView.describe() },
      legends: this.legends,
    };
  }

  async snapshot(format: 'png' | 'svg') {
    if (this.mode === 'rollout') return undefined;
    const name = this.mode === 'model' ? 'attention-model-view' : this.mode === 'head' ? `attention-layer${this.layer + 1}-head-view` : `attention-layer${this.layer + 1}-${this.head < 0 ? 'mean' : `head${this.head + 1}`}`;
    if (format === 'png') {
      this.canvas.redraw();
      return { name, data: this.canvas.canvas.toDataURL('image/png') };
    }
    const t = this.theme;
    const bg = toRgb(t.background);
    const color = (v: number) => heatColor(bg, t.heat, v);
    const palette = themePalette(t);
    if (this.mode === 'matrix') {
      const cur = this.currentMatrix();
      if (!cur) return undefined;
      const u = this.units();
      const values = Array.from(cur.m.data.subarray(cur.offset, cur.offset + cur.m.rows * cur.m.cols), (v) => v / 255);
      const title = `Layer ${this.layer + 1}, ${this.head < 0 ? 'mean of heads' : `head ${this.head + 1}`}`;
      return { name, data: heatmapSvg({ title, rows: u.rows.map((r) => r.label), cols: u.cols.map((c) => c.label), values, color, palette, legend: attentionLegend(cur.scale) }) };
    }
    if (this.mode === 'head') return undefined;
    const g = this.grid();
    if (!g) return undefined;
    return { name, data: modelViewSvg(g, { title: `Attention: ${g.layers.length} layers × ${g.heads} heads (${this.kindName()})`, color, palette }) };
  }

  setTheme(theme: ThemeColors): void {
    this.theme = theme;
    this.lut = heatLookup(toRgb(theme.background), theme.heat);
    if (this.overview) this.render();
    else this.canvas.schedule();
    this.pairView.setTheme(theme);
  }

  shown(): void {
    if (this.overview && this.mode === 'model') this.layoutModel();
    this.canvas.redraw();
  }

  reset(): void {
    this.overview = undefined;
    this.rollout = undefined;
    this.matrices.clear();
    this.head = -1;
    this.picked = undefined;
    this.pinned = false;
    this.info.textContent = '';
    if (this.mode === 'rollout') this.mode = 'model';
    this.render();
  }
}
