import type { ExplanationResult, FeatureValue, MethodName, Prediction } from '../../../src/protocol/engineApi';
import type { DrawnSummary, RankAgreement, RunSettings } from '../../../src/protocol/webviewMessages';
import { attributionDirections, divergingRgba, explainedQuantity, maxAbs } from '../../../src/render/attributionScale';
import { ChartScene, legendScene, sceneToSvg } from '../../../src/render/chartScene';
import { attributionBarsScene, divergingLegend } from '../../../src/render/svgCharts';
import { visibleToken } from '../../../src/render/tokenText';
import { textParts } from '../../../src/render/pairText';
import { convergenceText, timingText, valuesHeading, valuesMeaning, valuesName } from '../../../src/render/explanationValues';
import { button, clear, el, fmt, select } from '../shared/dom';
import { sceneElement, scenePng } from '../shared/svgScene';
import type { ThemeColors } from '../shared/theme';
import type { PanelChannel, TabView } from './tabView';

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
    if (onClick) {
      span.tabIndex = 0;
      span.setAttribute('role', 'button');
      span.setAttribute('aria-label', `${f.text}: ${fmt(f.value)}, show in the editor`);
      span.addEventListener('click', () => onClick(f));
      span.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          onClick(f);
        }
      });
    }
    node.append(span);
    words++;
    pos = f.end;
  }
  if (pos < text.length) node.append(document.createTextNode(text.slice(pos)));
  return { node, words };
}

/** "Red: pushes toward X · Blue: pushes away from X", with colour swatches. */
export function directionsLine(words: { positive: string; negative: string }, theme: ThemeColors): HTMLElement {
  const swatch = (color: string) => {
    const s = el('span', { className: 'swatch', attrs: { 'aria-hidden': 'true' } });
    s.style.backgroundColor = color;
    return s;
  };
  return el(
    'p',
    { className: 'directions' },
    el('span', {}, swatch(theme.positive), ` Red: pushes ${words.positive}`),
    el('span', {}, swatch(theme.negative), ` Blue: pushes ${words.negative}`),
  );
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

/** One explanation: its coloured text with its colour legend, the bar chart and the trust numbers. */
class ExplanationBlock {
  readonly element = el('div', { className: 'explanation-block' });
  readonly legendTitle: string;
  words = 0;
  private readonly chartBox = el('div', { className: 'chart-box' });
  /** What red and blue mean, and the colour scale of the words. */
  private readonly key = el('div', { className: 'key' });
  private scene: ChartScene | undefined;
  private drawnWidth = 0;
  private readonly resize = new ResizeObserver(() => this.mountChart());

  constructor(
    readonly result: ExplanationResult,
    private theme: ThemeColors,
    onWord: (f: FeatureValue) => void,
    heading?: string,
  ) {
    const r = result;
    const target = r.target.contrastLabel ? `${r.target.label} − ${r.target.contrastLabel}` : r.target.label;
    if (heading) this.element.append(el('h3', { text: heading }));
    this.element.append(el('p', { className: 'muted', title: valuesMeaning(r), text: `${valuesHeading(r)} by ${r.provenance.method} · ${evaluationsText(r)} · explains ${target} (${r.target.description})` }));
    this.legendTitle = `Word colour: contribution to ${explainedQuantity(r.target)}`;
    this.renderKey();
    this.element.append(this.key);
    const colored = coloredTexts(r, onWord);
    this.words = colored.words;
    this.element.append(colored.node);
    const trust = el('table', { className: 'trust' });
    const row = (k: string, v: string, title?: string, className = 'num') => trust.append(el('tr', { title }, el('th', { text: k }), el('td', { className, text: v })));
    row('values', valuesHeading(r), valuesMeaning(r), 'words');
    row('output', fmt(r.outputValue), 'Model output being explained');
    row('base value', fmt(r.baseValue), 'Output with every feature removed');
    row('convergence', convergenceText(r.convergence), 'How much the estimate may still move', 'words');
    if (r.fit) row('surrogate fit R²', fmt(r.fit.r2));
    if (r.faithfulness) {
      row('comprehensiveness ↑', fmt(r.faithfulness.comprehensiveness), 'Drop of the output when the top features are removed: higher is more faithful');
      row('sufficiency ↓', fmt(r.faithfulness.sufficiency), 'Drop when only the top features are kept: lower is more faithful');
      row('deletion area ↓', fmt(r.faithfulness.deletion.normalizedArea));
      row('insertion area ↑', fmt(r.faithfulness.insertion.normalizedArea));
    }
    if (r.timing) row('time', timingText(r.timing), 'Time the explanation took, against the engine’s estimate before it started, and the model rows it ran', 'words');
    const side = el('div', { className: 'side' }, el('h4', { text: 'Trust' }), trust);
    for (const note of r.notes) side.append(el('p', { className: 'notice', text: note }));
    this.element.append(el('div', { className: 'row' }, this.chartBox, side));
    this.resize.observe(this.chartBox);
  }

  private renderKey(): void {
    clear(this.key);
    const scale = maxAbs(this.result.features.map((f) => f.value));
    this.key.append(directionsLine(this.directions(), this.theme), sceneElement(legendScene(divergingLegend(this.legendTitle, scale || 1), 220, this.palette()), 'legend'));
  }

  private directions(): { positive: string; negative: string } {
    const candidates = this.result.fullOutput.candidates;
    const runnerUp = candidates.length === 2 ? candidates.find((c) => c.label !== this.result.target.label)?.label : undefined;
    return attributionDirections(this.result.target, runnerUp);
  }

  private palette() {
    const t = this.theme;
    return { foreground: t.foreground, muted: t.muted, background: t.background, font: t.font, positive: t.positive, negative: t.negative, grid: t.border };
  }

  /** The bar chart, as the figure exports draw it too. */
  chartScene(width = this.drawnWidth || 640): ChartScene {
    const r = this.result;
    return attributionBarsScene(r.features.map((f) => ({ ...f, text: featureLabel(f) })), {
      title: `Attribution per ${r.provenance.level} toward ${r.target.contrastLabel ? `${r.target.label} − ${r.target.contrastLabel}` : r.target.label} (${valuesName(r)}, ${r.provenance.method})`,
      axisTitle: `contribution to ${explainedQuantity(r.target)}`,
      legend: this.directions(),
      width,
      palette: this.palette(),
    });
  }

  /** Draws the bar chart at the width of its box (again when the box changes width or the theme changes). */
  mountChart(force = false): void {
    const width = Math.floor(this.chartBox.clientWidth);
    // A hidden tab has no width yet: the chart is drawn when the tab is shown.
    if (width === 0 || (!force && width === this.drawnWidth)) return;
    this.drawnWidth = width;
    this.scene = this.chartScene(width);
    clear(this.chartBox);
    this.chartBox.append(sceneElement(this.scene, 'bars'));
  }

  /** Axis title and tick labels of the chart as drawn. */
  axis(): { title: string; ticks: string[] } | undefined {
    return this.scene?.axis;
  }

  get drawn(): boolean {
    return this.scene !== undefined;
  }

  setTheme(theme: ThemeColors): void {
    this.theme = theme;
    this.renderKey();
    this.mountChart(true);
  }

  destroy(): void {
    this.resize.disconnect();
  }
}

/** "266 evaluations", or what a result served entirely from the evaluator's cache means. */
function evaluationsText(r: ExplanationResult): string {
  return r.evaluations > 0 ? `${r.evaluations} evaluations` : 'no new evaluations (every coalition was already computed for this text)';
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
    // Candidates as the model names them, whitespace made visible (a label may be " the" or a lone space).
    const labels = (this.prediction?.candidates ?? []).map((c) => ({ value: c.label, label: visibleToken(c.label) }));
    const method = select(opts(this.methods), s.method, (v) => (s.method = v as MethodName), 'Attribution method');
    const budget = el('input', { attrs: { type: 'number', min: '10', max: '100000', step: '50', title: 'Budget: model evaluations' } });
    budget.value = String(s.budget);
    budget.addEventListener('change', () => (s.budget = Math.max(10, Number(budget.value) || 500)));
    const level = select(opts(['word', 'token']), s.level, (v) => (s.level = v as RunSettings['level']), 'Attribute to words or tokens');
    const punctuation = select(
      [{ value: 'feature', label: 'as words' }, { value: 'omit', label: 'left out' }],
      s.punctuation ?? 'feature',
      (v) => (s.punctuation = v as RunSettings['punctuation']),
      'Explain punctuation marks as words of their own, or leave them out',
    );
    const removal = select(opts(['auto', 'mask', 'attention', 'delete']), s.removal, (v) => (s.removal = v as RunSettings['removal']), 'How removed words are taken out');
    const target = select([{ value: '', label: 'predicted' }, ...labels], String(s.target ?? ''), (v) => (s.target = v || undefined), 'Output to explain');
    const contrast = select([{ value: '', label: 'no contrast' }, ...labels.map((l) => ({ value: l.value, label: `vs ${l.label}` }))], String(s.contrast ?? ''), (v) => (s.contrast = v || undefined), 'Explain the difference to another output');
    const compare = select(opts(this.methods.filter((m) => m !== s.method)), this.compareWith, (v) => (this.compareWith = v as MethodName), 'Second method');
    // Run comes first: one keystroke from the tab, with the settings it runs with after it.
    this.controls.append(
      button('Run', () => this.channel.post({ type: 'runExplain', settings: s }), { title: 'Explain the text again with these settings' }),
      el('label', { text: 'Method ' }, method),
      el('label', { text: 'Budget ' }, budget),
      el('label', { text: 'Level ' }, level),
      el('label', { text: 'Punctuation ' }, punctuation),
      el('label', { text: 'Removal ' }, removal),
      el('label', { text: 'Target ' }, target),
      el('label', { text: 'Contrast ' }, contrast),
      el('span', { className: 'spacer' }),
      el('label', { text: 'Compare with ' }, compare),
      button('Compare', () => this.channel.post({ type: 'runCompare', settings: s, methods: [s.method, this.compareWith] }), { secondary: true, title: 'Explain with both methods and show how far they agree' }),
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

  describe(): Pick<DrawnSummary, 'cells' | 'labels' | 'counts' | 'legends' | 'axes'> {
    const labels = this.primary ? this.primary.features.map((f) => f.text) : [];
    const words = this.blocks.reduce((s, b) => s + b.words, 0) + this.partialWords;
    const drawn = this.blocks.filter((b) => b.drawn);
    const bars = drawn.reduce((s, b) => s + b.result.features.length, 0);
    return {
      cells: words + bars,
      labels,
      counts: {
        words,
        bars,
        explanations: this.blocks.length,
        partialWords: this.partialWords,
        // Target and contrast choices that would read as nothing (a space, an empty token).
        blankChoices: [...this.controls.querySelectorAll('option')].filter((o) => !(o.textContent ?? '').trim()).length,
        choices: this.controls.querySelectorAll('option').length,
      },
      legends: this.blocks.map((b) => b.legendTitle),
      axes: drawn.map((b) => b.axis()!).filter(Boolean),
    };
  }

  async snapshot(format: 'png' | 'svg') {
    const block = this.blocks[0];
    if (!block) return undefined;
    const name = `attribution-${block.result.target.label}-${block.result.provenance.method}`;
    const scene = block.chartScene();
    return { name, data: format === 'png' ? await scenePng(scene) : sceneToSvg(scene) };
  }

  setTheme(theme: ThemeColors): void {
    this.theme = theme;
    for (const b of this.blocks) b.setTheme(theme);
  }

  shown(): void {
    for (const b of this.blocks) b.mountChart();
  }

  reset(): void {
    for (const b of this.blocks) b.destroy();
    this.blocks = [];
    this.partialWords = 0;
    this.primary = undefined;
    this.prediction = undefined;
    clear(this.body);
    this.body.append(el('p', { className: 'empty', text: 'No explanation yet. Select text and run "ONNX Lens: Explain Selection".' }));
    this.renderControls();
  }
}
