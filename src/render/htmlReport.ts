/**
 * A self-contained HTML report of one explanation: inline CSS, inline SVG figures, the full result
 * as JSON for reproduction, and no remote resource and no script, so it opens offline anywhere.
 * A pure function of the results, shared by the extension's export and the CLI.
 */
import type { AttentionResult, ExplanationResult, Prediction } from '../protocol/engineApi';
import { attributionDirections, explainedQuantity, maxAbs } from './attributionScale';
import { attentionUnits, unitMatrix } from './attentionViews';
import { escapeHtml } from './htmlEscape';
import { textParts } from './pairText';
import { notesList, provenanceTableHtml, reportDocument, reportModelName, reportNumber as num } from './reportDocument';
import { attentionLegend, attributionBarsSvg, coloredTextHtml, curveSvg, heatmapSvg } from './svgCharts';
import { convergenceText, timingText, valuesHeading, valuesMeaning, valuesName } from './explanationValues';

export interface ReportOptions {
  /** Title shown at the top; default from the model and target. */
  title?: string;
  /** A second explanation of the same text (another method), shown beside the first. */
  comparison?: ExplanationResult;
  /** Largest attention matrix drawn (words per side); longer inputs show the first ones and say so. */
  maxAttentionUnits?: number;
  /** Extension version, recorded in the footer. */
  generator?: string;
}

function predictionTable(p: Prediction): string {
  const rows = p.candidates
    .slice(0, 10)
    .map((c) => `<tr><td>${escapeHtml(c.label)}</td><td class="num">${num(c.probability * 100, 1)}%</td><td class="num">${num(c.logit)}</td></tr>`)
    .join('');
  const generated = p.generated ? `<p>Generated: <q>${escapeHtml(p.generated.text)}</q></p>` : '';
  return `${generated}<table><thead><tr><th>candidate</th><th>probability</th><th>logit</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function faithfulnessSection(r: ExplanationResult): string {
  const f = r.faithfulness;
  const convergence = `<tr><th>convergence</th><td>${escapeHtml(convergenceText(r.convergence))}</td></tr>`;
  const fit =
    (r.fit ? `<tr><th>surrogate fit R²</th><td class="num">${num(r.fit.r2)}</td></tr>` : '') +
    (r.timing ? `<tr><th>time</th><td>${escapeHtml(timingText(r.timing))}</td></tr>` : '');
  if (!f) return `<table>${convergence}${fit}</table>`;
  const curves = [
    { name: 'deletion', values: f.deletion.values, counts: f.deletion.counts, color: '#dc2626' },
    { name: 'insertion', values: f.insertion.values, counts: f.insertion.counts, color: '#2563eb' },
  ];
  return `<div class="row"><table>
<tr><th>comprehensiveness (higher is better)</th><td class="num">${num(f.comprehensiveness)}</td></tr>
<tr><th>sufficiency (lower is better)</th><td class="num">${num(f.sufficiency)}</td></tr>
<tr><th>deletion area (normalised, lower is better)</th><td class="num">${num(f.deletion.normalizedArea)}</td></tr>
<tr><th>insertion area (normalised, higher is better)</th><td class="num">${num(f.insertion.normalizedArea)}</td></tr>
${convergence}${fit}</table>
<figure>${curveSvg(curves, { title: `Output as the most important ${r.provenance.level}s are removed / inserted`, xTitle: `${r.provenance.level}s removed (deletion) or inserted (insertion)` })}</figure></div>`;
}

function explanationSection(r: ExplanationResult, heading: string): string {
  const target = r.target.contrastLabel ? `${r.target.label} − ${r.target.contrastLabel}` : r.target.label;
  const runnerUp = r.fullOutput.candidates.length === 2 ? r.fullOutput.candidates.find((c) => c.label !== r.target.label)?.label : undefined;
  const directions = attributionDirections(r.target, runnerUp);
  return `<section>
<h2>${escapeHtml(heading)}: ${escapeHtml(valuesHeading(r))} by ${escapeHtml(r.provenance.method)}</h2>
<p>Explains <b>${escapeHtml(target)}</b> (${escapeHtml(r.target.description)}). Base value ${num(r.baseValue)}, output ${num(r.outputValue)}, ${r.evaluations} model evaluations.</p>
<p class="muted">${escapeHtml(valuesMeaning(r))}</p>
${textParts(r).map((part) => `<p class="text">${part.label ? `<b>${part.label}</b> ` : ''}${coloredTextHtml(part.text, part.features)}</p>`).join('\n')}
<p class="muted">Red: pushes ${escapeHtml(directions.positive)} · Blue: pushes ${escapeHtml(directions.negative)}. Strength: contribution to ${escapeHtml(explainedQuantity(r.target))}, up to ${num(maxAbs(r.features.map((f) => f.value)))}.</p>
<figure>${attributionBarsSvg(r.features, { title: `Attribution per ${r.provenance.level} toward ${target} (${valuesName(r)})`, axisTitle: `contribution to ${explainedQuantity(r.target)}`, legend: directions })}</figure>
<h3>Trust</h3>
${faithfulnessSection(r)}
${notesList(r.notes)}
</section>`;
}

function attentionSection(a: AttentionResult, maxUnits: number): string {
  const selfTensors = a.attentions.filter((t) => t.kind === 'self');
  if (selfTensors.length === 0) return a.note ? `<section><h2>Attention</h2><p>${escapeHtml(a.note)}</p></section>` : '';
  const last = selfTensors.reduce((x, y) => (y.layer > x.layer ? y : x));
  const units = attentionUnits(a.encoded.tokens, a.encoded.words, 'word');
  const shown = units.slice(0, maxUnits);
  const m = unitMatrix(last, -1, shown, shown);
  let max = 0;
  for (const v of m) max = Math.max(max, v);
  const values = Array.from(m, (v) => (max > 0 ? v / max : 0));
  const cut = units.length > shown.length ? `<p>Showing the first ${shown.length} of ${units.length} words.</p>` : '';
  return `<section><h2>Attention</h2>
<p>Last layer (${last.layer + 1}), mean over ${last.shape[1]} heads, per word; rows attend to columns. Darker = more attention (scaled to the largest value, ${num(max)}).</p>${cut}
<figure>${heatmapSvg({ title: `Layer ${last.layer + 1}, mean of heads`, rows: shown.map((u) => u.label), cols: shown.map((u) => u.label), values, legend: attentionLegend(max) })}</figure></section>`;
}

function provenanceTable(r: ExplanationResult): string {
  const p = r.provenance;
  return provenanceTableHtml(p, [
    ['method', p.method],
    ['budget', `${p.budget}${p.budgetNote ? ` (${p.budgetNote})` : ''}`],
    ['seed', String(p.seed)],
    ['removal', p.removal],
    ['level', p.level],
  ]);
}

/** The whole report as one HTML document. */
export function buildHtmlReport(result: ExplanationResult, attention?: AttentionResult, options: ReportOptions = {}): string {
  const model = reportModelName(result.provenance.modelPath);
  const title = options.title ?? `ONNX Lens — ${model}: ${result.target.label}`;
  const comparison = options.comparison ? explanationSection(options.comparison, 'Second method') : '';
  const truncation = result.encoded.truncation ? `<p class="notes">${escapeHtml(result.encoded.truncation.message)}</p>` : '';
  return reportDocument({
    title,
    legend: { red: 'pushes toward', blue: 'pushes against', after: 'the explained output.' },
    body: `${truncation}
<section><h2>Prediction</h2>${predictionTable(result.fullOutput)}</section>
${explanationSection(result, 'Attribution')}
${comparison}
${attention ? attentionSection(attention, options.maxAttentionUnits ?? 60) : ''}
<section><h2>Provenance</h2>${provenanceTable(result)}</section>`,
    result: { result, comparison: options.comparison },
    generator: options.generator,
  });
}
