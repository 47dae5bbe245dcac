/**
 * What every self-contained HTML report has around its sections: the document with its Content-Security-Policy
 * (no script, no remote resource), the stylesheet, the title and colour legend, the result as JSON for
 * reproduction and the footer; and the pieces the reports' sections share (numbers, notes, provenance tables).
 */
import type { Provenance } from '../protocol/engineApi';
import { escapeHtml } from './htmlEscape';

/** A number with `digits` decimals, or "—" when there is none. */
export function reportNumber(v: number | undefined, digits = 3): string {
  return v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(digits);
}

/** A list of notes, or nothing when there are none. */
export function notesList(notes: readonly string[]): string {
  return notes.length ? `<ul class="notes">${notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>` : '';
}

/**
 * A result's provenance as a two-column table, values monospaced: the model and tokenizer it came from, then
 * `how` (the method and settings, as each report states them), then the engine version and the time.
 */
export function provenanceTableHtml(p: Provenance, how: readonly (readonly [string, string])[]): string {
  const rows: (readonly [string, string])[] = [
    ['model', p.modelPath],
    ['variant', p.variant],
    ['model SHA-256', p.modelSha256],
    ['tokenizer SHA-256', p.tokenizerSha256],
    ...how,
    ['engine version', p.version],
    ['created', p.createdAt],
  ];
  return `<table class="provenance">${rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</table>`;
}

/** The model's folder or file name, as report titles name it. */
export function reportModelName(modelPath: string): string {
  return modelPath.split(/[\\/]/).filter(Boolean).pop() ?? 'model';
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

export interface ReportDocument {
  title: string;
  /** What the red and the blue of the report's colours mean (plain text), and what follows them. */
  legend: { red: string; blue: string; after?: string };
  /** The report's sections, as HTML. */
  body: string;
  /** The results the report shows, embedded as JSON for reproduction. */
  result: unknown;
  /** CSS added after the shared stylesheet. */
  css?: string;
  /** Extension or CLI version, recorded in the footer. */
  generator?: string;
}

/** A whole self-contained report: one HTML document, no script, nothing remote. */
export function reportDocument(d: ReportDocument): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(d.title)}</title>
<style>${REPORT_CSS}${d.css ?? ''}</style>
</head>
<body>
<h1>${escapeHtml(d.title)}</h1>
<p class="legend"><span style="background:rgba(239,68,68,.6)">${escapeHtml(d.legend.red)}</span> <span style="background:rgba(59,130,246,.6)">${escapeHtml(d.legend.blue)}</span>${d.legend.after ? ` ${escapeHtml(d.legend.after)}` : ''}</p>
${d.body}
<script type="application/json" id="onnx-lens-result">${jsonForScriptTag(d.result)}</script>
<footer><p>Generated by ONNX Lens${d.generator ? ` ${escapeHtml(d.generator)}` : ''}. The same model, seed and settings reproduce these numbers.</p></footer>
</body>
</html>
`;
}
