/**
 * Terminal renderings of a generation and of its prompt-attribution matrix. Colour comes from the Style
 * passed in, so the same code writes plain text to a pipe (values are then printed as numbers).
 */
import type { GenerationExplanation, GenerationResult } from '../protocol/engineApi';
import { generationCellMeaning } from '../render/explanationValues';
import { visibleToken } from '../render/tokenText';
import { Style, pad, printable, signed, table, truncate } from './terminalOutput';

const STOPS: Record<GenerationResult['stopReason'], string> = {
  eos: 'stopped at an end-of-sequence token',
  'stop-string': 'stopped at the stop string',
  'max-new-tokens': 'stopped at the token limit',
  'context-window': 'stopped at the context window',
  cancelled: 'interrupted',
};

/** One line about how the generation went (for standard error after the streamed text). */
export function generationSummary(g: GenerationResult, style: Style): string {
  const cache = g.cache === 'none' ? 'no cache' : g.cache === 'kv' ? 'KV cache' : g.cache === 'kv-merged' ? 'KV cache (merged decoder)' : 'KV cache (two graphs)';
  const stop = `${STOPS[g.stopReason]}${g.stopString ? ` ${JSON.stringify(g.stopString)}` : ''}`;
  const lines = [style.dim(`${g.tokens.length} tokens, ${stop}; ${g.timing.tokensPerSecond.toFixed(1)} tokens/s with ${cache}; log p ${g.sequenceLogprob.toFixed(3)}`)];
  for (const n of g.notes) lines.push(style.yellow(n));
  return lines.join('\n');
}

/** The generation as a block (when nothing was streamed): the prompt, then the continuation in bold. */
export function renderGeneration(g: GenerationResult, style: Style): string {
  return `${g.prompt}${style.bold(g.text)}\n${generationSummary(g, style)}`;
}

/** The prompt coloured by one row of values. */
function colouredPrompt(e: GenerationExplanation, values: number[], style: Style, maxAbs: number): string {
  let out = '';
  let at = 0;
  e.features.forEach((f, i) => {
    if (f.start < at || f.end <= f.start) return;
    out += e.prompt.slice(at, f.start) + style.attribution(e.prompt.slice(f.start, f.end), values[i], maxAbs);
    at = f.end;
  });
  return (out + e.prompt.slice(at)).replace(/\s+/g, ' ');
}

/** The strongest words of one row, with signed values. */
function topWords(e: GenerationExplanation, values: number[], k: number): string {
  return values
    .map((v, i) => ({ v, i }))
    .sort((a, b) => Math.abs(b.v) - Math.abs(a.v))
    .slice(0, k)
    .map(({ v, i }) => `${printable(truncate(e.features[i].text, 16))} ${signed(v, 2)}`)
    .join(', ');
}

/**
 * The matrix: a table of prompt words × generated tokens when it fits the terminal, and for each token its
 * log-probability, its strongest prompt words and (in colour) the prompt painted by its row.
 */
export function renderGenerationMatrix(e: GenerationExplanation, style: Style, columns = 100): string {
  const out: string[] = [];
  const p = e.provenance;
  out.push(style.bold('Which prompt words made each token') + style.dim(` — ${p.method}, ${e.evaluations} model rows for ${e.tokens.length} tokens, removal ${p.removal}, per ${p.level}`));
  out.push(style.dim(`  ${generationCellMeaning(p.method)}`));
  const all = e.targets.flatMap((t) => t.values);
  const scale = Math.max(0, ...all.map(Math.abs));
  const labelOf = (j: number) => printable(visibleToken(e.tokens[j].label));
  const width = 8;
  const tableWidth = 14 + 8 + e.features.length * (width + 2);
  if (tableWidth <= columns) {
    const head = [style.dim('token'), style.dim('log p'), ...e.features.map((f) => style.dim(pad(truncate(printable(f.text), width), width, 'right')))];
    const rows = e.targets.map((t, j) => [labelOf(j), e.tokens[j].logprob.toFixed(3), ...t.values.map((v) => style.attribution(pad(signed(v, 3), width, 'right'), v, scale))]);
    rows.push([style.bold('(all)'), e.sequence.outputValue.toFixed(3), ...e.sequence.values.map((v) => pad(signed(v, 3), width, 'right'))]);
    out.push(table([head, ...rows], new Set([1])));
  }
  out.push('');
  const rows = e.targets.map((t, j) => {
    const row = [labelOf(j), t.outputValue.toFixed(3), topWords(e, t.values, 3)];
    if (style.color) row.push(colouredPrompt(e, t.values, style, scale));
    return row;
  });
  out.push(table([[style.dim('token'), style.dim('log p'), style.dim('strongest prompt words'), ...(style.color ? [style.dim('prompt')] : [])], ...rows], new Set([1])));
  if (e.contrast) {
    const c = e.contrast;
    out.push('');
    out.push(`${style.bold(`Why ${JSON.stringify(visibleToken(c.label))} and not ${JSON.stringify(visibleToken(c.contrastLabel))}`)} ${style.dim(`(step ${c.step}; log p difference ${c.outputValue.toFixed(3)}, ${c.baseValue.toFixed(3)} without the prompt)`)}`);
    out.push(`  ${topWords(e, c.values, 5)}`);
  }
  const lensed = (e.positions ?? []).filter((x) => x.lens && x.lens.length);
  if (lensed.length) {
    out.push('');
    out.push(style.bold('Logit lens at each generated position') + style.dim(' (top token per hidden state; the generated token’s rank, 1 = top)'));
    out.push(
      table(
        lensed.map((x) => [labelOf(x.step), ...(x.lens ?? []).map((l) => `${printable(visibleToken(l.top.label))} ${style.dim(`#${l.rank + 1}`)}`)]),
      ),
    );
  }
  const notes = [...e.notes, ...(e.positionsNote ? [e.positionsNote] : [])];
  for (const n of notes) out.push(style.yellow(n));
  return out.join('\n');
}
