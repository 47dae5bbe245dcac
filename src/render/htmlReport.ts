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

const num = (v: number | undefined, digits = 3) => (v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(digits));

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
  const notes = r.notes.length ? `<ul class="notes">${r.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>` : '';
  return `<section>
<h2>${escapeHtml(heading)}: ${escapeHtml(valuesHeading(r))} by ${escapeHtml(r.provenance.method)}</h2>
<p>Explains <b>${escapeHtml(target)}</b> (${escapeHtml(r.target.description)}). Base value ${num(r.baseValue)}, output ${num(r.outputValue)}, ${r.evaluations} model evaluations.</p>
<p class="muted">${escapeHtml(valuesMeaning(r))}</p>
${textParts(r).map((part) => `<p class="text">${part.label ? `<b>${part.label}</b> ` : ''}${coloredTextHtml(part.text, part.features)}</p>`).join('\n')}
<p class="muted">Red: pushes ${escapeHtml(directions.positive)} · Blue: pushes ${escapeHtml(directions.negative)}. Strength: contribution to ${escapeHtml(explainedQuantity(r.target))}, up to ${num(maxAbs(r.features.map((f) => f.value)))}.</p>
<figure>${attributionBarsSvg(r.features, { title: `Attribution per ${r.provenance.level} toward ${target} (${valuesName(r)})`, axisTitle: `contribution to ${explainedQuantity(r.target)}`, legend: directions })}</figure>
<h3>Trust</h3>
${faithfulnessSection(r)}
${notes}
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
  const rows: [string, string][] = [
    ['model', p.modelPath],
    ['variant', p.variant],
    ['model SHA-256', p.modelSha256],
    ['tokenizer SHA-256', p.tokenizerSha256],
    ['method', p.method],
    ['budget', `${p.budget}${p.budgetNote ? ` (${p.budgetNote})` : ''}`],
    ['seed', String(p.seed)],
    ['removal', p.removal],
    ['level', p.level],
    ['engine version', p.version],
    ['created', p.createdAt],
  ];
  return `<table class="provenance">${rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</table>`;
}

/** JSON that can sit inside a <script type="application/json"> without ending it early. */
export function jsonForScriptTag(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<number>) : v), 2)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** The reports' stylesheet (light and dark), shared by every self-contained report. */
export const REPORT_CSS = `
:root { color-scheme: light dark; --fg: #1f2328; --muted: #59636e; --bg: #ffffff; --line: #d1d9e0; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --muted: #9198a1; --bg: #0d1117; --line: #3d444d; } figure svg { background: #fff; border-radius: 4px; } }
body { font: 14px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); max-width: 980px; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; border-bottom: 1px solid var(--line); padding-bottom: .25rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: .5rem 0; } th, td { text-align: left; padding: .2rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.provenance td { font-family: ui-monospace, monospace; word-break: break-all; }
.text { font-size: 1.1rem; line-height: 2; padding: .5rem; border: 1px solid var(--line); border-radius: 4px; white-space: pre-wrap; }
.feature { border-radius: 3px; padding: 0 1px; }
.row { display: flex; gap: 1.5rem; flex-wrap: wrap; align-items: flex-start; }
figure { margin: .5rem 0; overflow-x: auto; }
.notes li, footer, .muted { color: var(--muted); }
.legend span { display: inline-block; padding: 0 .4rem; border-radius: 3px; }
`;

/** The whole report as one HTML document. */
export function buildHtmlReport(result: ExplanationResult, attention?: AttentionResult, options: ReportOptions = {}): string {
  const model = result.provenance.modelPath.split(/[\\/]/).filter(Boolean).pop() ?? 'model';
  const title = options.title ?? `ONNX Lens — ${model}: ${result.target.label}`;
  const comparison = options.comparison ? explanationSection(options.comparison, 'Second method') : '';
  const truncation = result.encoded.truncation ? `<p class="notes">${escapeHtml(result.encoded.truncation.message)}</p>` : '';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p class="legend"><span style="background:rgba(239,68,68,.6)">pushes toward</span> <span style="background:rgba(59,130,246,.6)">pushes against</span> the explained output.</p>
${truncation}
<section><h2>Prediction</h2>${predictionTable(result.fullOutput)}</section>
${explanationSection(result, 'Attribution')}
${comparison}
${attention ? attentionSection(attention, options.maxAttentionUnits ?? 60) : ''}
<section><h2>Provenance</h2>${provenanceTable(result)}</section>
<script type="application/json" id="onnx-lens-result">${jsonForScriptTag({ result, comparison: options.comparison })}</script>
<footer><p>Generated by ONNX Lens${options.generator ? ` ${escapeHtml(options.generator)}` : ''}. The same model, seed and settings reproduce these numbers.</p></footer>
</body>
</html>
`;
}
