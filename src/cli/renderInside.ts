/**
 * Terminal renderings of the inside-the-model results: activations, logit lens, head importance,
 * robustness and dataset runs. Like renderText, each returns one block; colour comes from Style.
 */
import type { ActivationsResult, DatasetResult, HeadImportanceResult, LogitLensResult, RobustnessResult } from '../protocol/engineApi';
import { Style, pad, percent, printable, signed, table, truncate } from './terminalOutput';

/** Rows of tokens the text views print before saying how many more there are. */
const MAX_TOKEN_ROWS = 64;

function stateName(index: number): string {
  return index === 0 ? 'emb' : `L${index}`;
}

function num(v: number | undefined, digits = 3): string {
  return v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(digits);
}

/** Hidden-state norms and layer updates per token, a per-layer summary, and one token's top units. */
export function renderActivations(r: ActivationsResult, style: Style): string {
  const out: string[] = [];
  const T = r.tokens.length;
  out.push(`${style.bold(`Tokens (${T}):`)} ${r.tokens.map((t, i) => `${style.dim(String(i))}:${printable(t)}`).join(' ')}`);
  if (r.encoded.truncation) out.push(style.yellow(r.encoded.truncation.message));
  out.push(style.dim(`${r.stack} stack: ${r.layers} layers, hidden size ${r.hiddenSize}. Hidden states: emb = the embeddings, Li = after the i-th layer; Δi = the i-th layer's update (Li − L(i−1)).`));
  out.push('');
  out.push(style.bold('Per layer (mean over tokens)'));
  const rows: string[][] = [[style.dim('state'), style.dim('mean ‖h‖'), style.dim('update ‖h_i − h_{i−1}‖'), style.dim('relative'), style.dim('largest update')]];
  for (let i = 0; i <= r.layers; i++) {
    const norms = r.norms[i] ?? [];
    const mean = norms.reduce((s, x) => s + x, 0) / Math.max(1, norms.length);
    if (i === 0) {
      rows.push([stateName(0), num(mean), '', '', '']);
      continue;
    }
    const upd = r.updates[i - 1] ?? [];
    const rel = r.relativeUpdates[i - 1] ?? [];
    const meanUpd = upd.reduce((s, x) => s + x, 0) / Math.max(1, upd.length);
    const meanRel = rel.reduce((s, x) => s + x, 0) / Math.max(1, rel.length);
    let top = 0;
    upd.forEach((x, t) => {
      if (x > upd[top]) top = t;
    });
    rows.push([stateName(i), num(mean), num(meanUpd), num(meanRel), upd.length ? `${printable(truncate(r.tokens[top] ?? `#${top}`, 16))} ${num(upd[top])}` : '']);
  }
  out.push(table(rows, new Set([1, 2, 3])));
  out.push('');
  out.push(style.bold('‖h‖ per token and hidden state, then each layer’s update Δ'));
  const head = [style.dim('token'), ...Array.from({ length: r.layers + 1 }, (_x, i) => style.dim(stateName(i))), ...Array.from({ length: r.layers }, (_x, i) => style.dim(`Δ${i + 1}`))];
  const body: string[][] = [head];
  for (let t = 0; t < Math.min(T, MAX_TOKEN_ROWS); t++) {
    body.push([
      `${t} ${printable(truncate(r.tokens[t], 14))}`,
      ...Array.from({ length: r.layers + 1 }, (_x, i) => num(r.norms[i]?.[t], 2)),
      ...Array.from({ length: r.layers }, (_x, i) => num(r.updates[i]?.[t], 2)),
    ]);
  }
  out.push(table(body, new Set(Array.from({ length: 2 * r.layers + 1 }, (_x, i) => i + 1))));
  if (T > MAX_TOKEN_ROWS) out.push(style.dim(`  … ${T - MAX_TOKEN_ROWS} more tokens; use --json for all.`));
  out.push('');
  const top = r.top;
  out.push(style.bold(`Most active units of token ${top.token} (${printable(r.tokens[top.token] ?? '?')}) at hidden state ${top.state}`));
  out.push(table(top.units.map((u) => [`unit ${u.unit}`, signed(u.value, 4)]), new Set([1])));
  if (r.note) out.push(style.yellow(`note: ${r.note}`));
  return out.join('\n');
}

/** The logit lens: each hidden state's top candidates at one position, and where the final prediction ranks. */
export function renderLogitLens(r: LogitLensResult, style: Style, topShown = 5): string {
  const out: string[] = [];
  const token = r.encoded.tokens[r.position]?.text ?? `#${r.position}`;
  out.push(`${style.bold('Position:')} ${r.position} (${printable(JSON.stringify(token))}) — the model predicts ${style.bold(printable(JSON.stringify(r.prediction.label)))}`);
  out.push(style.dim(r.method));
  out.push('');
  const k = Math.min(topShown, Math.max(0, ...r.layers.map((l) => l.top.length)));
  const rows: string[][] = [[style.dim('state'), style.dim('rank'), style.dim('p(prediction)'), style.dim(`top ${k}`)]];
  for (const l of r.layers) {
    const tops = l.top.slice(0, k).map((c) => {
      const text = `${printable(JSON.stringify(c.label))} ${percent(c.probability)}`;
      return c.id === r.prediction.id ? style.bold(text) : text;
    });
    const rank = l.predictedRank + 1;
    rows.push([stateName(l.index), rank === 1 ? style.green(String(rank)) : String(rank), num(l.predictedProbability, 4), tops.join(', ')]);
  }
  out.push(table(rows, new Set([1, 2])));
  out.push('');
  out.push(style.dim(`At the last hidden state the lens reproduces the model's logits to ${num(r.finalLayerMaxAbsDiff, 6)} (max |difference|).`));
  return out.join('\n');
}

/** The head-importance grid (layers × heads), the largest effects, and the pruning result. */
export function renderHeadImportance(r: HeadImportanceResult, style: Style): string {
  const out: string[] = [];
  for (const t of r.targets) out.push(`${style.bold('Measures:')} ${printable(t.target.label)} ${style.dim(`— ${t.target.description}, ${num(t.baseValue, 4)} with every head`)}`);
  out.push(style.dim(r.method));
  if (r.grid) {
    out.push('');
    out.push(style.bold(`Change when one head is removed (${r.layers} layers × ${r.heads} heads)`));
    const max = Math.max(0, ...r.grid.flat().map(Math.abs));
    const rows: string[][] = [[style.dim('layer'), ...Array.from({ length: r.heads }, (_x, h) => style.dim(`H${h}`)), ...(r.layerAblation ? [style.dim('whole layer')] : [])]];
    r.grid.forEach((row, l) => {
      rows.push([`L${l}`, ...row.map((v) => style.attribution(signed(v), v, max)), ...(r.layerAblation ? [signed(r.layerAblation[l])] : [])]);
    });
    out.push(table(rows, new Set(Array.from({ length: r.heads + 1 }, (_x, i) => i + 1))));
    const ranked = r.grid.flatMap((row, l) => row.map((v, h) => ({ l, h, v }))).sort((a, b) => Math.abs(b.v) - Math.abs(a.v)).slice(0, 5);
    out.push(`  ${style.bold('Largest effects:')} ${ranked.map((x) => `L${x.l}:H${x.h} ${signed(x.v)}`).join(', ')}`);
  }
  const p = r.prune;
  if (p) {
    out.push('');
    out.push(style.bold(`Pruning ${p.heads.map(([l, h]) => `L${l}:H${h}`).join(', ')} together`));
    out.push(`  mean change ${signed(p.change, 4)}; prediction flips on ${percent(p.flipRate)} of texts`);
    for (const t of p.perText) {
      out.push(`  output ${num(t.value, 4)} (${signed(t.change, 4)}), predicts ${printable(t.predicted)}${t.flipped ? ` ${style.red('FLIPPED')}` : ''}`);
    }
  }
  out.push(style.dim(`${r.evaluations.masks} head masks, ${r.evaluations.rows} model rows in ${r.evaluations.batches} batches`));
  return out.join('\n');
}

/** The robustness table: one row per edited variant, flips marked. */
export function renderRobustness(r: RobustnessResult, style: Style): string {
  const out: string[] = [];
  out.push(`${style.bold('Original:')} ${printable(r.original.predicted)} ${percent(r.original.probability)} ${style.dim(`— explains ${r.target.label}; seed ${r.seed}, ${r.method === 'none' ? 'no explanations' : r.method}, ${r.evaluations} evaluations`)}`);
  out.push('');
  const rows: string[][] = [[style.dim('kind'), style.dim('edit'), style.dim('prediction'), style.dim('flip'), style.dim('Δp'), style.dim('TV'), style.dim('rank agr.'), style.dim('text')]];
  for (const v of r.variants) {
    rows.push([
      v.kind,
      printable(truncate(v.edit, 36)),
      `${printable(v.predicted)} ${percent(v.probability)}`,
      v.flipped ? style.red('FLIP') : '',
      signed(v.targetProbabilityChange, 4),
      num(v.totalVariation, 4),
      v.attributionSpearman !== undefined ? num(v.attributionSpearman, 2) : '—',
      printable(truncate(v.text, 60)),
    ]);
  }
  out.push(table(rows, new Set([4, 5, 6])));
  const s = r.summary;
  out.push('');
  out.push(
    `${style.bold('Summary:')} ${s.variants} variants, flip rate ${percent(s.flipRate)}, mean total variation ${num(s.meanTotalVariation, 4)}` +
      (s.meanAttributionSpearman !== undefined ? `, mean rank agreement ${num(s.meanAttributionSpearman, 3)}` : ''),
  );
  for (const [kind, k] of Object.entries(s.byKind)) out.push(`  ${pad(kind, 10)} ${k.variants} variant${k.variants === 1 ? '' : 's'}, ${k.flips} flip${k.flips === 1 ? '' : 's'}, mean TV ${num(k.meanTotalVariation, 4)}`);
  return out.join('\n');
}

/** A dataset run: accuracy, confusion, influential words per class, hard examples. */
export function renderDataset(r: DatasetResult, style: Style, listed = 10): string {
  const out: string[] = [];
  out.push(`${style.bold('File:')} ${r.path} ${style.dim(`(${r.format})`)}`);
  if (r.partial) out.push(style.yellow(`Partial: ${r.partial.reason}`));
  out.push(`${r.examples} examples, ${r.labelled} labelled, ${r.explained} explained${r.method === 'none' ? '' : ` with ${r.method}`}; ${num(r.seconds, 2)} s (${num(r.examplesPerSecond, 1)} examples/s), ${r.evaluations} evaluations`);
  if (r.skipped.length) {
    out.push(style.yellow(`${r.skipped.length} lines skipped:`));
    for (const s of r.skipped.slice(0, 5)) out.push(style.yellow(`  line ${s.line}: ${s.reason}`));
    if (r.skipped.length > 5) out.push(style.yellow(`  … and ${r.skipped.length - 5} more (see --json)`));
  }
  out.push(`${style.bold('Predicted:')} ${Object.entries(r.predictedCounts).map(([l, n]) => `${printable(l)} ${n}`).join(', ')}`);
  if (r.accuracy !== undefined && r.confusion) {
    out.push('');
    out.push(`${style.bold('Accuracy:')} ${percent(r.accuracy)} (${r.correct ?? 0} correct)`);
    const rows: string[][] = [[style.dim('true \\ predicted'), ...r.labels.map((l) => style.dim(printable(l)))]];
    r.confusion.forEach((row, i) => rows.push([printable(r.labels[i]), ...row.map((n, j) => (i === j ? style.green(String(n)) : n > 0 ? style.red(String(n)) : String(n)))]));
    out.push(table(rows, new Set(r.labels.map((_l, i) => i + 1))));
  }
  if (r.unknownLabels && Object.keys(r.unknownLabels).length) {
    out.push(style.yellow(`Labels that match no class of the model: ${Object.entries(r.unknownLabels).map(([l, n]) => `${printable(l)} (${n})`).join(', ')}`));
  }
  if (r.words && Object.keys(r.words).length) {
    out.push('');
    out.push(style.bold('Most influential words per predicted class (mean |attribution|)'));
    for (const [cls, words] of Object.entries(r.words)) {
      out.push(`  ${style.bold(printable(cls))}: ${words.slice(0, listed).map((w) => `${printable(w.word)} ${num(w.meanAbs)}${w.count > 1 ? style.dim(`×${w.count}`) : ''}`).join(', ')}`);
    }
  }
  const examples = (title: string, list: DatasetResult['misclassified']) => {
    out.push('');
    out.push(style.bold(title));
    if (list.length === 0) out.push(style.dim('  none'));
    for (const e of list.slice(0, listed)) {
      const gold = e.label !== undefined ? `${printable(e.label)} → ` : '';
      out.push(`  ${pad(`line ${e.line}`, 10)} ${gold}${printable(e.predicted)} ${percent(e.probability)}  ${printable(truncate(e.text, 70))}`);
    }
    if (list.length > listed) out.push(style.dim(`  … ${list.length - listed} more listed in --json`));
  };
  if (r.labelled > 0) examples(`Misclassified (${r.misclassifiedTotal})`, r.misclassified);
  examples('Least confident', r.leastConfident);
  return out.join('\n');
}
