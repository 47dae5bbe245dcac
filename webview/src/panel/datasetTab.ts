import type { DatasetExample } from '../../../src/protocol/engineApi';
import type { DatasetView } from '../../../src/protocol/webviewMessages';
import { heatmapSvg } from '../../../src/render/svgCharts';
import { button, clear, el, fmt } from '../shared/dom';
import type { ThemeColors } from '../shared/theme';
import { legendElement } from '../shared/svgScene';
import { VirtualList } from '../shared/virtualList';
import type { PanelChannel, TabView } from './tabView';

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const ROW_HEIGHT = 24;

/**
 * Dataset: a whole file through the model — accuracy and the confusion table when there are
 * labels, the words that drive each class, and the examples worth reading (least confident,
 * misclassified), each one click away from its line in the editor and its explanation.
 */
export class DatasetTab implements TabView {
  readonly element = el('section', { className: 'tab dataset' });
  private readonly controls = el('div', { className: 'controls' });
  private readonly body = el('div', { className: 'body' });
  private readonly misclassified: VirtualList<DatasetExample>;
  private readonly leastConfident: VirtualList<DatasetExample>;
  private view: DatasetView | undefined;
  private drawn = { labels: [] as string[], counts: {} as Record<string, number> };
  private legends: string[] = [];

  constructor(
    private readonly channel: PanelChannel,
    private theme: ThemeColors,
  ) {
    const row = (e: DatasetExample) => this.exampleRow(e);
    this.misclassified = new VirtualList(ROW_HEIGHT, row, 320);
    this.leastConfident = new VirtualList(ROW_HEIGHT, row, 320);
    this.element.append(this.controls, this.body);
    this.render();
  }

  setView(view: DatasetView): void {
    this.view = view;
    this.render();
  }

  private exampleRow(e: DatasetExample): HTMLElement {
    const wrong = e.label !== undefined && e.label !== e.predicted;
    const row = el(
      'div',
      { className: wrong ? 'example misclassified' : 'example', title: `line ${e.line}: ${e.text}` },
      el('span', { className: 'muted', text: `${e.line}` }),
      el('span', { text: e.text }),
      el('span', { text: e.label !== undefined ? `${e.label} → ${e.predicted}` : e.predicted }),
      el('span', { className: 'num', text: pct(e.probability) }),
    );
    row.style.display = 'grid';
    row.style.gridTemplateColumns = '4em minmax(0, 1fr) minmax(8em, auto) 5em';
    row.style.gap = '8px';
    row.style.alignItems = 'center';
    row.style.whiteSpace = 'nowrap';
    row.style.cursor = 'pointer';
    row.style.padding = '0 6px';
    row.style.borderBottom = '1px solid var(--vscode-panel-border)';
    (row.children[1] as HTMLElement).style.overflow = 'hidden';
    (row.children[1] as HTMLElement).style.textOverflow = 'ellipsis';
    if (wrong) row.style.color = 'var(--vscode-errorForeground)';
    row.tabIndex = 0;
    const open = () => this.channel.post({ type: 'openExample', line: e.line, text: e.text });
    row.addEventListener('click', open);
    row.addEventListener('keydown', (ev) => {
      if ((ev as KeyboardEvent).key === 'Enter') open();
    });
    return row;
  }

  private render(): void {
    clear(this.controls);
    clear(this.body);
    this.drawn = { labels: [], counts: {} };
    this.legends = [];
    this.controls.append(button(this.view ? 'Run on Another File…' : 'Run on Dataset…', () => this.channel.post({ type: 'runDataset' })));
    const v = this.view;
    if (!v) {
      this.body.append(el('p', { className: 'empty', text: 'Run "ONNX Lens: Run on Dataset…" on a .jsonl, .csv, .tsv or .txt file of the workspace to see accuracy, the confusion table, the most influential words per class and the hardest examples.' }));
      return;
    }
    const r = v.result;
    this.controls.append(
      el('span', { className: 'spacer' }),
      button('Export JSON', () => this.channel.post({ type: 'exportDataset', format: 'json' }), { secondary: true }),
      button('Export CSV', () => this.channel.post({ type: 'exportDataset', format: 'csv' }), { secondary: true }),
    );
    const file = r.path.split(/[\\/]/).pop() ?? r.path;
    this.body.append(
      el('h3', { text: `${file} (${r.format})` }),
      el('p', {
        text: `${r.examples} examples in ${fmt(r.seconds, 1)} s (${fmt(r.examplesPerSecond, 1)}/s) · ${r.labelled} labelled · ${r.explained} explained${r.method === 'none' ? '' : ` with ${r.method}`}${r.skipped.length ? ` · ${r.skipped.length} lines skipped` : ''}`,
      }),
    );
    if (r.skipped.length) {
      const details = el('details', {}, el('summary', { className: 'notice', text: `${r.skipped.length} lines skipped` }));
      for (const s of r.skipped.slice(0, 50)) details.append(el('div', { className: 'muted', text: `line ${s.line}: ${s.reason}` }));
      this.body.append(details);
    }

    // Accuracy and confusion.
    let confusionCells = 0;
    if (r.accuracy !== undefined && r.confusion) {
      this.body.append(el('h3', { text: `Accuracy ${pct(r.accuracy)} (${r.correct ?? 0} of ${r.labelled - Object.values(r.unknownLabels ?? {}).reduce((a, b) => a + b, 0)})` }));
      const table = el('table', { className: 'trust confusion' }, el('tr', {}, el('th', { text: 'true ↓ / predicted →' }), ...r.labels.map((l) => el('th', { text: l }))));
      const max = Math.max(1, ...r.confusion.flat());
      r.confusion.forEach((row, i) => {
        const tr = el('tr', {}, el('th', { text: r.labels[i] }));
        row.forEach((n, j) => {
          const cell = el('td', { className: 'num', text: String(n) });
          // Correct predictions (the diagonal) in green, confusions in the heat colour.
          const rgb = i === j ? '34, 160, 90' : this.theme.heat.join(', ');
          cell.style.backgroundColor = `rgba(${rgb}, ${((0.6 * n) / max).toFixed(3)})`;
          tr.append(cell);
          confusionCells++;
        });
        table.append(tr);
      });
      const [hr, hg, hb] = this.theme.heat;
      const legends = el(
        'div',
        { className: 'legend-box' },
        legendElement({ title: 'Correct (diagonal): examples', color: (t) => `rgba(34, 160, 90, ${(0.6 * t).toFixed(3)})`, t0: 0, t1: 1, labels: [{ t: 0, text: '0' }, { t: 1, text: String(max) }] }, this.theme, 160),
        legendElement({ title: 'Confused (off the diagonal): examples', color: (t) => `rgba(${hr}, ${hg}, ${hb}, ${(0.6 * t).toFixed(3)})`, t0: 0, t1: 1, labels: [{ t: 0, text: '0' }, { t: 1, text: String(max) }] }, this.theme, 160),
      );
      this.legends = ['Correct (diagonal): examples', 'Confused (off the diagonal): examples'];
      this.body.append(legends, table);
      if (r.unknownLabels && Object.keys(r.unknownLabels).length) {
        this.body.append(el('p', { className: 'notice', text: `Labels that match no class of the model: ${Object.entries(r.unknownLabels).map(([l, n]) => `${l} (${n})`).join(', ')}` }));
      }
    } else {
      this.body.append(el('p', { className: 'muted', text: 'No label column: predictions only.' }));
    }
    const counts = el('p', { className: 'muted', text: `Predicted: ${Object.entries(r.predictedCounts).map(([l, n]) => `${l} ${n}`).join(' · ')}` });
    this.body.append(counts);

    // Influential words per class.
    let wordCount = 0;
    if (r.words && Object.keys(r.words).length) {
      this.body.append(el('h3', { text: 'Most influential words per predicted class (mean |attribution|)' }));
      const grid = el('div', { className: 'side-by-side' });
      for (const [cls, words] of Object.entries(r.words)) {
        const table = el('table', { className: 'trust' }, el('tr', {}, el('th', { text: 'word' }), el('th', { text: 'mean |a|' }), el('th', { text: 'mean a' }), el('th', { text: 'n' })));
        for (const w of words.slice(0, 15)) {
          table.append(el('tr', {}, el('td', { text: w.word }), el('td', { className: 'num', text: fmt(w.meanAbs) }), el('td', { className: 'num', text: fmt(w.mean) }), el('td', { className: 'num', text: String(w.count) })));
          wordCount++;
        }
        grid.append(el('div', {}, el('h4', { text: cls }), table));
        this.drawn.labels.push(cls);
      }
      this.body.append(grid);
    }

    // Examples worth reading.
    this.body.append(el('h3', { text: `Misclassified (${r.misclassifiedTotal}${r.misclassifiedTotal > r.misclassified.length ? `, first ${r.misclassified.length} listed` : ''}) — click to open and explain` }));
    if (r.misclassified.length) {
      this.body.append(this.misclassified.element);
      this.misclassified.setItems(r.misclassified);
    } else {
      this.body.append(el('p', { className: 'muted', text: r.labelled ? 'None.' : 'Needs a label column.' }));
      this.misclassified.setItems([]);
    }
    this.body.append(el('h3', { text: `Least confident (${r.leastConfident.length})` }));
    this.body.append(this.leastConfident.element);
    this.leastConfident.setItems(r.leastConfident);

    this.drawn.counts = {
      examples: r.examples,
      labels: r.labels.length,
      confusionCells,
      words: wordCount,
      misclassified: r.misclassified.length,
      leastConfident: r.leastConfident.length,
      renderedRows: this.misclassified.rendered + this.leastConfident.rendered,
    };
  }

  describe() {
    if (this.view) this.drawn.counts.renderedRows = this.misclassified.rendered + this.leastConfident.rendered;
    return { cells: this.drawn.counts.confusionCells ?? 0, labels: this.drawn.labels, counts: this.drawn.counts, legends: this.legends };
  }

  async snapshot(format: 'png' | 'svg') {
    const r = this.view?.result;
    if (!r?.confusion || format !== 'svg') return undefined;
    const max = Math.max(1, ...r.confusion.flat());
    const t = this.theme;
    return {
      name: 'confusion',
      data: heatmapSvg({
        title: `Confusion (rows: true, columns: predicted), accuracy ${pct(r.accuracy ?? 0)}`,
        rows: r.labels,
        cols: r.labels,
        values: r.confusion.flat().map((n) => n / max),
        cell: 28,
        palette: { foreground: t.foreground, muted: t.muted, background: t.background, font: t.font },
        legend: { title: 'Examples', t0: 0, t1: 1, labels: [{ t: 0, text: '0' }, { t: 1, text: String(max) }] },
      }),
    };
  }

  setTheme(theme: ThemeColors): void {
    this.theme = theme;
    if (this.view) this.render();
  }

  shown(): void {
    this.misclassified.render();
    this.leastConfident.render();
  }

  reset(): void {
    this.view = undefined;
    this.misclassified.setItems([]);
    this.leastConfident.setItems([]);
    this.render();
  }
}
