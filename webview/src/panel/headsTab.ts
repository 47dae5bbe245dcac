import type { HeadImportanceResult } from '../../../src/protocol/engineApi';
import type { HeadsView } from '../../../src/protocol/webviewMessages';
import { heatmapSvg } from '../../../src/render/svgCharts';
import { divergingRgba } from '../../../src/render/attributionScale';
import { button, clear, el, fmt } from '../shared/dom';
import { HeadGrid } from '../shared/headGrid';
import type { ThemeColors } from '../shared/theme';
import type { PanelChannel, TabView } from './tabView';

/**
 * Heads: a layers × heads grid of how much the explained output moves when one head is removed;
 * click a cell for its numbers, Ctrl/Shift-click (or "Select") to collect heads, then ask what
 * removing them together would cost.
 */
export class HeadsTab implements TabView {
  readonly element = el('section', { className: 'tab heads' });
  private readonly controls = el('div', { className: 'controls' });
  private readonly stage = el('div', { className: 'row' });
  private readonly detail = el('div', { className: 'side' });
  private readonly pruneBox = el('div', { className: 'prune' });
  private readonly grid: HeadGrid;
  private view: HeadsView | undefined;
  private pruneResult: HeadImportanceResult['prune'];
  private focus: { layer: number; head: number } | undefined;

  constructor(
    private readonly channel: PanelChannel,
    private theme: ThemeColors,
  ) {
    this.grid = new HeadGrid(theme, (layer, head, toggle) => this.onCell(layer, head, toggle), 'Head importance: layers by heads', 'Change of the logit when the head is removed');
    this.element.append(this.controls, this.stage, this.pruneBox);
    this.render();
  }

  setView(view: HeadsView): void {
    this.view = view;
    this.pruneResult = view.result.prune;
    this.focus = undefined;
    this.render();
  }

  setPrune(result: HeadImportanceResult): void {
    this.pruneResult = result.prune;
    this.renderPrune();
  }

  private onCell(layer: number, head: number, toggle: boolean): void {
    this.focus = { layer, head };
    if (toggle) this.grid.toggle(layer, head);
    this.renderDetail();
    this.renderControls();
  }

  private render(): void {
    clear(this.stage);
    const v = this.view;
    if (!v?.result.grid) {
      clear(this.controls);
      this.controls.append(button('Measure Head Importance', () => this.channel.post({ type: 'loadHeads' })));
      this.stage.append(el('p', { className: 'empty', text: 'Select text and run "ONNX Lens: Show Head Importance": each head is removed in turn and the change of the explained output is measured.' }));
      clear(this.pruneBox);
      return;
    }
    this.grid.setValues(v.result.grid, 'diverging');
    this.stage.append(this.grid.element, this.detail);
    this.renderControls();
    this.renderDetail();
    this.renderPrune();
  }

  private renderControls(): void {
    clear(this.controls);
    const v = this.view;
    if (!v) return;
    const target = v.result.targets[0]?.target;
    const selected = this.grid.selected;
    this.controls.append(
      el('span', { className: 'muted', text: `Change of ${target ? `“${target.label}”` : 'the output'} (logit) when one head is removed · red: the output rises without the head, blue: it falls · Ctrl/Shift-click to select heads` }),
      el('span', { className: 'spacer' }),
      el('span', { text: `${selected.length} selected ` }),
      button('What would pruning these cost?', () => {
        if (selected.length) this.channel.post({ type: 'runPrune', heads: selected });
      }, { title: 'Remove the selected heads together and measure the change' }),
      button('Clear', () => {
        this.grid.clearSelection();
        this.renderControls();
      }, { secondary: true }),
      button('Re-measure', () => this.channel.post({ type: 'loadHeads' }), { secondary: true }),
    );
  }

  private renderDetail(): void {
    clear(this.detail);
    const r = this.view?.result;
    if (!r?.grid) return;
    const t = r.targets[0];
    if (t) this.detail.append(el('p', { className: 'muted', text: `${t.target.description}: ${fmt(t.baseValue)} with every head` }));
    if (this.focus) {
      const { layer, head } = this.focus;
      const change = r.grid[layer][head];
      const table = el('table', { className: 'trust' });
      const row = (k: string, v: string) => table.append(el('tr', {}, el('th', { text: k }), el('td', { className: 'num', text: v })));
      row('head', `L${layer} H${head}`);
      row('change without it', fmt(change));
      if (r.absGrid) row('mean |change|', fmt(r.absGrid[layer][head]));
      if (t) row('output without it', fmt(t.baseValue + change));
      if (r.layerAblation) row(`whole layer ${layer} removed`, fmt(r.layerAblation[layer]));
      const selected = this.grid.selected.some(([l, h]) => l === layer && h === head);
      this.detail.append(
        el('h4', { text: `Layer ${layer}, head ${head}` }),
        table,
        button(selected ? 'Unselect' : 'Select for pruning', () => {
          this.grid.toggle(layer, head);
          this.renderDetail();
          this.renderControls();
        }, { secondary: true }),
      );
    } else {
      this.detail.append(el('p', { className: 'muted', text: 'Click a cell for its numbers.' }));
    }
    // The most important heads, as a list that needs no colour to read.
    const ranked = r.grid.flatMap((row, l) => row.map((c, h) => ({ l, h, c }))).sort((a, b) => Math.abs(b.c) - Math.abs(a.c)).slice(0, 8);
    const top = el('table', { className: 'trust' }, el('tr', {}, el('th', { text: 'head' }), el('th', { text: 'change' })));
    for (const x of ranked) {
      const cell = el('td', { className: 'num', text: fmt(x.c) });
      cell.style.backgroundColor = divergingRgba(x.c / (Math.abs(ranked[0]?.c) || 1), 0.5);
      top.append(el('tr', {}, el('td', { text: `L${x.l} H${x.h}` }), cell));
    }
    this.detail.append(el('h4', { text: 'Largest effects' }), top);
    this.detail.append(el('p', { className: 'muted', text: `${r.evaluations.masks} head masks, ${r.evaluations.rows} model rows` }));
  }

  private renderPrune(): void {
    clear(this.pruneBox);
    const p = this.pruneResult;
    if (!p) return;
    const heads = p.heads.map(([l, h]) => `L${l} H${h}`).join(', ');
    const table = el('table', { className: 'trust' }, el('tr', {}, el('th', { text: 'output' }), el('th', { text: 'change' }), el('th', { text: 'prediction' }), el('th', { text: 'flipped' })));
    for (const t of p.perText) {
      const row = el('tr', {}, el('td', { className: 'num', text: fmt(t.value) }), el('td', { className: 'num', text: fmt(t.change) }), el('td', { text: t.predicted }), el('td', { text: t.flipped ? 'yes' : 'no' }));
      if (t.flipped) {
        row.className = 'flip';
        row.style.backgroundColor = 'var(--vscode-inputValidation-errorBackground)';
      }
      table.append(row);
    }
    this.pruneBox.append(
      el('h3', { text: `Pruning ${p.heads.length} head${p.heads.length === 1 ? '' : 's'}: ${heads}` }),
      el('p', { text: `Mean change of the output: ${fmt(p.change)} · prediction flips on ${Math.round(p.flipRate * 100)}% of texts` }),
      table,
    );
  }

  describe() {
    const r = this.view?.result;
    const legends = r?.grid ? [this.grid.legend] : [];
    const labels = r?.grid ? r.grid.map((_row, l) => `L${l}`) : [];
    return {
      cells: this.grid.cells,
      labels,
      counts: {
        layers: r?.layers ?? 0,
        heads: r?.heads ?? 0,
        headCells: r?.grid ? this.grid.cells : 0,
        selected: this.grid.selected.length,
        prunedHeads: this.pruneResult?.heads.length ?? 0,
        pruneTexts: this.pruneResult?.perText.length ?? 0,
      },
      legends,
    };
  }

  async snapshot(format: 'png' | 'svg') {
    const r = this.view?.result;
    if (!r?.grid) return undefined;
    if (format === 'png') return { name: 'head-importance', data: this.grid.canvas.toDataURL('image/png') };
    const max = Math.max(1e-12, ...r.grid.flat().map(Math.abs));
    const t = this.theme;
    return {
      name: 'head-importance',
      data: heatmapSvg({
        title: `Head importance: change of ${r.targets[0]?.target.label ?? 'the output'} when a head is removed`,
        rows: r.grid.map((_row, l) => `L${l}`),
        cols: Array.from({ length: r.heads }, (_x, h) => `H${h}`),
        values: r.grid.flat().map((v) => v / max),
        color: (x) => divergingRgba(x, 0.95),
        palette: { foreground: t.foreground, muted: t.muted, background: t.background, font: t.font },
        legend: { title: this.grid.legend, t0: -1, t1: 1, labels: [{ t: -1, text: fmt(-max) }, { t: 0, text: '0' }, { t: 1, text: fmt(max) }] },
      }),
    };
  }

  setTheme(theme: ThemeColors): void {
    this.theme = theme;
    this.grid.setTheme(theme);
  }

  shown(): void {
    this.grid.draw();
  }

  reset(): void {
    this.view = undefined;
    this.pruneResult = undefined;
    this.focus = undefined;
    this.grid.setValues([], 'diverging');
    this.render();
  }
}
