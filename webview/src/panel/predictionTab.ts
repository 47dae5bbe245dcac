import type { Candidate, ModelCard, Prediction } from '../../../src/protocol/engineApi';
import type { DrawnSummary } from '../../../src/protocol/webviewMessages';
import { candidateBars } from '../../../src/render/candidateBars';
import { ChartScene, sceneToSvg } from '../../../src/render/chartScene';
import { attributionBarsScene } from '../../../src/render/svgCharts';
import { visibleToken } from '../../../src/render/tokenText';
import { scenePng } from '../shared/svgScene';
import { clear, el, fmt } from '../shared/dom';
import type { ThemeColors } from '../shared/theme';
import type { TabView } from './tabView';

/** Prediction: class probabilities, fill-mask and next-token candidates, or the generated text. */
export class PredictionTab implements TabView {
  readonly element = el('section', { className: 'tab prediction' });
  private prediction: Prediction | undefined;
  private card: ModelCard | undefined;

  constructor(private theme: ThemeColors) {}
  private drawn = { cells: 0, labels: [] as string[], counts: {} as Record<string, number>, barPercents: [] as number[] };
  /** What the bar lengths mean, per list drawn. */
  private captions: string[] = [];

  setModel(card: ModelCard | undefined): void {
    this.card = card;
    this.render();
  }

  setPrediction(p: Prediction): void {
    this.prediction = p;
    this.render();
  }

  private candidateList(title: string, list: readonly Candidate[]): HTMLElement {
    const { bars, caption } = candidateBars(list);
    const table = el('div', { className: 'candidates', attrs: { role: 'list', 'aria-label': title } });
    bars.forEach((b, i) => {
      const bar = el('div', { className: 'prob-bar' });
      bar.style.width = `${(b.fraction * 100).toFixed(2)}%`;
      const row = el(
        'div',
        { className: 'candidate', attrs: { role: 'listitem' } },
        el('span', { className: 'label', text: b.shown, title: `${b.label} · id ${list[i].id}, logit ${fmt(list[i].logit)}` }),
        el('div', { className: 'prob-track', attrs: { 'aria-hidden': 'true' } }, bar),
        el('span', { className: 'num', text: b.probabilityText }),
      );
      table.append(row);
      this.drawn.labels.push(b.shown);
      this.drawn.cells++;
      this.drawn.barPercents.push(Math.round(b.fraction * 1000) / 10);
    });
    this.captions.push(caption);
    return el('div', {}, el('h3', { text: title }), el('p', { className: 'muted', text: caption }), table);
  }

  private render(): void {
    clear(this.element);
    this.drawn = { cells: 0, labels: [], counts: {}, barPercents: [] };
    this.captions = [];
    const p = this.prediction;
    if (this.card) {
      this.element.append(el('p', { className: 'muted', text: `${this.card.name} — ${this.card.family}, ${this.card.task}, ${this.card.variant}${this.card.quantized ? ' (quantized)' : ''}` }));
    }
    if (!p) {
      this.element.append(el('p', { className: 'empty', text: 'Select text in an editor and run "ONNX Lens: Explain Selection" (Ctrl+Alt+E).' }));
      return;
    }
    if (p.encoded.truncation) this.element.append(el('p', { className: 'notice', text: p.encoded.truncation.message }));
    const title =
      p.task === 'sequence-classification' ? 'Classes' : p.task === 'masked-lm' ? 'Candidates for [MASK]' : p.task === 'causal-lm' ? 'Next token' : 'Candidates';
    if (p.generated) {
      this.element.append(el('h3', { text: 'Output' }), el('p', { className: 'generated', text: visibleToken(p.generated.text) }));
      this.drawn.labels.push(visibleToken(p.generated.text));
      this.drawn.cells++;
    }
    if (p.candidates.length) this.element.append(this.candidateList(title, p.candidates));
    for (const m of p.masks ?? []) {
      this.element.append(this.candidateList(`Mask at token ${m.tokenIndex}`, m.candidates));
    }
    const tokens = el('div', { className: 'tokens' });
    for (const t of p.encoded.tokens) tokens.append(el('span', { className: t.special ? 'token special' : 'token', text: visibleToken(t.text), title: `${t.text} · id ${t.id} · chars ${t.start}–${t.end}` }));
    this.element.append(el('h3', { text: `Tokens (${p.encoded.tokens.length})` }), tokens);
    this.drawn.counts = { candidates: this.drawn.cells, tokens: p.encoded.tokens.length };
  }

  describe(): Pick<DrawnSummary, 'cells' | 'labels' | 'counts' | 'axes'> {
    // Bar lengths in tenths of a percent, in list order, so a reader can compare them.
    const bars = Object.fromEntries(this.drawn.barPercents.map((b, i) => [`bar${i}`, b]));
    return { cells: this.drawn.cells, labels: this.drawn.labels, counts: { ...this.drawn.counts, ...bars }, axes: this.captions.map((c) => ({ title: c, ticks: [] })) };
  }

  /** The first candidate list as a bar chart (the same bars and numbers as on screen). */
  private scene(): ChartScene | undefined {
    const p = this.prediction;
    if (!p || p.candidates.length === 0) return undefined;
    const { bars, scale } = candidateBars(p.candidates);
    const t = this.theme;
    return attributionBarsScene(
      bars.map((b) => ({ text: b.shown, value: b.fraction })),
      {
        title: p.task === 'sequence-classification' ? 'Prediction: class probabilities' : 'Prediction: top candidates',
        axisTitle: scale === 'probability' ? 'probability' : `share among these ${bars.length} candidates (renormalised)`,
        valueText: (i) => bars[i].probabilityText,
        palette: { foreground: t.foreground, muted: t.muted, background: t.background, font: t.font, positive: t.negative, grid: t.border },
      },
    );
  }

  async snapshot(format: 'png' | 'svg') {
    const scene = this.scene();
    if (!scene) return undefined;
    return { name: 'prediction', data: format === 'png' ? await scenePng(scene) : sceneToSvg(scene) };
  }

  setTheme(theme: ThemeColors): void {
    this.theme = theme;
  }

  shown(): void {}

  reset(): void {
    this.prediction = undefined;
    this.render();
  }
}
