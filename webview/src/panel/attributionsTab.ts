import { BarController, BarElement, CategoryScale, Chart, LinearScale, Tooltip } from 'chart.js';
import type { ExplanationResult, FeatureValue, MethodName, Prediction } from '../../../src/protocol/engineApi';
import type { RankAgreement, RunSettings } from '../../../src/protocol/webviewMessages';
import { divergingRgba, maxAbs } from '../../../src/render/attributionScale';
import { textParts } from '../../../src/render/pairText';
import { attributionBarsSvg } from '../../../src/render/svgCharts';
import { button, clear, el, fmt, select } from '../shared/dom';
import type { ThemeColors } from '../shared/theme';
import type { PanelChannel, TabView } from './tabView';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip);

/** The text with each feature's span painted by its value (scaled to `scale`, default its largest); spans are clickable. */
export function coloredText(text: string, features: readonly FeatureValue[], onClick?: (f: FeatureValue) => void, scale = maxAbs(features.map((f) => f.value)) || 1): { node: HTMLElement; words: number } {
  const node = el('p', { className: 'colored-text' });
  let pos = 0;
  let words = 0;
  for (const f of [...features].sort((a, b) => a.start - b.start)) {
    if (f.start < pos || f.end <= f.start) continue;
    if (f.start > pos) node.append(document.createTextNode(text.slice(pos, f.start)));
    const span = el('span', { className: 'feature', text: text.slice(f.start, f.end), title: `${f.text}: ${fmt(f.value)}` });
    span.style.backgroundColor = divergingRgba(f.value / scale);
    if (onClick) span.addEventListener('click', () => onClick(f));
    node.append(span);
    words++;
    pos = f.end;
  }
  if (pos < text.length) node.append(document.createTextNode(text.slice(pos)));
  return { node, words };
}

/**
 * The text of a result painted by its features: one paragraph, or for a sentence pair one per text, marked
 * A and B, on one colour scale.
 */
export function coloredTexts(r: { text: string; textPair?: string; features: readonly FeatureValue[] }, onClick?: (f: FeatureValue) => void): { node: HTMLElement; words: number } {
  const parts = textParts(r);
  if (parts.length === 1) return coloredText(r.text, r.features, onClick);
  const scale = maxAbs(r.features.map((f) => f.value)) || 1;
  const node = el('div', { className: 'pair-text' });
  let words = 0;
  for (const part of parts) {
    const c = coloredText(part.text, part.features, onClick, scale);
    c.node.prepend(el('b', { className: 'segment-label', text: `${part.label} ` }));
    node.append(c.node);
    words += c.words;
  }
  return { node, words };
}

/** A feature's label in charts: the word, marked with its text (A or B) in a sentence pair. */
function featureLabel(f: FeatureValue): string {
  return f.segment === undefined ? f.text : `${f.segment === 1 ? 'B' : 'A'} ${f.text}`;
}

/** One explanation: its coloured text, bar chart and trust numbers. */
class ExplanationBlock {
  readonly element = el('div', { className: 'explanation-block' });
  chart: Chart | undefined;
  words = 0;
  private canvas: HTMLCanvasElement | undefined;

  constructor(
    readonly result: ExplanationResult,
    private theme: ThemeColors,
    onWord: (f: FeatureValue) => void,
    heading?: string,
  ) {
    const r = result;
    const target = r.target.contrastLabel ? `${r.target.label} − ${r.target.contrastLabel}` : r.target.label;
    if (heading) this.element.append(el('h3', { text: heading }));
    this.element.append(el('p', { className: 'muted', text: `${r.provenance.method} · ${r.evaluations} evaluations · explains ${target} (${r.target.description})` }));
    const colored = coloredTexts(r, onWord);
    this.words = colored.words;
    this.element.append(colored.node);
    const canvasBox = el('div', { className: 'chart-box' });
    canvasBox.style.height = `${Math.min(900, 40 + r.features.length * 18)}px`;
    const canvas = el('canvas', { className: 'bars', attrs: { 'aria-label': `Attribution per ${r.provenance.level}` } });
    canvasBox.append(canvas);
    const trust = el('table', { className: 'trust' });
    const row = (k: string, v: string, title?: string) => trust.append(el('tr', { title }, el('th', { text: k }), el('td', { className: 'num', text: v })));
    row('output', fmt(r.outputValue), 'Model output being explained');
    row('base value', fmt(r.baseValue), 'Output with every feature removed');
    row(`convergence (${r.convergence.kind})`, `${fmt(r.convergence.max)}${r.convergence.final ? '' : ' · not final'}`, 'How much the estimate may still move');
    if (r.fit) row('surrogate fit R²', fmt(r.fit.r2));
    if (r.faithfulness) {
      row('comprehensiveness ↑', fmt(r.faithfulness.comprehensiveness), 'Drop of the output when the top features are removed: higher is more faithful');
      row('sufficiency ↓', fmt(r.faithfulness.sufficiency), 'Drop when only the top features are kept: lower is more faithful');
      row('deletion area ↓', fmt(r.faithfulness.deletion.normalizedArea));
      row('insertion area ↑', fmt(r.faithfulness.insertion.normalizedArea));
    }
    const side = el('div', { className: 'side' }, el('h4', { text: 'Trust' }), trust);
    for (const note of r.notes) side.append(el('p', { className: 'notice', text: note }));
    this.element.append(el('div', { className: 'row' }, canvasBox, side));
    this.canvas = canvas;
  }

  /**
   * Draws the bar chart once the block is in the document and its tab visible (a chart made while its tab
   * is hidden measures zero and stays blank); later calls resize and redraw it.
   */
  mountChart(): void {
    if (!this.canvas) return;
    if (this.chart) {
      this.chart.resize();
      this.chart.update('none');
      return;
    }
    // A hidden tab has no width yet: the chart is made when the tab is shown.
    if (!this.canvas.parentElement || this.canvas.parentElement.clientWidth === 0) return;
    const r = this.result;
    this.chart = new Chart(this.canvas, {
      type: 'bar',
      data: {
        labels: r.features.map(featureLabel),
        datasets: [{ data: r.features.map((f) => f.value), backgroundColor: r.features.map((f) => (f.value >= 0 ? this.theme.positive : this.theme.negative)), borderWidth: 0 }],
      },
      options: this.chartOptions(),
    });
  }

  private chartOptions() {
    const t = this.theme;
    return {
      indexAxis: 'y' as const,
      animation: false as const,
      responsive: true,
      maintainAspectRatio: false,
      plugins: { legend: { display: false }, tooltip: { enabled: true } },
      scales: {
        x: { ticks: { color: t.muted }, grid: { color: t.border } },
        y: { ticks: { color: t.foreground, autoSkip: false, font: { size: 11 } }, grid: { display: false } },
      },
    };
  }

  setTheme(theme: ThemeColors): void {
    this.theme = theme;
    if (!this.chart) return;
    this.chart.options = this.chartOptions();
    this.chart.data.datasets[0].backgroundColor = this.result.features.map((f) => (f.value >= 0 ? theme.positive : theme.negative));
    this.chart.update();
  }

  destroy(): void {
    this.chart?.destroy();
  }
}

/** Attributions: controls to re-run, the explanation(s), their agreement, live partial results. */
export class AttributionsTab implements TabView {
  readonly element = el('section', { className: 'tab attributions' });
  private readonly controls = el('div', { className: 'controls' });
  private readonly body = el('div', { className: 'body' });
  private blocks: ExplanationBlock[] = [];
  private partialWords = 0;
  private settings: RunSettings = { method: 'partition-shap', budget: 500, level: 'word', removal: 'auto' };
  private methods: readonly MethodName[] = [];
  private prediction: Prediction | undefined;
  private compareWith: MethodName = 'lime';
  private primary: ExplanationResult | undefined;

  constructor(
    private readonly channel: PanelChannel,
    private theme: ThemeColors,
  ) {
    this.element.append(this.controls, this.body);
    this.body.append(el('p', { className: 'empty', text: 'No explanation yet. Select text and run "ONNX Lens: Explain Selection".' }));
  }

  setSettings(settings: RunSettings, methods: readonly MethodName[]): void {
    this.settings = settings;
    this.methods = methods;
    if (this.compareWith === settings.method) this.compareWith = methods.find((m) => m !== settings.method) ?? 'lime';
    this.renderControls();
  }

  setPrediction(p: Prediction): void {
    this.prediction = p;
    this.renderControls();
  }

  private renderControls(): void {
    clear(this.controls);
    const s = { ...this.settings };
    const opts = (list: readonly string[]) => list.map((v) => ({ value: v, label: v }));
    const labels = this.prediction?.candidates.map((c) => c.label) ?? [];
    const method = select(opts(this.methods), s.method, (v) => (s.method = v as MethodName), 'Attribution method');
    const budget = el('input', { attrs: { type: 'number', min: '10', max: '100000', step: '50', title: 'Budget: model evaluations' } });
    budget.value = String(s.budget);
    budget.addEventListener('change', () => (s.budget = Math.max(10, Number(budget.value) || 500)));
    const level = select(opts(['word', 'token']), s.level, (v) => (s.level = v as RunSettings['level']), 'Attribute to words or tokens');
    const removal = select(opts(['auto', 'mask', 'attention', 'delete']), s.removal, (v) => (s.removal = v as RunSettings['removal']), 'How removed words are taken out');
    const target = select([{ value: '', label: 'predicted' }, ...opts(labels)], String(s.target ?? ''), (v) => (s.target = v || undefined), 'Output to explain');
    const contrast = select([{ value: '', label: 'no contrast' }, ...labels.map((l) => ({ value: l, label: `vs ${l}` }))], String(s.contrast ?? ''), (v) => (s.contrast = v || undefined), 'Explain the difference to another output');
    const compare = select(opts(this.methods.filter((m) => m !== s.method)), this.compareWith, (v) => (this.compareWith = v as MethodName), 'Second method');
    this.controls.append(
      el('label', { text: 'Method ' }, method),
      el('label', { text: 'Budget ' }, budget),
      el('label', { text: 'Level ' }, level),
      el('label', { text: 'Removal ' }, removal),
      el('label', { text: 'Target ' }, target),
      el('label', { text: 'Contrast ' }, contrast),
      button('Run', () => this.channel.post({ type: 'runExplain', settings: s })),
      el('span', { className: 'spacer' }),
      el('label', { text: 'Compare with ' }, compare),
      button('Compare', () => this.channel.post({ type: 'runCompare', settings: s, methods: [s.method, this.compareWith] }), { secondary: true }),
    );
  }

  /** A running explanation's latest estimate replaces what was shown, so the picture fills in as it converges. */
  showPartial(label: string, partial: FeatureValue[]): void {
    if (this.prediction) {
      for (const b of this.blocks) b.destroy();
      this.blocks = [];
      this.primary = undefined;
      clear(this.body);
      const colored = coloredTexts({ text: this.prediction.encoded.text, textPair: this.prediction.encoded.textPair, features: partial });
      this.partialWords = colored.words;
      this.body.append(el('p', { className: 'muted', text: `${label} — partial estimate` }), colored.node);
    }
  }

  setExplanation(primary: ExplanationResult, secondary?: ExplanationResult, agreement?: RankAgreement): void {
    for (const b of this.blocks) b.destroy();
    this.blocks = [];
    this.partialWords = 0;
    this.primary = primary;
    clear(this.body);
    if (primary.encoded.truncation) this.body.append(el('p', { className: 'notice', text: primary.encoded.truncation.message }));
    const reveal = (f: FeatureValue) => this.channel.post({ type: 'revealText', start: f.start, end: f.end, segment: f.segment });
    const first = new ExplanationBlock(primary, this.theme, reveal, secondary ? primary.provenance.method : undefined);
    this.blocks.push(first);
    if (!secondary) {
      this.body.append(first.element);
      first.mountChart();
      return;
    }
    const second = new ExplanationBlock(secondary, this.theme, reveal, secondary.provenance.method);
    this.blocks.push(second);
    if (agreement) {
      const t = el('table', { className: 'agreement' });
      const row = (k: string, v: string, title: string) => t.append(el('tr', { title }, el('th', { text: k }), el('td', { className: 'num', text: v })));
      row('Spearman ρ', fmt(agreement.spearman), 'Rank correlation of the signed values');
      row('Kendall τ', fmt(agreement.kendall), 'Share of word pairs ordered the same way, minus those ordered oppositely');
      row(`top-${agreement.topK.k} overlap`, `${Math.round(agreement.topK.overlap * 100)}%`, 'Share of the most important words both methods name');
      row('same sign', `${Math.round(agreement.signAgreement * 100)}%`, 'Share of words pushed the same way');
      const verdict = agreement.spearman >= 0.7 ? 'The two methods broadly agree.' : agreement.spearman >= 0.4 ? 'The two methods partly agree: read the top words with care.' : 'The two methods disagree: do not trust either ranking on its own.';
      this.body.append(el('div', { className: 'agreement-box' }, el('h3', { text: 'Agreement' }), t, el('p', { text: verdict })));
    }
    this.body.append(el('div', { className: 'side-by-side' }, first.element, second.element));
    first.mountChart();
    second.mountChart();
  }

  describe() {
    const labels = this.primary ? this.primary.features.map((f) => f.text) : [];
    const words = this.blocks.reduce((s, b) => s + b.words, 0) + this.partialWords;
    const bars = this.blocks.reduce((s, b) => s + b.result.features.length, 0);
    return { cells: words + bars, labels, counts: { words, bars, explanations: this.blocks.length, partialWords: this.partialWords } };
  }

  async snapshot(format: 'png' | 'svg') {
    const block = this.blocks[0];
    if (!block) return undefined;
    const name = `attribution-${block.result.target.label}-${block.result.provenance.method}`;
    if (format === 'png') return block.chart ? { name, data: block.chart.toBase64Image('image/png', 1) } : undefined;
    const t = this.theme;
    return { name, data: attributionBarsSvg(block.result.features, { title: `Attribution toward ${block.result.target.label} (${block.result.provenance.method})`, palette: { foreground: t.foreground, muted: t.muted, background: t.background, font: t.font } }) };
  }

  setTheme(theme: ThemeColors): void {
    this.theme = theme;
    for (const b of this.blocks) b.setTheme(theme);
  }

  shown(): void {
    for (const b of this.blocks) b.mountChart();
  }
}
