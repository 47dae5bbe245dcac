import type { GenerationExplanation, GenerationProgress, GenerationResult } from '../../../src/protocol/engineApi';
import type { GenerationView } from '../../../src/protocol/webviewMessages';
import { divergingRgba, maxAbs } from '../../../src/render/attributionScale';
import { generationCellMeaning } from '../../../src/render/explanationValues';
import { visibleToken } from '../../../src/render/tokenText';
import { divergingLegend, heatmapSvg } from '../../../src/render/svgCharts';
import { button, clear, el, fmt } from '../shared/dom';
import { legendElement } from '../shared/svgScene';
import type { ThemeColors } from '../shared/theme';
import type { PanelChannel, TabView } from './tabView';

const STOPS: Record<GenerationResult['stopReason'], string> = {
  eos: 'stopped at an end-of-sequence token',
  'stop-string': 'stopped at a stop string',
  'max-new-tokens': 'stopped at the token limit',
  'context-window': 'stopped at the context window',
  cancelled: 'stopped by Cancel',
};

const pct = (p: number) => `${(p * 100).toFixed(1)}%`;

/**
 * Generation: the prompt and the continuation as it streams in, one button per generated token. Once the
 * tokens are explained, choosing one colours the prompt by what each word did to that token's
 * log-probability (the editor follows); the words × tokens matrix, the token's alternatives, its logit lens
 * and where it attended sit below. Every text from the model goes in as text content.
 */
export class GenerationTab implements TabView {
  readonly element = el('section', { className: 'tab generation' });
  private prompt = '';
  private streamed: GenerationProgress[] = [];
  private view: GenerationView | undefined;
  private drawn = { cells: 0, labels: [] as string[], counts: {} as Record<string, number>, legends: [] as string[] };

  constructor(
    private readonly channel: PanelChannel,
    private theme: ThemeColors,
  ) {
    this.render();
  }

  /** A new generation starts: its prompt; tokens follow with `addToken`. */
  start(prompt: string): void {
    this.prompt = prompt;
    this.streamed = [];
    this.view = undefined;
    this.render();
  }

  addToken(progress: GenerationProgress): void {
    if (this.view) return;
    this.streamed[progress.index] = progress;
    this.render();
  }

  setView(view: GenerationView): void {
    this.view = view;
    this.prompt = view.result.prompt;
    this.render();
  }

  setStep(step: number): void {
    if (!this.view) return;
    this.view = { ...this.view, step };
    this.render();
  }

  private select(step: number): void {
    this.setStep(step);
    this.channel.post({ type: 'selectGenerationStep', step });
  }

  private render(): void {
    clear(this.element);
    this.drawn = { cells: 0, labels: [], counts: {}, legends: [] };
    if (!this.prompt && !this.view) {
      this.element.append(el('p', { className: 'empty', text: 'Select a prompt in an editor and run "ONNX Lens: Generate and Explain" (Ctrl+Alt+G) with a causal language model open.' }));
      return;
    }
    const v = this.view;
    const e = v?.explanation;
    const values = e ? (v.step >= 0 ? e.targets[v.step].values : e.sequence.values) : undefined;
    this.element.append(el('h3', { text: 'Prompt' }), this.promptText(e, values));
    this.element.append(el('h3', { text: e ? 'Generated — choose a token to colour the prompt by it' : 'Generated' }), this.tokenButtons());
    if (!v) {
      this.drawn.counts = { tokens: this.streamed.filter(Boolean).length, streaming: 1 };
      return;
    }
    const r = v.result;
    const cacheText = r.cache === 'none' ? 'no cache' : 'KV cache';
    this.element.append(
      el('p', { className: 'muted', text: `${r.tokens.length} tokens, ${STOPS[r.stopReason]}${r.stopString ? ` (“${r.stopString}”)` : ''} · ${fmt(r.timing.tokensPerSecond, 1)} tokens/s with ${cacheText} · log p ${fmt(r.sequenceLogprob)}` }),
    );
    for (const n of [...r.notes, ...(e?.notes ?? [])]) this.element.append(el('p', { className: 'notice', text: n }));
    this.element.append(
      el(
        'div',
        { className: 'controls' },
        button(e ? 'Explain Again' : 'Explain the Tokens', () => this.channel.post({ type: 'explainGeneration' }), { title: 'Attribute each generated token to the prompt with the current settings' }),
        button('Insert After the Prompt', () => this.channel.post({ type: 'insertGeneration' }), { secondary: true, title: 'Insert the continuation into the document' }),
      ),
    );
    if (e) {
      this.element.append(this.matrix(e, v.step));
      if (v.step >= 0) this.element.append(this.details(r, e, v.step));
      if (e.positionsNote) this.element.append(el('p', { className: 'muted', text: e.positionsNote }));
    }
    this.drawn.counts = {
      tokens: r.tokens.length,
      words: e?.features.length ?? 0,
      explained: e ? 1 : 0,
      step: v.step,
      coloredWords: values ? values.filter((x) => x !== 0).length : 0,
      matrixCells: e ? e.features.length * e.targets.length : 0,
      ...this.drawn.counts,
    };
  }

  /** The prompt, each word on a background by its value for the chosen token. */
  private promptText(e: GenerationExplanation | undefined, values: number[] | undefined): HTMLElement {
    const p = el('p', { className: 'text generation-prompt' });
    if (!e || !values) {
      p.textContent = this.prompt;
      return p;
    }
    const scale = maxAbs(values) || 1;
    let at = 0;
    e.features.forEach((f, i) => {
      if (f.start < at || f.end <= f.start) return;
      p.append(this.prompt.slice(at, f.start));
      const span = el('span', { className: 'feature', text: this.prompt.slice(f.start, f.end), title: `${fmt(values[i])} to the log-probability` });
      span.style.background = divergingRgba(values[i] / scale);
      p.append(span);
      this.drawn.cells++;
      at = f.end;
    });
    p.append(this.prompt.slice(at));
    return p;
  }

  private tokenButtons(): HTMLElement {
    const row = el('div', { className: 'tokens generation-tokens', attrs: { role: 'toolbar', 'aria-label': 'Generated tokens' } });
    const v = this.view;
    const tokens = v ? v.result.tokens : this.streamed.filter(Boolean).map((p) => p.token);
    const explained = Boolean(v?.explanation);
    tokens.forEach((t, j) => {
      const label = visibleToken(t.label);
      const alternatives = t.alternatives.slice(0, 5).map((a) => `${visibleToken(a.label)} ${pct(a.probability)}`).join(', ');
      const b = el('button', {
        text: label,
        className: `token token-button${v && v.step === j ? ' selected' : ''}`,
        title: `token ${j}: p ${pct(t.probability)} (log p ${fmt(t.logprob)}) · most likely: ${alternatives}`,
        attrs: { 'aria-pressed': String(Boolean(v && v.step === j)) },
      });
      if (explained) b.addEventListener('click', () => this.select(j));
      else b.disabled = true;
      row.append(b);
      this.drawn.labels.push(label);
    });
    if (explained && v) {
      const all = el('button', { text: 'whole continuation', className: `token token-button${v.step < 0 ? ' selected' : ''}`, attrs: { 'aria-pressed': String(v.step < 0) } });
      all.addEventListener('click', () => this.select(-1));
      row.append(all);
    }
    return row;
  }

  /** Words × tokens: each row one generated token, each cell a word's value; a row selects its token. */
  private matrix(e: GenerationExplanation, step: number): HTMLElement {
    const scale = maxAbs(e.targets.flatMap((t) => t.values)) || 1;
    const table = el('table', { className: 'matrix' });
    const head = el('tr', {}, el('th', { text: 'token' }), el('th', { text: 'log p' }));
    for (const f of e.features) head.append(el('th', { text: f.text }));
    table.append(el('thead', {}, head));
    const body = el('tbody');
    e.targets.forEach((t, j) => {
      const tr = el('tr', { className: j === step ? 'selected' : undefined, title: 'Colour the prompt by this token' });
      tr.append(el('th', { text: visibleToken(e.tokens[j].label) }), el('td', { className: 'num', text: fmt(e.tokens[j].logprob) }));
      for (const value of t.values) {
        const td = el('td', { className: 'num', text: fmt(value, 2) });
        td.style.background = divergingRgba(value / scale);
        tr.append(td);
      }
      tr.addEventListener('click', () => this.select(j));
      body.append(tr);
    });
    table.append(body);
    const legendTitle = 'Cell colour: change of the token’s log-probability';
    this.drawn.legends.push(legendTitle);
    return el(
      'div',
      { className: 'matrix-wrap' },
      el('h3', { text: `What each prompt word did to each token (${e.method}, ${e.evaluations} model rows)` }),
      el('p', { className: 'muted', text: generationCellMeaning(e.method) }),
      legendElement(divergingLegend(legendTitle, scale), this.theme),
      table,
    );
  }

  /** The chosen token: its alternatives, its logit lens and where it attended. */
  private details(r: GenerationResult, e: GenerationExplanation, step: number): HTMLElement {
    const box = el('div', { className: 'step-details' });
    const token = r.tokens[step];
    box.append(el('h3', { text: `Token ${step}: “${visibleToken(token.label)}”` }));
    const alts = el('div', { className: 'candidates' });
    for (const a of token.alternatives) {
      const bar = el('div', { className: 'prob-bar' });
      bar.style.width = `${Math.max(0.5, a.probability * 100).toFixed(1)}%`;
      alts.append(el('div', { className: 'candidate' }, el('span', { className: 'label', text: visibleToken(a.label) }), el('div', { className: 'prob-track' }, bar), el('span', { className: 'num', text: pct(a.probability) })));
    }
    box.append(el('p', { className: 'muted', text: 'Most likely tokens at this step' }), alts);
    const position = e.positions?.[step];
    if (position?.lens) {
      const table = el('table', {}, el('tr', {}, el('th', { text: 'hidden state' }), el('th', { text: 'top token' }), el('th', { text: 'p' }), el('th', { text: 'rank of the generated token (1 = top)' })));
      for (const l of position.lens) {
        table.append(el('tr', {}, el('td', { text: `h${l.index}` }), el('td', { text: visibleToken(l.top.label) }), el('td', { className: 'num', text: pct(l.top.probability) }), el('td', { className: 'num', text: String(l.rank + 1) })));
      }
      box.append(el('p', { className: 'muted', text: 'Logit lens: each hidden state through the model’s own final norm and head' }), table);
      this.drawn.counts.lensLayers = position.lens.length;
      this.drawn.counts.lastLensRank = position.lens[position.lens.length - 1].rank + 1;
    }
    if (position?.attention?.length) {
      const last = position.attention[position.attention.length - 1];
      const labels = [...r.promptTokens.map((t) => t.text), ...r.tokens.map((t) => t.label)];
      const peak = Math.max(...last.weights, 1e-9);
      const row = el('div', { className: 'tokens' });
      last.weights.forEach((w, i) => {
        const chip = el('span', { className: 'token', text: visibleToken(labels[i] ?? ''), title: `${pct(w)} of the attention` });
        chip.style.background = divergingRgba(w / peak);
        row.append(chip);
      });
      box.append(el('p', { className: 'muted', text: `Where position ${position.position} attended in the last layer (mean of the heads)` }), row);
      this.drawn.counts.attentionLayers = position.attention.length;
    }
    return box;
  }

  describe() {
    return this.drawn;
  }

  async snapshot(format: 'png' | 'svg') {
    const e = this.view?.explanation;
    if (!e || format !== 'svg') return undefined;
    const scale = maxAbs(e.targets.flatMap((t) => t.values)) || 1;
    const svg = heatmapSvg({
      title: 'Prompt words × generated tokens (log-probability)',
      rows: e.tokens.map((t) => visibleToken(t.label)),
      cols: e.features.map((f) => f.text),
      values: e.targets.flatMap((t) => t.values.map((x) => x / scale)),
      color: (t) => divergingRgba(t),
    });
    return { name: 'generation', data: svg };
  }

  setTheme(theme: ThemeColors): void {
    this.theme = theme;
  }

  shown(): void {}

  reset(): void {
    this.prompt = '';
    this.streamed = [];
    this.view = undefined;
    this.render();
  }
}
