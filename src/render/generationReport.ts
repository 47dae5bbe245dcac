/**
 * A self-contained HTML report of a generation and its prompt-attribution matrix: the prompt and the
 * continuation, a prompt words × generated tokens heatmap, the prompt coloured for each token, the logit lens
 * at each generated position, provenance and the results as JSON. No script, no remote resource.
 * A pure function of the results, shared by the CLI and the extension's export.
 */
import type { GenerationExplanation, GenerationResult } from '../protocol/engineApi';
import { divergingRgba, maxAbs } from './attributionScale';
import { generationCellMeaning } from './explanationValues';
import { escapeHtml } from './htmlEscape';
import { notesList, provenanceTableHtml, reportDocument, reportModelName, reportNumber as num } from './reportDocument';
import { coloredTextHtml } from './svgCharts';
import { visibleToken } from './tokenText';

/** The matrix as rows of values: one row per generated token, one column per prompt feature. */
export function matrixRows(e: GenerationExplanation): number[][] {
  return e.targets.map((t) => t.values);
}

function matrixTable(e: GenerationExplanation): string {
  const rows = matrixRows(e);
  const scale = maxAbs(rows.flat());
  const head = `<tr><th>token</th><th class="num">log p</th>${e.features.map((f) => `<th>${escapeHtml(f.text)}</th>`).join('')}</tr>`;
  const cell = (v: number) => `<td class="num" style="background:${divergingRgba(scale > 0 ? v / scale : 0)}">${num(v)}</td>`;
  const body = rows
    .map((values, j) => `<tr><th>${escapeHtml(visibleToken(e.tokens[j].label))}</th><td class="num">${num(e.tokens[j].logprob)}</td>${values.map(cell).join('')}</tr>`)
    .join('');
  const seqScale = maxAbs(e.sequence.values);
  const sequence = `<tr><th>whole continuation</th><td class="num">${num(e.sequence.outputValue)}</td>${e.sequence.values
    .map((v) => `<td class="num" style="background:${divergingRgba(seqScale > 0 ? v / seqScale : 0)}">${num(v)}</td>`)
    .join('')}</tr>`;
  return `<figure><table class="matrix"><thead>${head}</thead><tbody>${body}${sequence}</tbody></table></figure>`;
}

function perToken(e: GenerationExplanation): string {
  return e.targets
    .map((t, j) => {
      const features = e.features.map((f, i) => ({ start: f.start, end: f.end, value: t.values[i] }));
      return `<tr><th>${escapeHtml(visibleToken(e.tokens[j].label))}</th><td class="text">${coloredTextHtml(e.prompt, features)}</td><td class="num">${num(t.baseValue)} → ${num(t.outputValue)}</td></tr>`;
    })
    .join('');
}

function lensTable(e: GenerationExplanation): string {
  const positions = e.positions ?? [];
  if (!positions.some((p) => p.lens)) return e.positionsNote ? `<p class="notes">${escapeHtml(e.positionsNote)}</p>` : '';
  const layers = Math.max(...positions.map((p) => p.lens?.length ?? 0));
  const head = `<tr><th>token</th>${Array.from({ length: layers }, (_, i) => `<th>h${i}</th>`).join('')}</tr>`;
  const rows = positions
    .map((p) => {
      const cells = (p.lens ?? []).map((l) => `<td>${escapeHtml(visibleToken(l.top.label))} <span class="notes">${num(l.top.probability, 2)}</span><br><span class="notes">rank ${l.rank + 1}, p ${num(l.probability, 3)}</span></td>`);
      return `<tr><th>${escapeHtml(visibleToken(e.tokens[p.step].label))}</th>${cells.join('')}</tr>`;
    })
    .join('');
  const note = e.positionsNote ? `<p class="notes">${escapeHtml(e.positionsNote)}</p>` : '';
  return `<p>Each hidden state at the position that chose the token, through the model's own final norm and head: its top token and probability, and the generated token's rank and probability there (h0 enters the first layer).</p><table>${head}${rows}</table>${note}`;
}

function provenance(e: GenerationExplanation, g: GenerationResult): string {
  const p = e.provenance;
  return provenanceTableHtml(p, [
    ['decoding', `${g.settings.strategy}${g.settings.strategy === 'sample' ? `, temperature ${g.settings.temperature}, top-k ${g.settings.topK}, top-p ${g.settings.topP}, seed ${g.settings.seed}` : ''}, at most ${g.settings.maxNewTokens} tokens, cache ${g.cache}`],
    ['method', `${p.method}, budget ${p.budget}${p.budgetNote ? ` (${p.budgetNote})` : ''}, seed ${p.seed}, removal ${p.removal}, per ${p.level}`],
  ]);
}

/** The whole report as one HTML document; without an explanation it shows the generation only. */
export function buildGenerationReport(g: GenerationResult, e?: GenerationExplanation, options: { generator?: string; title?: string } = {}): string {
  const model = reportModelName(e?.provenance.modelPath ?? '');
  const title = options.title ?? `ONNX Lens — ${model}: generation`;
  const notes = [...g.notes, ...(e?.notes ?? [])];
  const stop = `${g.tokens.length} tokens; stopped: ${g.stopReason}${g.stopString ? ` (“${g.stopString}”)` : ''}; ${num(g.timing.tokensPerSecond, 1)} tokens/s; log p of the continuation ${num(g.sequenceLogprob)}`;
  const explained = e
    ? `<section><h2>Which prompt words made each token (${escapeHtml(e.method)}, ${e.evaluations} model rows)</h2>
<p>${escapeHtml(generationCellMeaning(e.method))}</p>
${matrixTable(e)}
<h3>The prompt, coloured for each token</h3><table>${perToken(e)}</table>
${e.contrast ? `<h3>Why “${escapeHtml(visibleToken(e.contrast.label))}” and not “${escapeHtml(visibleToken(e.contrast.contrastLabel))}” (step ${e.contrast.step})</h3><p class="text">${coloredTextHtml(e.prompt, e.features.map((f, i) => ({ start: f.start, end: f.end, value: e.contrast!.values[i] })))}</p>` : ''}
<h2>Logit lens at each generated position</h2>${lensTable(e)}
<h2>Provenance</h2>${provenance(e, g)}</section>`
    : '';
  return reportDocument({
    title,
    legend: { red: "raises the token's probability", blue: 'lowers it' },
    css: `
.generated { background: rgba(127, 127, 127, .15); border-radius: 3px; }
table.matrix td { min-width: 3.5rem; }
`,
    body: `<section><h2>Generation</h2>
<p class="text">${escapeHtml(g.prompt)}<span class="generated">${escapeHtml(g.text)}</span></p>
<p>${escapeHtml(stop)}</p>
${notesList(notes)}
</section>
${explained}`,
    result: { generation: g, explanation: e },
    generator: options.generator,
  });
}
