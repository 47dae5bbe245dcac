import type { ActivationView, NeuronValue } from '../../../src/protocol/webviewMessages';
import { heatmapSvg } from '../../../src/ui/report/svgCharts';
import { clear, el, fmt, select } from '../shared/dom';
import type { ThemeColors } from '../shared/theme';
import { drawCells, heatLookup, toRgb, VirtualCanvas, Viewport } from '../shared/virtualCanvas';
import type { PanelChannel, TabView } from './tabView';

const ROW = 16;
const COL = 36;
const LEFT = 120;
const TOP = 24;

/** Activations: tokens × layers heatmap of hidden-state norms; top neurons of a clicked cell. */
export class ActivationsTab implements TabView {
  readonly element = el('section', { className: 'tab activations' });
  private readonly toolbar = el('div', { className: 'controls' });
  private readonly stage = el('div', { className: 'row' });
  private readonly neurons = el('div', { className: 'side neurons' });
  private views: ActivationView[] = [];
  private stackIndex = 0;
  private perLayer = true;
  private quantised = new Uint8Array(0);
  private lut: Uint8ClampedArray;
  private readonly canvas: VirtualCanvas;
  private selected: { token: number; layer: number } | undefined;
  private drawn = { cells: 0, labels: [] as string[], counts: {} as Record<string, number> };

  constructor(
    private readonly channel: PanelChannel,
    private theme: ThemeColors,
  ) {
    this.lut = heatLookup(toRgb(theme.background), theme.heat);
    this.canvas = new VirtualCanvas((ctx, view) => this.draw(ctx, view), { height: '70vh' });
    this.canvas.canvas.addEventListener('click', (e) => this.onClick(e));
    this.element.append(this.toolbar, this.stage);
    this.stage.append(el('p', { className: 'empty', text: 'Select text and run "ONNX Lens: Show Activations".' }));
  }

  setViews(views: ActivationView[]): void {
    this.views = views;
    this.stackIndex = Math.min(this.stackIndex, Math.max(0, views.length - 1));
    this.selected = undefined;
    this.render();
  }

  private view(): ActivationView | undefined {
    return this.views[this.stackIndex];
  }

  /** Norms → 0–255 per layer (norms grow with depth, so a global scale would hide early layers) or globally. */
  private quantise(): void {
    const v = this.view();
    if (!v) return;
    const L = v.layers.length;
    const T = v.tokens.length;
    this.quantised = new Uint8Array(T * L);
    const max = new Float32Array(L);
    let globalMax = 0;
    for (let t = 0; t < T; t++) for (let l = 0; l < L; l++) {
      const x = v.norms[t * L + l];
      if (x > max[l]) max[l] = x;
      if (x > globalMax) globalMax = x;
    }
    for (let t = 0; t < T; t++) for (let l = 0; l < L; l++) {
      const m = this.perLayer ? max[l] : globalMax;
      this.quantised[t * L + l] = m > 0 ? Math.round((v.norms[t * L + l] / m) * 255) : 0;
    }
  }

  private render(): void {
    clear(this.toolbar);
    clear(this.stage);
    const v = this.view();
    if (!v) {
      this.stage.append(el('p', { className: 'empty', text: 'Select text and run "ONNX Lens: Show Activations".' }));
      this.drawn = { cells: 0, labels: [], counts: {} };
      return;
    }
    if (this.views.length > 1) {
      this.toolbar.append(el('label', { text: 'Stack ' }, select(this.views.map((x, i) => ({ value: String(i), label: x.stack })), String(this.stackIndex), (s) => { this.stackIndex = Number(s); this.render(); })));
    }
    this.toolbar.append(
      el('label', { text: 'Scale ' }, select([{ value: 'layer', label: 'per layer' }, { value: 'global', label: 'global' }], this.perLayer ? 'layer' : 'global', (s) => { this.perLayer = s === 'layer'; this.render(); })),
      el('span', { className: 'muted', text: `‖hidden state‖ per token after each layer · hidden size ${v.hiddenSize} · click a cell for its top neurons` }),
    );
    this.quantise();
    this.stage.append(this.canvas.element, this.neurons);
    this.canvas.setSize(LEFT + v.layers.length * COL + 8, TOP + v.tokens.length * ROW + 8);
    this.canvas.redraw();
  }

  private draw(ctx: CanvasRenderingContext2D, view: Viewport): void {
    const v = this.view();
    if (!v) return;
    const L = v.layers.length;
    const r0 = Math.max(0, Math.floor(view.y / ROW));
    const r1 = Math.min(v.tokens.length, Math.ceil((view.y + view.height - TOP) / ROW) + 1);
    const c0 = Math.max(0, Math.floor(view.x / COL));
    const c1 = Math.min(L, Math.ceil((view.x + view.width - LEFT) / COL) + 1);
    const cells = drawCells(ctx, this.quantised, L, { r0, r1, c0, c1 }, { x: LEFT + c0 * COL - view.x, y: TOP + r0 * ROW - view.y, cellW: COL, cellH: ROW }, this.lut);
    if (this.selected) {
      ctx.strokeStyle = this.theme.accent;
      ctx.lineWidth = 2;
      ctx.strokeRect(LEFT + this.selected.layer * COL - view.x, TOP + this.selected.token * ROW - view.y, COL, ROW);
    }
    ctx.fillStyle = this.theme.background;
    ctx.fillRect(0, 0, LEFT, view.height);
    ctx.fillRect(0, 0, view.width, TOP);
    ctx.font = `11px ${this.theme.font}`;
    const labels: string[] = [];
    for (let r = r0; r < r1; r++) {
      const y = TOP + r * ROW - view.y + ROW / 2 + 4;
      if (y < TOP) continue;
      const t = v.tokens[r];
      ctx.fillStyle = t.special ? this.theme.muted : this.theme.foreground;
      ctx.fillText(`${r} ${t.text}`.slice(0, 18), 4, y);
      labels.push(t.text);
    }
    ctx.fillStyle = this.theme.foreground;
    for (let c = c0; c < c1; c++) {
      const x = LEFT + c * COL - view.x + 4;
      if (x >= LEFT) ctx.fillText(v.layers[c] === 0 ? 'emb' : `L${v.layers[c]}`, x, 16);
    }
    this.drawn = { cells, labels, counts: { tokens: v.tokens.length, layers: L, drawnCells: cells } };
  }

  private onClick(e: MouseEvent): void {
    const v = this.view();
    if (!v) return;
    const p = this.canvas.pointAt(e);
    const layer = Math.floor((p.x - LEFT) / COL);
    const token = Math.floor((p.y - TOP) / ROW);
    if (layer < 0 || layer >= v.layers.length || token < 0 || token >= v.tokens.length) return;
    this.selected = { token, layer };
    this.canvas.schedule();
    clear(this.neurons);
    this.neurons.append(el('p', { className: 'muted', text: 'Loading…' }));
    this.channel
      .request('topNeurons', { stack: v.stack, layer: v.layers[layer], token })
      .then((list) => this.showNeurons(v, token, layer, list))
      .catch((err: Error) => {
        clear(this.neurons);
        this.neurons.append(el('p', { className: 'notice', text: err.message }));
      });
  }

  private showNeurons(v: ActivationView, token: number, layer: number, list: NeuronValue[]): void {
    clear(this.neurons);
    const L = v.layers.length;
    this.neurons.append(
      el('h4', { text: `“${v.tokens[token].text}” after ${v.layers[layer] === 0 ? 'embeddings' : `layer ${v.layers[layer]}`}` }),
      el('p', { className: 'muted', text: `norm ${fmt(v.norms[token * L + layer])}` }),
    );
    const table = el('table', { className: 'trust' }, el('tr', {}, el('th', { text: 'neuron' }), el('th', { text: 'value' }), el('th', { text: 'z across tokens' })));
    for (const n of list) table.append(el('tr', {}, el('td', { text: String(n.neuron) }), el('td', { className: 'num', text: fmt(n.value) }), el('td', { className: 'num', text: fmt(n.z, 1) })));
    this.neurons.append(table);
  }

  describe() {
    return this.drawn;
  }

  async snapshot(format: 'png' | 'svg') {
    const v = this.view();
    if (!v) return undefined;
    const name = `activations-${v.stack}`;
    if (format === 'png') {
      this.canvas.redraw();
      return { name, data: this.canvas.canvas.toDataURL('image/png') };
    }
    const t = this.theme;
    const T = Math.min(v.tokens.length, 256);
    const L = v.layers.length;
    const values = Array.from(this.quantised.subarray(0, T * L), (x) => x / 255);
    return {
      name,
      data: heatmapSvg({
        title: `Hidden-state norms (${this.perLayer ? 'per-layer' : 'global'} scale)${T < v.tokens.length ? `, first ${T} tokens` : ''}`,
        rows: v.tokens.slice(0, T).map((x) => x.text),
        cols: v.layers.map((l) => (l === 0 ? 'emb' : `L${l}`)),
        values,
        color: (x) => `rgba(${t.heat.join(',')}, ${Math.pow(x, 0.6).toFixed(3)})`,
        palette: { foreground: t.foreground, muted: t.muted, background: t.background, font: t.font },
      }),
    };
  }

  setTheme(theme: ThemeColors): void {
    this.theme = theme;
    this.lut = heatLookup(toRgb(theme.background), theme.heat);
    this.canvas.schedule();
  }

  shown(): void {
    this.canvas.redraw();
  }
}
