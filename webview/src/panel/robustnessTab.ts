import type { RobustnessResult, RobustnessVariant } from '../../../src/protocol/engineApi';
import { attributionBarsSvg } from '../../../src/render/svgCharts';
import { button, clear, el, fmt } from '../shared/dom';
import type { ThemeColors } from '../shared/theme';
import type { PanelChannel, TabView } from './tabView';

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** The variant's text, with the original words it replaced in the tooltip. */
function variantText(original: string, v: RobustnessVariant): HTMLElement {
  return el('td', { className: 'variant-text', text: v.text, title: `original: “${original.slice(v.start, v.end)}”` });
}

/**
 * Robustness: the text under seeded edits (deletions, swaps, insertions, synonyms, typos), each
 * with the model's new prediction, whether it flipped, how far the explained output's probability
 * moved, and whether the explanation still ranks the shared words alike. Flips are highlighted.
 */
export class RobustnessTab implements TabView {
  readonly element = el('section', { className: 'tab robustness' });
  private readonly controls = el('div', { className: 'controls' });
  private readonly body = el('div', { className: 'body' });
  private result: RobustnessResult | undefined;
  private flipsOnly = false;
  private drawn = { rows: 0, flips: 0 };

  constructor(private readonly channel: PanelChannel) {
    this.element.append(this.controls, this.body);
    this.render();
  }

  setResult(result: RobustnessResult): void {
    this.result = result;
    this.render();
  }

  private render(): void {
    clear(this.controls);
    clear(this.body);
    this.drawn = { rows: 0, flips: 0 };
    this.controls.append(button(this.result ? 'Run Again' : 'Test Robustness', () => this.channel.post({ type: 'runRobustness' })));
    const r = this.result;
    if (!r) {
      this.body.append(el('p', { className: 'empty', text: 'Select text and run "ONNX Lens: Test Robustness": the text is edited in small ways and each variant is predicted and explained again.' }));
      return;
    }
    const only = el('input', { attrs: { type: 'checkbox' } });
    only.checked = this.flipsOnly;
    only.addEventListener('change', () => {
      this.flipsOnly = only.checked;
      this.render();
    });
    this.controls.append(el('label', { text: 'Flips only ' }, only), el('span', { className: 'muted', text: `seed ${r.seed} · ${r.method === 'none' ? 'no explanations' : `explained with ${r.method}`} · ${r.evaluations} evaluations` }));

    const s = r.summary;
    const flips = r.variants.filter((v) => v.flipped).length;
    const head = el('p', {
      text: `Original: ${r.original.predicted} (${pct(r.original.probability)}), explaining ${r.target.label}. ${s.variants} variants, ${flips} flip${flips === 1 ? '' : 's'} (${pct(s.flipRate)}), mean total variation ${fmt(s.meanTotalVariation)}${s.meanAttributionSpearman !== undefined ? `, mean rank agreement ${fmt(s.meanAttributionSpearman, 2)}` : ''}.`,
    });
    if (flips > 0) head.className = 'notice';
    this.body.append(head);

    const kinds = el('table', { className: 'trust' }, el('tr', {}, el('th', { text: 'edit kind' }), el('th', { text: 'variants' }), el('th', { text: 'flips' }), el('th', { text: 'mean TV' })));
    for (const [kind, k] of Object.entries(s.byKind)) {
      kinds.append(el('tr', {}, el('td', { text: kind }), el('td', { className: 'num', text: String(k.variants) }), el('td', { className: 'num', text: String(k.flips) }), el('td', { className: 'num', text: fmt(k.meanTotalVariation) })));
    }
    this.body.append(kinds);

    const table = el('table', { className: 'trust variants' }, el('tr', {}, ...['edit', 'text', 'prediction', 'flip', 'Δp(target)', 'TV', 'rank agreement'].map((h) => el('th', { text: h }))));
    const shown = this.flipsOnly ? r.variants.filter((v) => v.flipped) : r.variants;
    for (const v of shown) {
      const row = el(
        'tr',
        {},
        el('td', { text: v.edit, title: v.kind }),
        variantText(r.text, v),
        el('td', { text: `${v.predicted} ${pct(v.probability)}` }),
        el('td', { text: v.flipped ? 'FLIP' : '' }),
        el('td', { className: 'num', text: fmt(v.targetProbabilityChange, 4) }),
        el('td', { className: 'num', text: fmt(v.totalVariation, 4) }),
        el('td', { className: 'num', text: v.attributionSpearman !== undefined ? `${fmt(v.attributionSpearman, 2)}${v.sharedWords !== undefined ? ` (${v.sharedWords} words)` : ''}` : '—' }),
      );
      if (v.flipped) {
        row.className = 'flip';
        row.style.backgroundColor = 'var(--vscode-inputValidation-errorBackground)';
        row.style.fontWeight = 'bold';
        this.drawn.flips++;
      }
      table.append(row);
      this.drawn.rows++;
    }
    this.body.append(table);
  }

  describe() {
    const r = this.result;
    return {
      cells: this.drawn.rows,
      labels: r ? (this.flipsOnly ? r.variants.filter((v) => v.flipped) : r.variants).map((v) => v.text) : [],
      counts: { variants: r?.variants.length ?? 0, rows: this.drawn.rows, flips: this.drawn.flips, kinds: r ? Object.keys(r.summary.byKind).length : 0 },
    };
  }

  async snapshot(format: 'png' | 'svg') {
    const r = this.result;
    if (!r || format !== 'svg') return undefined;
    return {
      name: 'robustness',
      data: attributionBarsSvg(r.variants.map((v) => ({ text: v.edit, value: v.targetProbabilityChange })), {
        title: `Change of p(${r.target.label}) per edit`,
        axisTitle: `p(${r.target.label}) in the variant − in the original`,
        legend: { positive: `raises p(${r.target.label})`, negative: `lowers p(${r.target.label})` },
      }),
    };
  }

  setTheme(_theme: ThemeColors): void {}

  shown(): void {}

  reset(): void {
    this.result = undefined;
    this.render();
  }
}
