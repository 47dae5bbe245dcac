import type { LogitLensResult, ModelCard } from '../../../src/protocol/engineApi';
import type { ActivationView, NeuronValue } from '../../../src/protocol/webviewMessages';
import { heatmapSvg } from '../../../src/render/svgCharts';
import { visibleToken } from '../../../src/render/tokenText';
import { button, clear, el, fmt, select } from '../shared/dom';
import type { ThemeColors } from '../shared/theme';
import { legendElement } from '../shared/svgScene';
import { drawCells, heatColor, heatLookup, toRgb, VirtualCanvas, Viewport } from '../shared/virtualCanvas';
import type { PanelChannel, TabView } from './tabView';

const ROW = 16;
const COL = 36;
const LEFT = 120;
const TOP = 24;
/** Space between the norms block and the updates block. */
const GAP = 20;

/** Quantises [token][column] values to 0–255, per column or over the whole block. */
function quantiseColumns(values: Float32Array, tokens: number, cols: number, perColumn: boolean): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(tokens * cols);
  const max = new Float32Array(cols);
  let globalMax = 0;
  for (let t = 0; t < tokens; t++) for (let c = 0; c < cols; c++) {
    const x = values[t * cols + c];
    if (x > max[c]) max[c] = x;
    if (x > globalMax) globalMax = x;
  }
  for (let t = 0; t < tokens; t++) for (let c = 0; c < cols; c++) {
    const m = perColumn ? max[c] : globalMax;
    out[t * cols + c] = m > 0 ? Math.round((values[t * cols + c] / m) * 255) : 0;
  }
  return out;
}

/**
 * Activations: tokens × layers heatmaps of hidden-state norms and, beside them, of each layer's
 * update to the residual stream (‖h_{i+1} − h_i‖); top neurons of a clicked cell. For decoders,
 * the logit lens: what each layer would predict if the model stopped there.
 */
export class ActivationsTab implements TabView {
  readonly element = el('section', { className: 'tab activations' });
  private readonly toolbar = el('div', { className: 'controls' });
  private readonly stage = el('div', { className: 'row' });
  private readonly neurons = el('div', { className: 'side neurons' });
  private readonly lensBox = el('div', { className: 'logit-lens' });
  private readonly legendBox = el('div', { className: 'legend-box' });
  private legends: string[] = [];
  private views: ActivationView[] = [];
  private card: ModelCard | undefined;
  private lens: LogitLensResult | undefined;
  private lensRows = 0;
  private stackIndex = 0;
  private perLayer = true;
  private quantised = new Uint8Array(0);
  private quantisedUpdates = new Uint8Array(0);
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
    this.element.append(this.toolbar, this.legendBox, this.stage, this.lensBox);
    this.stage.append(el('p', { className: 'empty', text: 'Select text and run "ONNX Lens: Show Activations".' }));
  }

  setModel(card: ModelCard | undefined): void {
    if (card?.path !== this.card?.path) this.lens = undefined;
    this.card = card;
    this.renderLens();
  }

  setLogitLens(result: LogitLensResult): void {
    this.lens = result;
    this.renderLens();
  }

  /** The logit lens table: one row per hidden state, its top candidates and the final prediction's rank. */
  private renderLens(): void {
    clear(this.lensBox);
    this.legends = this.legends.filter((l) => !l.startsWith('Cell colour: probability'));
    this.lensRows = 0;
    const decoder = this.card?.task === 'causal-lm';
    const r = this.lens;
    if (!r) {
      if (decoder) {
        this.lensBox.append(
          el('h3', { text: 'Logit lens' }),
          el('p', { className: 'muted', text: 'What each layer would predict next if the model stopped there (each hidden state through the final norm and the output head).' }),
          button('Show Logit Lens', () => this.channel.post({ type: 'loadLogitLens' })),
        );
      }
      return;
    }
    const token = r.encoded.tokens[r.position]?.text ?? `#${r.position}`;
    this.lensBox.append(
      el('h3', { text: `Logit lens at token ${r.position} “${visibleToken(token)}” → model predicts “${visibleToken(r.prediction.label)}”` }),
      el('p', { className: 'muted', text: `${r.method} · at the last hidden state the lens matches the model to ${fmt(r.finalLayerMaxAbsDiff, 6)}` }),
    );
    const k = Math.max(0, ...r.layers.map((l) => l.top.length));
    const head = el('tr', {}, el('th', { text: 'state' }), el('th', { text: 'rank of prediction' }), el('th', { text: 'p(prediction)' }));
    for (let i = 0; i < k; i++) head.append(el('th', { text: `#${i + 1}` }));
    const table = el('table', { className: 'trust lens' }, head);
    for (const layer of r.layers) {
      const row = el('tr', {}, el('th', { text: layer.index === 0 ? 'emb' : `L${layer.index}` }), el('td', { className: 'num', text: String(layer.predictedRank + 1) }), el('td', { className: 'num', text: fmt(layer.predictedProbability, 4) }));
      for (const c of layer.top) {
        const cell = el('td', { text: visibleToken(c.label), title: `id ${c.id} · p ${fmt(c.probability, 4)} · logit ${fmt(c.logit)}` });
        cell.style.whiteSpace = 'pre';
        if (c.id === r.prediction.id) {
          cell.style.fontWeight = 'bold';
          cell.style.outline = `1px solid ${this.theme.accent}`;
        }
        cell.style.backgroundColor = `rgba(${this.theme.heat.join(',')}, ${Math.min(0.8, Math.pow(c.probability, 0.5)).toFixed(3)})`;
        row.append(cell);
      }
      if (layer.predictedRank === 0) row.className = 'leads';
      table.append(row);
      this.lensRows++;
    }
    this.lensBox.append(
      legendElement({ title: 'Cell colour: probability of the token at that layer', color: (t) => `rgba(${this.theme.heat.join(',')}, ${Math.min(0.8, Math.sqrt(t)).toFixed(3)})`, t0: 0, t1: 1, labels: [{ t: 0, text: '0' }, { t: 0.25, text: '0.25' }, { t: 1, text: '1' }] }, this.theme),
      table,
    );
    this.legends.push('Cell colour: probability of the token at that layer');
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

  /** Norms and updates → 0–255 per layer (norms grow with depth, so a global scale would hide early layers) or globally. */
  private quantise(): void {
    const v = this.view();
    if (!v) return;
    const L = v.layers.length;
    const T = v.tokens.length;
    this.quantised = quantiseColumns(v.norms, T, L, this.perLayer);
    this.quantisedUpdates = quantiseColumns(v.updates, T, Math.max(0, L - 1), this.perLayer);
  }

  /** Where the updates block starts on the virtual surface. */
  private updatesLeft(v: ActivationView): number {
    return LEFT + v.layers.length * COL + GAP;
  }

  private render(): void {
    clear(this.toolbar);
    clear(this.stage);
    const v = this.view();
    if (!v) {
      clear(this.legendBox);
      this.legends = this.legends.filter((l) => l.startsWith('Cell colour: probability'));
      this.stage.append(el('p', { className: 'empty', text: 'Select text and run "ONNX Lens: Show Activations".' }));
      this.drawn = { cells: 0, labels: [], counts: {} };
      return;
    }
    if (this.views.length > 1) {
      this.toolbar.append(el('label', { text: 'Stack ' }, select(this.views.map((x, i) => ({ value: String(i), label: x.stack })), String(this.stackIndex), (s) => { this.stackIndex = Number(s); this.render(); })));
    }
    this.toolbar.append(
      el('label', { text: 'Scale ' }, select([{ value: 'layer', label: 'per layer' }, { value: 'global', label: 'global' }], this.perLayer ? 'layer' : 'global', (s) => { this.perLayer = s === 'layer'; this.render(); })),
      el('span', { className: 'muted', text: `left: ‖hidden state‖ per token after each layer · right: size of each layer's update ‖h_{i+1} − h_i‖ · hidden size ${v.hiddenSize} · click a cell` }),
    );
    this.quantise();
    this.renderLegend(v);
    this.stage.append(this.canvas.element, this.neurons);
    this.canvas.setSize(this.updatesLeft(v) + Math.max(0, v.layers.length - 1) * COL + 8, TOP + v.tokens.length * ROW + 8);
    this.canvas.redraw();
  }

  /** What the cell colours mean: per-layer scale (each column to its largest) or one scale per block. */
  private renderLegend(v: ActivationView): void {
    clear(this.legendBox);
    this.legends = this.legends.filter((l) => l.startsWith('Cell colour: probability'));
    const bg = toRgb(this.theme.background);
    const color = (t: number) => heatColor(bg, this.theme.heat, t);
    const f = (x: number) => fmt(x, 2);
    if (this.perLayer) {
      const title = 'Cell colour: ‖h‖ (left) and ‖update‖ (right), each column scaled to its largest';
      this.legendBox.append(legendElement({ title, color, t0: 0, t1: 1, labels: [{ t: 0, text: '0' }, { t: 1, text: 'column max (click a cell for values)' }] }, this.theme, 240));
      this.legends.push(title);
      return;
    }
    const max = (a: Float32Array) => a.reduce((m, x) => Math.max(m, x), 0);
    for (const [title, m] of [['Cell colour (left): ‖hidden state‖', max(v.norms)], ['Cell colour (right): ‖update‖', max(v.updates)]] as const) {
      this.legendBox.append(legendElement({ title, color, t0: 0, t1: 1, labels: [{ t: 0, text: '0' }, { t: 0.5, text: f(m / 2) }, { t: 1, text: f(m) }] }, this.theme, 200));
      this.legends.push(title);
    }
  }

  private draw(ctx: CanvasRenderingContext2D, view: Viewport): void {
    const v = this.view();
    if (!v) return;
    const L = v.layers.length;
    const r0 = Math.max(0, Math.floor(view.y / ROW));
    const r1 = Math.min(v.tokens.length, Math.ceil((view.y + view.height - TOP) / ROW) + 1);
    const c0 = Math.max(0, Math.floor(view.x / COL));
    const c1 = Math.min(L, Math.ceil((view.x + view.width - LEFT) / COL) + 1);
    let cells = drawCells(ctx, this.quantised, L, { r0, r1, c0, c1 }, { x: LEFT + c0 * COL - view.x, y: TOP + r0 * ROW - view.y, cellW: COL, cellH: ROW }, this.lut);
    const U = Math.max(0, L - 1);
    const uLeft = this.updatesLeft(v);
    const u0 = Math.max(0, Math.floor((view.x - (uLeft - LEFT)) / COL));
    const u1 = Math.min(U, Math.ceil((view.x + view.width - uLeft) / COL) + 1);
    let updateCells = 0;
    if (U > 0 && u1 > u0) {
      updateCells = drawCells(ctx, this.quantisedUpdates, U, { r0, r1, c0: u0, c1: u1 }, { x: uLeft + u0 * COL - view.x, y: TOP + r0 * ROW - view.y, cellW: COL, cellH: ROW }, this.lut);
      cells += updateCells;
    }
    if (this.selected) {
      ctx.strokeStyle = this.theme.accent;
      ctx.lineWidth = 2;
      const x = this.selected.layer < L ? LEFT + this.selected.layer * COL : uLeft + (this.selected.layer - L) * COL;
      ctx.strokeRect(x - view.x, TOP + this.selected.token * ROW - view.y, COL, ROW);
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
    for (let u = u0; u < u1; u++) {
      const x = uLeft + u * COL - view.x + 2;
      if (x >= LEFT) ctx.fillText(`Δ${v.layers[u + 1]}`, x, 16);
    }
    this.drawn = { cells, labels, counts: { tokens: v.tokens.length, layers: L, updateLayers: U, drawnCells: cells, updateCells, logitLensLayers: this.lensRows } };
  }

  private onClick(e: MouseEvent): void {
    const v = this.view();
    if (!v) return;
    const p = this.canvas.pointAt(e);
    const token = Math.floor((p.y - TOP) / ROW);
    if (token < 0 || token >= v.tokens.length) return;
    const L = v.layers.length;
    const update = Math.floor((p.x - this.updatesLeft(v)) / COL);
    if (p.x >= this.updatesLeft(v) && update >= 0 && update < L - 1) {
      this.selected = { token, layer: L + update };
      this.canvas.schedule();
      this.showUpdate(v, token, update);
      return;
    }
    const layer = Math.floor((p.x - LEFT) / COL);
    if (layer < 0 || layer >= L) return;
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

  private showUpdate(v: ActivationView, token: number, update: number): void {
    clear(this.neurons);
    const L = v.layers.length;
    const size = v.updates[token * (L - 1) + update];
    const before = v.norms[token * L + update];
    const table = el('table', { className: 'trust' });
    const row = (k: string, x: string) => table.append(el('tr', {}, el('th', { text: k }), el('td', { className: 'num', text: x })));
    row('‖update‖', fmt(size));
    row('‖h before‖', fmt(before));
    row('‖h after‖', fmt(v.norms[token * L + update + 1]));
    row('relative update', before > 0 ? fmt(size / before) : '—');
    this.neurons.append(el('h4', { text: `Layer ${v.layers[update + 1]}'s update to “${v.tokens[token].text}”` }), table);
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
    return { ...this.drawn, counts: { ...this.drawn.counts, logitLensLayers: this.lensRows }, legends: this.legends };
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
        color: (x) => heatColor(toRgb(t.background), t.heat, x),
        palette: { foreground: t.foreground, muted: t.muted, background: t.background, font: t.font },
        legend: this.perLayer
          ? { title: '‖hidden state‖, each layer scaled to its largest', t0: 0, t1: 1, labels: [{ t: 0, text: '0' }, { t: 1, text: 'layer max' }] }
          : { title: '‖hidden state‖', t0: 0, t1: 1, labels: [{ t: 0, text: '0' }, { t: 1, text: fmt(v.norms.reduce((m, x) => Math.max(m, x), 0), 2) }] },
      }),
    };
  }

  setTheme(theme: ThemeColors): void {
    this.theme = theme;
    this.lut = heatLookup(toRgb(theme.background), theme.heat);
    // Legends and the logit lens's cell colours are drawn in the theme's colours too.
    const v = this.view();
    if (v) this.renderLegend(v);
    this.renderLens();
    this.canvas.schedule();
  }

  shown(): void {
    this.canvas.redraw();
  }

  reset(): void {
    this.views = [];
    this.lens = undefined;
    this.selected = undefined;
    clear(this.neurons);
    this.render();
    this.renderLens();
  }
}
