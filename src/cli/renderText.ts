/**
 * Human-readable renderings of engine results for the terminal. Each function returns the whole
 * block as a string; colour comes from the Style passed in, so the same code writes plain text
 * to a pipe.
 */
import type { AttentionResult, Candidate, ExplanationResult, ModelCard, Prediction, Sourced, TokenView } from '../protocol/engineApi';
import { convergenceText, valuesName } from '../render/explanationValues';
import { textParts } from '../render/pairText';
import { segmentShares } from '../render/segmentAttention';
import { selectAttention } from './jsonOutput';
import { Style, formatBytes, pad, percent, printable, shade, signed, table, truncate } from './terminalOutput';

const BAR_WIDTH = 24;

function sourced(s: Sourced<number> | undefined): string {
  if (!s || s.source === 'none' || !(s.value > 0)) return 'unknown';
  return `${s.value.toLocaleString('en-US')}${s.source === 'graph' ? ' (from the graph)' : ''}`;
}

function shape(dims: (number | string)[]): string {
  return `[${dims.join(', ')}]`;
}

/** Parameter counts as "4.39 M" / "110 M". */
function parameterCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e8 ? 0 : 2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} K`;
  return String(n);
}

/** The model card as a two-column list. */
export function renderModelCard(card: ModelCard, style: Style): string {
  const rows: string[][] = [
    ['path', card.path],
    ['family', card.family],
    ['task', card.task],
  ];
  if (card.labels?.length) rows.push(['labels', card.labels.join(', ')]);
  rows.push(
    ['layers', sourced(card.layers) + (card.decoderLayers ? ` encoder, ${sourced(card.decoderLayers)} decoder` : '')],
    ['attention heads', sourced(card.heads)],
    ['hidden size', sourced(card.hiddenSize)],
    ['vocabulary', sourced(card.vocabSize)],
    ['max positions', sourced(card.maxPositions)],
    ['parameters', parameterCount(card.parameters)],
    ['opset', String(card.opset)],
    ['variant', `${card.variant}${card.quantized ? ' (quantized weights)' : ''}; available: ${card.availableVariants.join(', ') || card.variant}`],
    ['size', formatBytes(card.bytes)],
    ['model SHA-256', card.sha256],
    ['tokenizer', `${card.tokenizerKind}, SHA-256 ${card.tokenizerSha256}`],
    ['attention', card.attention.exposed ? `exposed (${card.attention.count} tensors)` : `not exposed${card.attention.note ? ` — ${card.attention.note}` : ''}`],
  );
  for (const i of card.inputs) rows.push(['input', `${i.name} ${i.type} ${shape(i.shape)}`]);
  for (const o of card.outputs) rows.push(['output', `${o.name} ${o.type} ${shape(o.shape)}`]);
  for (const f of card.files) rows.push(['file', `${f.role}: ${f.path} (${formatBytes(f.bytes)})`]);
  const head = `${style.bold(card.name)}  ${style.dim(`${card.family} · ${card.task} · ${card.variant}`)}`;
  const warnings = card.warnings.map((w) => style.yellow(`warning: ${w}`));
  return [head, table(rows.map(([k, v]) => [style.dim(k), v])), ...warnings].join('\n');
}

/**
 * A candidate's label as shown: a class as it is; a token in quotes, so that a leading space shows and
 * what is printed is exactly the name `--target` accepts.
 */
function candidateName(label: string, task: Prediction['task']): string {
  return printable(task === 'sequence-classification' ? label : JSON.stringify(label));
}

function candidateRows(candidates: Candidate[], style: Style, limit: number, task: Prediction['task']): string {
  const shown = candidates.slice(0, limit);
  const max = Math.max(...shown.map((c) => c.probability), 0);
  return table(
    shown.map((c, i) => [
      i === 0 ? style.bold(candidateName(c.label, task)) : candidateName(c.label, task),
      percent(c.probability),
      style.bar(c.probability, max || 1, BAR_WIDTH),
      style.dim(`logit ${c.logit.toFixed(3)}`),
    ]),
    new Set([1]),
  );
}

function tokenLabel(tokens: TokenView[], index: number): string {
  const t = tokens[index];
  return t ? printable(t.text) : `#${index}`;
}

/** What the model predicts: classes, mask candidates, next tokens or the generated text. */
export function renderPrediction(p: Prediction, style: Style, limit = 10): string {
  const out: string[] = [];
  switch (p.task) {
    case 'sequence-classification':
      out.push(style.bold('Prediction'));
      break;
    case 'masked-lm':
      out.push(style.bold(p.masks && p.masks.length > 1 ? `Candidates for the first of ${p.masks.length} masks` : 'Candidates for the masked token'));
      break;
    case 'causal-lm':
      out.push(style.bold('Next token'));
      break;
    case 'seq2seq':
      if (p.generated) out.push(`${style.bold('Generated:')} ${p.generated.text}`);
      out.push(style.bold('First output token'));
      break;
    default:
      out.push(style.bold(`Outputs (${p.task})`));
  }
  out.push(p.candidates.length ? candidateRows(p.candidates, style, limit, p.task) : style.dim('  (no candidates: the model gave no scores for this input)'));
  if (p.masks && p.masks.length > 1) {
    for (const m of p.masks.slice(1)) {
      out.push(style.bold(`Candidates for the mask at token ${m.tokenIndex} (${tokenLabel(p.encoded.tokens, m.tokenIndex)})`));
      out.push(candidateRows(m.candidates, style, limit, p.task));
    }
  }
  if (p.encoded.truncation) out.push(style.yellow(p.encoded.truncation.message));
  return out.join('\n');
}

/** The text (each text of a pair on its own line, marked A and B) with each feature coloured by its attribution. */
export function colouredText(r: ExplanationResult, style: Style): string {
  const maxAbs = Math.max(0, ...r.features.map((f) => Math.abs(f.value)));
  return textParts(r)
    .map((part) => {
      const spans = [...part.features].filter((f) => f.end > f.start).sort((a, b) => a.start - b.start);
      let out = '';
      let at = 0;
      for (const f of spans) {
        if (f.start < at) continue; // overlapping features (token level inside a word) keep the first
        out += part.text.slice(at, f.start) + style.attribution(part.text.slice(f.start, f.end), f.value, maxAbs);
        at = f.end;
      }
      return `${part.label ? `${style.bold(part.label)}  ` : ''}${out}${part.text.slice(at)}`;
    })
    .join('\n');
}

/** The explained output; a token in quotes, so a leading space shows. */
function targetName(r: ExplanationResult): string {
  const name = (label: string) => (r.target.kind === 'class' ? label : JSON.stringify(label));
  return r.target.contrastLabel ? `${name(r.target.label)} − ${name(r.target.contrastLabel)}` : name(r.target.label);
}

/** An explanation: prediction, the coloured text, a bar per word, faithfulness and convergence. */
export function renderExplanation(r: ExplanationResult, style: Style): string {
  const out: string[] = [];
  const top = r.fullOutput.candidates;
  if (r.fullOutput.task === 'seq2seq' && r.fullOutput.generated) out.push(`${style.bold('Generated:')} ${r.fullOutput.generated.text}`);
  if (top.length) {
    const task = r.fullOutput.task;
    const others = top.slice(1, 3).map((c) => `${candidateName(c.label, task)} ${percent(c.probability)}`).join(', ');
    out.push(`${style.bold('Prediction:')} ${style.bold(candidateName(top[0].label, task))} ${percent(top[0].probability)}${others ? style.dim(` (${others})`) : ''}`);
  }
  out.push(`${style.bold('Explains:')} ${printable(targetName(r))} ${style.dim(`— ${r.target.description}`)}`);
  const p = r.provenance;
  out.push(style.dim(`Method: ${p.method} (${valuesName(r)}), ${r.evaluations} evaluations, budget ${p.budget}, seed ${p.seed}, removal ${p.removal}, per ${p.level}${p.punctuation === 'omit' ? ', punctuation left out' : ''}`));
  out.push('');
  out.push(`  ${colouredText(r, style).replace(/\n/g, '\n  ')}`);
  out.push('');

  const maxAbs = Math.max(0, ...r.features.map((f) => Math.abs(f.value)));
  const rank = new Map([...r.features].map((f, i) => [i, Math.abs(f.value)] as const).sort((a, b) => b[1] - a[1]).map(([i], k) => [i, k + 1]));
  const segmentMark = (f: ExplanationResult['features'][number]) => (r.textPair !== undefined ? `${f.segment === 1 ? 'B' : 'A'} ` : '');
  const rows = r.features.map((f, i) => [
    `${style.dim(segmentMark(f))}${style.attribution(printable(truncate(f.text, 24)), f.value, maxAbs)}`,
    signed(f.value),
    style.bar(f.value, maxAbs, BAR_WIDTH),
    style.dim(`#${rank.get(i)}`),
  ]);
  out.push(table([[style.dim(p.level), style.dim('value'), style.dim(`toward ${style.color ? '' : '(+) / against (-) '}${truncate(printable(targetName(r)), 20)}`), ''], ...rows], new Set([1])));
  const sum = r.features.reduce((s, f) => s + f.value, 0);
  const isShares = p.method === 'rollout' || p.method === 'flow';
  out.push('');
  out.push(
    `  base value ${r.baseValue.toFixed(4)} → output ${r.outputValue.toFixed(4)}` +
      (isShares ? style.dim(`  (scores are attention shares, sum ${sum.toFixed(4)})`) : style.dim(`  (difference ${signed(r.outputValue - r.baseValue, 4)}, sum of values ${signed(sum, 4)})`)),
  );
  const f = r.faithfulness;
  if (f) {
    out.push(
      `${style.bold('Faithfulness:')} comprehensiveness ${f.comprehensiveness.toFixed(3)} ${style.dim('(higher is better)')}, sufficiency ${f.sufficiency.toFixed(3)} ${style.dim('(lower is better)')}`,
    );
    out.push(
      style.dim(`  deletion area ${f.deletion.normalizedArea.toFixed(3)} (lower is better), insertion area ${f.insertion.normalizedArea.toFixed(3)} (higher is better), ${f.evaluations} evaluations`),
    );
  }
  const c = r.convergence;
  const conv = convergenceText({ ...c, final: true });
  out.push(`${style.bold('Convergence:')} ${conv}${c.final ? '' : style.yellow(' (not final: raise --budget for a closer estimate)')}${r.fit ? `, surrogate fit R² ${r.fit.r2.toFixed(3)}` : ''}`);
  for (const n of r.notes) out.push(style.yellow(`note: ${n}`));
  return out.join('\n');
}

/** Labels of the rows (queries) and columns (keys) of one attention tensor. */
function axes(r: AttentionResult, kind: string): { rows: TokenView[]; cols: TokenView[] } {
  const enc = r.encoded.tokens;
  const dec = r.encoded.decoder?.tokens ?? [];
  if (kind === 'decoder') return { rows: dec, cols: dec };
  if (kind === 'cross') return { rows: dec, cols: enc };
  return { rows: enc, cols: enc };
}

/** Attention of one layer (each stack) as shaded matrices, with each row's most attended tokens. */
export function renderAttention(r: AttentionResult, options: { layer?: number; head?: number }, style: Style): string {
  const out: string[] = [];
  const tokens = r.encoded.tokens;
  out.push(`${style.bold(`Tokens (${tokens.length}):`)} ${tokens.map((t, i) => `${style.dim(String(i))}:${printable(t.text)}`).join(' ')}`);
  if (r.encoded.textPair !== undefined) {
    const segs = [0, 1].map((s) => tokens.flatMap((t, i) => (!t.special && t.segment === s ? [i] : [])));
    const span = (xs: number[]) => (xs.length ? `tokens ${xs[0]}–${xs[xs.length - 1]}` : 'no tokens');
    out.push(style.dim(`Sentence pair: A = ${span(segs[0])} (token type 0), B = ${span(segs[1])} (token type 1).`));
  }
  if (r.encoded.decoder) out.push(`${style.bold(`Decoder tokens (${r.encoded.decoder.tokens.length}):`)} ${r.encoded.decoder.tokens.map((t, i) => `${style.dim(String(i))}:${printable(t.text)}`).join(' ')}`);
  if (r.encoded.truncation) out.push(style.yellow(r.encoded.truncation.message));
  if (r.attentions.length === 0) {
    out.push(style.yellow(r.note ?? 'This model exposes no attention.'));
    return out.join('\n');
  }
  const kinds = [...new Set(r.attentions.map((a) => a.kind))];
  const summary = kinds.map((k) => {
    const of = r.attentions.filter((a) => a.kind === k);
    return `${of.length} ${k}-attention layers × ${of[0].shape[1]} heads`;
  });
  out.push(style.dim(`Attention: ${summary.join('; ')}. Rows attend to columns; each row sums to 1.`));
  // Without --layer, show the last layer of each stack: the one closest to the output.
  const layer = options.layer ?? Math.max(...r.attentions.map((a) => a.layer));
  for (const s of selectAttention(r.attentions, layer, options.head)) {
    const [, heads, q, k] = s.shape;
    const { rows, cols } = axes(r, s.tensor.kind);
    const mean = new Float32Array(q * k);
    for (let h = 0; h < heads; h++) for (let i = 0; i < q * k; i++) mean[i] += s.data[h * q * k + i] / heads;
    out.push('');
    out.push(style.bold(`Layer ${s.tensor.layer}, ${s.tensor.kind} attention, ${s.head !== undefined ? `head ${s.head}` : `mean of ${heads} heads`}`));
    const drawMatrix = k <= 48;
    const labelWidth = Math.min(16, Math.max(...rows.slice(0, q).map((t) => printable(t.text).length), 3));
    if (drawMatrix) out.push(`  ${' '.repeat(labelWidth + 5)}${cols.slice(0, k).map((_, j) => String(j % 10)).join('')}`);
    for (let i = 0; i < q; i++) {
      const row = mean.subarray(i * k, (i + 1) * k);
      // Only what the row attends to: a causal row's later tokens (weight exactly 0) are not among its strongest.
      const order = [...row.keys()].filter((j) => row[j] > 0).sort((a, b) => row[b] - row[a]).slice(0, 3);
      const topText = order.map((j) => `${printable(cols[j]?.text ?? `#${j}`)} ${row[j].toFixed(2)}`).join(', ');
      const label = pad(truncate(printable(rows[i]?.text ?? `#${i}`), labelWidth), labelWidth);
      const cells = drawMatrix ? `│${[...row].map((v) => shade(v)).join('')}│ ` : '';
      out.push(`  ${pad(String(i), 3, 'right')} ${label} ${cells}${style.dim('→')} ${topText}`);
    }
  }
  const shares = segmentShares(r).filter((s) => options.layer === undefined || s.layer === options.layer);
  if (shares.length) {
    out.push('');
    out.push(style.bold('Across the pair') + style.dim(' — mean share of a token\'s attention that goes to the other text (A → B, B → A), per head'));
    const headCount = shares[0].aToB.length;
    const heads = options.head !== undefined ? [options.head] : Array.from({ length: headCount }, (_, h) => h);
    const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
    out.push(
      table(
        [
          [style.dim('layer'), ...heads.map((h) => style.dim(`head ${h}: A→B  B→A`))],
          ...shares.map((s) => [String(s.layer), ...heads.map((h) => `${pct(s.aToB[h]).padStart(6)}  ${pct(s.bToA[h]).padStart(6)}`)]),
        ],
        new Set(heads.map((_, i) => i + 1)),
      ),
    );
  }
  if (r.hiddenStates.length) {
    const h = r.hiddenStates[0];
    out.push('');
    out.push(style.dim(`Hidden states: ${r.hiddenStates.length} × [${h.shape.join(', ')}] (${[...new Set(r.hiddenStates.map((x) => x.stack))].join(', ')}); use --json to get them.`));
  }
  if (r.note) out.push(style.yellow(`note: ${r.note}`));
  return out.join('\n');
}
