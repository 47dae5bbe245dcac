import type { CompareView } from '../../../src/protocol/webviewMessages';
import { divergingRgba, maxAbs } from '../../../src/render/attributionScale';
import { heatmapSvg } from '../../../src/render/svgCharts';
import { button, clear, el, fmt } from '../shared/dom';
import { HeadGrid } from '../shared/headGrid';
import type { ThemeColors } from '../shared/theme';
import type { PanelChannel, TabView } from './tabView';

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/**
 * Compare: this model against a second one (the other export, or another folder) on the same text:
 * how far the predictions drift, whether the explanations rank words alike, how differently each
 * head attends, and what the second model saves in size and time.
 */
export class CompareTab implements TabView {
  readonly element = el('section', { className: 'tab compare' });
  private readonly controls = el('div', { className: 'controls' });
  private readonly body = el('div', { className: 'body' });
  private readonly grid: HeadGrid;
  private readonly gridDetail = el('p', { className: 'muted' });
  private view: CompareView | undefined;
  private drawn = { labels: [] as string[], counts: {} as Record<string, number> };

  constructor(
    private readonly channel: PanelChannel,
    private theme: ThemeColors,
  ) {
    this.grid = new HeadGrid(theme, (layer, head) => this.onCell(layer, head), 'Mean attention difference per layer and head', 'Mean |attention of B − attention of A|');
    this.element.append(this.controls, this.body);
    this.controls.append(button('Compare Models…', () => this.channel.post({ type: 'runCompareModels' }), { title: 'Choose the other variant or another model folder' }));
    this.render();
  }

  setView(view: CompareView): void {
    this.view = view;
    this.render();
  }

  private onCell(layer: number, head: number): void {
    const a = this.view?.result.attention?.[layer];
    if (!a) return;
    this.gridDetail.textContent = `Layer ${a.layer} (${a.kind}), head ${head}: mean |A_B − A_A| = ${fmt(a.meanAbsDiff[head], 4)}`;
  }

  private render(): void {
    clear(this.body);
    this.drawn = { labels: [], counts: {} };
    const v = this.view;
    if (!v) {
      this.body.append(el('p', { className: 'empty', text: 'Select text and run "ONNX Lens: Compare Models…" to compare this model with its other variant (fp32 vs quantized) or another model.' }));
      return;
    }
    const r = v.result;
    const side = (tag: string, s: typeof r.a) => el('tr', {}, el('th', { text: tag }), el('td', { text: `${s.name} (${s.variant})`, title: s.path }), el('td', { className: 'num', text: `${(s.bytes / 1e6).toFixed(2)} MB` }), el('td', { className: 'num', text: `${fmt(s.predictMs, 2)} ms` }), el('td', { className: 'num', text: s.explainMs !== undefined ? `${fmt(s.explainMs, 0)} ms` : '—' }));
    const models = el('table', { className: 'trust' }, el('tr', {}, el('th', { text: '' }), el('th', { text: 'model' }), el('th', { text: 'size' }), el('th', { text: 'predict' }), el('th', { text: 'explain' })), side('A', r.a), side('B', r.b));
    const ratio = (x: number, what: string) => (Number.isFinite(x) ? `${what} ×${x.toFixed(2)}` : `${what} n/a`);
    this.body.append(
      el('h3', { text: `This model vs ${v.otherLabel}` }),
      models,
      el('p', { text: `${ratio(r.sizeRatio, 'size B/A')} · ${ratio(r.speedRatio, 'time B/A')}${r.sameTokenizer ? '' : ' · different tokenizers'}` }),
    );

    // Prediction drift.
    const drift = el('table', { className: 'trust' }, el('tr', {}, el('th', { text: 'label' }), el('th', { text: 'p(A)' }), el('th', { text: 'p(B)' }), el('th', { text: 'B − A' })));
    const biggest = maxAbs(r.drift.perLabel.map((x) => x.diff)) || 1;
    for (const x of r.drift.perLabel) {
      const diff = el('td', { className: 'num', text: fmt(x.diff, 4) });
      diff.style.backgroundColor = divergingRgba(x.diff / biggest, 0.45);
      drift.append(el('tr', {}, el('td', { text: x.label }), el('td', { className: 'num', text: pct(x.pA) }), el('td', { className: 'num', text: pct(x.pB) }), diff));
      this.drawn.labels.push(x.label);
    }
    const verdict = r.drift.top1Agree ? 'Both predict the same top output.' : 'The top predictions differ.';
    const extra = [`max |Δp| ${fmt(r.drift.maxAbsProbabilityDiff, 4)}`];
    if (r.drift.maxAbsLogitDiff !== undefined) extra.push(`max |Δlogit| ${fmt(r.drift.maxAbsLogitDiff, 4)}`);
    if (r.drift.klDivergence !== undefined) extra.push(`KL(A‖B) ${fmt(r.drift.klDivergence, 5)} nats`);
    const verdictLine = el('p', { text: `${verdict} ${extra.join(' · ')}` });
    if (!r.drift.top1Agree) verdictLine.className = 'notice';
    this.body.append(el('h3', { text: 'Prediction drift' }), verdictLine, el('p', { className: 'muted', text: 'B − A cell colour: red where model B gives the label more probability, blue where it gives less; the strongest colour is the largest change.' }), drift);

    // Attribution agreement.
    const at = r.attribution;
    if (at) {
      const words = el('table', { className: 'trust' }, el('tr', {}, el('th', { text: 'word' }), el('th', { text: 'A' }), el('th', { text: 'B' })));
      const sa = maxAbs(at.words.map((w) => w.a)) || 1;
      const sb = maxAbs(at.words.map((w) => w.b)) || 1;
      for (const w of at.words) {
        const ca = el('td', { className: 'num', text: fmt(w.a) });
        const cb = el('td', { className: 'num', text: fmt(w.b) });
        ca.style.backgroundColor = divergingRgba(w.a / sa, 0.5);
        cb.style.backgroundColor = divergingRgba(w.b / sb, 0.5);
        words.append(el('tr', {}, el('td', { text: w.text }), ca, cb));
      }
      const agree = at.spearman >= 0.7 ? 'The explanations broadly agree.' : at.spearman >= 0.4 ? 'The explanations partly agree.' : 'The explanations disagree: the second model relies on other words.';
      this.body.append(
        el('h3', { text: `Attribution agreement (${at.method}, seed ${at.seed})` }),
        el('p', { text: `${agree} Spearman ${fmt(at.spearman, 3)} · Kendall τ ${fmt(at.kendallTau, 3)} · top-${at.topK} overlap ${pct(at.topKOverlap)} · ${at.matchedWords} words matched` }),
        el('p', { className: 'muted', text: `Cell colour per model: red pushes toward ${r.a.prediction.candidates[0]?.label ?? 'the explained output'}, blue against it, each column scaled to its largest value.` }),
        words,
      );
    }

    // Attention difference per head.
    const att = r.attention ?? [];
    if (att.length) {
      this.grid.setValues(att.map((a) => a.meanAbsDiff), 'sequential');
      this.gridDetail.textContent = 'Click a cell for its value.';
      this.body.append(el('h3', { text: 'Attention difference per head (mean |A_B − A_A|)' }), el('div', { className: 'row' }, this.grid.element, this.gridDetail));
    } else {
      this.grid.setValues([], 'sequential');
    }
    if (r.attentionNote) this.body.append(el('p', { className: 'notice', text: r.attentionNote }));
    for (const n of r.notes) this.body.append(el('p', { className: 'notice', text: n }));
    this.drawn.counts = {
      driftLabels: r.drift.perLabel.length,
      words: at?.words.length ?? 0,
      attentionLayers: att.length,
      attentionCells: att.reduce((s, a) => s + a.meanAbsDiff.length, 0),
      top1Agree: r.drift.top1Agree ? 1 : 0,
    };
  }

  describe() {
    return { cells: this.grid.cells, labels: this.drawn.labels, counts: this.drawn.counts, legends: (this.view?.result.attention ?? []).length ? [this.grid.legend] : [] };
  }

  async snapshot(format: 'png' | 'svg') {
    const att = this.view?.result.attention ?? [];
    if (!att.length) return undefined;
    if (format === 'png') return { name: 'attention-difference', data: this.grid.canvas.toDataURL('image/png') };
    const heads = Math.max(...att.map((a) => a.meanAbsDiff.length));
    const max = Math.max(1e-12, ...att.flatMap((a) => a.meanAbsDiff));
    const t = this.theme;
    return {
      name: 'attention-difference',
      data: heatmapSvg({
        title: `Mean |attention difference| per head vs ${this.view!.otherLabel}`,
        rows: att.map((a) => `L${a.layer} ${a.kind}`),
        cols: Array.from({ length: heads }, (_x, h) => `H${h}`),
        values: att.flatMap((a) => Array.from({ length: heads }, (_x, h) => (a.meanAbsDiff[h] ?? 0) / max)),
        color: (x) => `rgba(${t.heat.join(',')}, ${Math.pow(Math.max(0, x), 0.7).toFixed(3)})`,
        palette: { foreground: t.foreground, muted: t.muted, background: t.background, font: t.font },
        legend: { title: this.grid.legend, t0: 0, t1: 1, labels: [{ t: 0, text: '0' }, { t: 1, text: fmt(max, 4) }] },
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
    this.render();
  }
}
