/**
 * "Across the pair", in the Attention tab of a sentence pair: per layer and head, the share of attention
 * that crosses between the two texts (A → B, B → A), and for the chosen head its two blocks of attention —
 * each word of one text against the words of the other. Built from DOM with text set by textContent.
 */
import type { Level } from '../../../src/protocol/engineApi';
import type { PairAttentionOverview, SegmentBlockView, UnitLabel } from '../../../src/protocol/webviewMessages';
import { clear, el } from '../shared/dom';
import type { ThemeColors } from '../shared/theme';
import type { PanelChannel } from './tabView';

/** Largest block drawn (words per side); longer texts show their first words and say so. */
const MAX_BLOCK = 60;

const pct = (v: number) => `${(v * 100).toFixed(0)}%`;

export class PairAttentionView {
  readonly element = el('section', { className: 'pair-attention' });
  private pair: PairAttentionOverview | undefined;
  private level: Level = 'word';
  private layer = 0;
  /** −1: the mean of the layer's heads. */
  private head = -1;
  private request = 0;
  private counts = { pairCells: 0, blockCells: 0, blocks: 0 };

  constructor(
    private readonly channel: PanelChannel,
    private theme: ThemeColors,
  ) {}

  /** Shows the pair's view (or nothing for a single text). */
  set(pair: PairAttentionOverview | undefined, level: Level): void {
    this.pair = pair;
    this.level = level;
    if (pair && !pair.layers.some((l) => l.layer === this.layer)) this.layer = pair.layers[pair.layers.length - 1]?.layer ?? 0;
    this.render();
  }

  setTheme(theme: ThemeColors): void {
    this.theme = theme;
    this.render();
  }

  /** Counts for the panel's describe(): shares drawn, block cells drawn, blocks shown. */
  describe(): Record<string, number> {
    return this.pair ? { ...this.counts } : {};
  }

  private heat(v: number): string {
    const [r, g, b] = this.theme.heat;
    return `rgba(${r}, ${g}, ${b}, ${Math.max(0, Math.min(1, v)).toFixed(3)})`;
  }

  private render(): void {
    clear(this.element);
    this.counts = { pairCells: 0, blockCells: 0, blocks: 0 };
    const p = this.pair;
    if (!p) return;
    this.element.append(
      el('h3', { text: 'Across the pair' }),
      el('p', {
        className: 'muted',
        text: `A: ${p.a.length} ${this.level === 'word' ? 'words' : 'tokens'}, B: ${p.b.length}. Each cell: the mean share of a token's attention that goes to the other text (A → B above, B → A below). Pick a cell to see that head's blocks.`,
      }),
    );
    const heads = p.layers[0]?.aToB.length ?? 0;
    const table = el('table', { className: 'pair-shares', attrs: { role: 'grid', 'aria-label': 'Attention across the pair, per layer and head' } });
    table.append(el('tr', {}, el('th', { text: 'layer' }), el('th', { text: 'mean' }), ...Array.from({ length: heads }, (_, h) => el('th', { text: `head ${h + 1}` }))));
    for (const l of p.layers) {
      const row = el('tr', {}, el('th', { text: String(l.layer + 1) }));
      const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
      for (let h = -1; h < heads; h++) {
        const aToB = h < 0 ? mean(l.aToB) : l.aToB[h];
        const bToA = h < 0 ? mean(l.bToA) : l.bToA[h];
        const selected = l.layer === this.layer && h === this.head;
        const cell = el('button', {
          className: `pair-share${selected ? ' selected' : ''}`,
          title: `Layer ${l.layer + 1}, ${h < 0 ? 'mean of the heads' : `head ${h + 1}`}: A → B ${pct(aToB)}, B → A ${pct(bToA)}`,
          attrs: { 'aria-pressed': String(selected) },
        }, el('span', { text: `A→B ${pct(aToB)}` }), el('span', { text: `B→A ${pct(bToA)}` }));
        cell.style.backgroundColor = this.heat(Math.max(aToB, bToA));
        cell.addEventListener('click', () => {
          this.layer = l.layer;
          this.head = h;
          this.render();
        });
        row.append(el('td', {}, cell));
        this.counts.pairCells++;
      }
      table.append(row);
    }
    const blocks = el('div', { className: 'pair-blocks' });
    this.element.append(table, blocks);
    void this.loadBlocks(blocks);
  }

  private async loadBlocks(box: HTMLElement): Promise<void> {
    const p = this.pair;
    if (!p) return;
    const ticket = ++this.request;
    const which = `layer ${this.layer + 1}, ${this.head < 0 ? 'mean of the heads' : `head ${this.head + 1}`}`;
    try {
      const views = await Promise.all(
        ([0, 1] as const).map((from) => this.channel.request('segmentBlock', { layer: this.layer, head: this.head, from, level: this.level })),
      );
      if (ticket !== this.request) return;
      for (const v of views) box.append(this.block(v, v.from === 0 ? p.a : p.b, v.from === 0 ? p.b : p.a, which));
    } catch (e) {
      if (ticket === this.request) box.append(el('p', { className: 'notice', text: (e as Error).message }));
    }
  }

  /** One block as a table: rows are the words of one text, columns those of the other. */
  private block(v: SegmentBlockView, rows: UnitLabel[], cols: UnitLabel[], which: string): HTMLElement {
    const title = v.from === 0 ? 'A → B' : 'B → A';
    const shownRows = Math.min(v.rows, MAX_BLOCK);
    const shownCols = Math.min(v.cols, MAX_BLOCK);
    const table = el('table', { className: 'pair-block', attrs: { 'aria-label': `${title} attention, ${which}` } });
    const header = el('tr', {}, el('th', { text: '' }));
    for (let c = 0; c < shownCols; c++) header.append(el('th', { className: 'col', text: cols[c]?.label ?? '' }));
    table.append(header);
    for (let r = 0; r < shownRows; r++) {
      const tr = el('tr', {}, el('th', { text: rows[r]?.label ?? '' }));
      for (let c = 0; c < shownCols; c++) {
        const q = v.data[r * v.cols + c];
        const td = el('td', { title: `${rows[r]?.label} → ${cols[c]?.label}: ${((q / 255) * v.scale).toFixed(3)}` });
        td.style.backgroundColor = this.heat(q / 255);
        tr.append(td);
        this.counts.blockCells++;
      }
      table.append(tr);
    }
    this.counts.blocks++;
    const cut = v.rows > MAX_BLOCK || v.cols > MAX_BLOCK ? el('p', { className: 'muted', text: `The first ${MAX_BLOCK} words of each text are shown.` }) : undefined;
    return el('figure', {}, el('figcaption', { text: `${title} (${which}); darkest = ${v.scale.toFixed(3)}` }), table, cut);
  }
}
