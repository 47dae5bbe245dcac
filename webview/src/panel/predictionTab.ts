import type { Candidate, ModelCard, Prediction } from '../../../src/protocol/engineApi';
import { attributionBarsSvg } from '../../../src/render/svgCharts';
import { clear, el, fmt } from '../shared/dom';
import type { ThemeColors } from '../shared/theme';
import type { TabView } from './tabView';

/** Prediction: class probabilities, fill-mask and next-token candidates, or the generated text. */
export class PredictionTab implements TabView {
  readonly element = el('section', { className: 'tab prediction' });
  private prediction: Prediction | undefined;
  private card: ModelCard | undefined;
  private drawn = { cells: 0, labels: [] as string[], counts: {} as Record<string, number> };

  setModel(card: ModelCard | undefined): void {
    this.card = card;
    this.render();
  }

  setPrediction(p: Prediction): void {
    this.prediction = p;
    this.render();
  }

  private candidateList(title: string, list: readonly Candidate[]): HTMLElement {
    const table = el('div', { className: 'candidates' });
    for (const c of list) {
      const bar = el('div', { className: 'prob-bar' });
      bar.style.width = `${Math.max(0.5, c.probability * 100).toFixed(1)}%`;
      table.append(el('div', { className: 'candidate' }, el('span', { className: 'label', text: c.label, title: `id ${c.id}, logit ${fmt(c.logit)}` }), el('div', { className: 'prob-track' }, bar), el('span', { className: 'num', text: `${(c.probability * 100).toFixed(1)}%` })));
      this.drawn.labels.push(c.label);
      this.drawn.cells++;
    }
    return el('div', {}, el('h3', { text: title }), table);
  }

  private render(): void {
    clear(this.element);
    this.drawn = { cells: 0, labels: [], counts: {} };
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
      this.element.append(el('h3', { text: 'Output' }), el('p', { className: 'generated', text: p.generated.text }));
      this.drawn.labels.push(p.generated.text);
      this.drawn.cells++;
    }
    if (p.candidates.length) this.element.append(this.candidateList(title, p.candidates));
    for (const m of p.masks ?? []) {
      this.element.append(this.candidateList(`Mask at token ${m.tokenIndex}`, m.candidates));
    }
    const tokens = el('div', { className: 'tokens' });
    for (const t of p.encoded.tokens) tokens.append(el('span', { className: t.special ? 'token special' : 'token', text: t.text, title: `id ${t.id} · chars ${t.start}–${t.end}` }));
    this.element.append(el('h3', { text: `Tokens (${p.encoded.tokens.length})` }), tokens);
    this.drawn.counts = { candidates: this.drawn.cells, tokens: p.encoded.tokens.length };
  }

  describe() {
    return this.drawn;
  }

  async snapshot(format: 'png' | 'svg') {
    const p = this.prediction;
    if (!p || format !== 'svg') return undefined;
    const svg = attributionBarsSvg(
      p.candidates.map((c) => ({ text: c.label, value: c.probability })),
      { title: 'Prediction (probability)' },
    );
    return { name: 'prediction', data: svg };
  }

  setTheme(_theme: ThemeColors): void {}

  shown(): void {}

  reset(): void {
    this.prediction = undefined;
    this.render();
  }
}
