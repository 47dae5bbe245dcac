/**
 * `onnx-lens compare`: two models (fp32 vs int8, teacher vs student) on the same text — how far
 * their predictions drift, whether their explanations agree, and what the smaller one saves in
 * size and time.
 */
import type { CompareResult, ExplanationResult, ModelCard, Prediction } from '../protocol/engineApi';
import { alignBySpan, defaultTopK, rankAgreement } from '../engine/explain/agreement';
import { CommandContext, CommandDefinition } from './commandSpec';
import { EngineRunner } from './engineRunner';
import { CliError, ExitCode } from './exitCodes';
import { readInputText } from './inputText';
import { toJson } from './jsonOutput';
import { EXPLAIN_OPTIONS, explainParams, resolveModelPath, withEngine } from './modelCommands';
import { UsageError, choiceOption, intOption } from './parseArgs';
import { Style, forTerminal, formatBytes, formatDuration, percent, printable, signed, table, terminalSafe, truncate } from './terminalOutput';

/** How one model did on the text. */
export interface ComparedModel {
  path: string;
  name: string;
  variant: string;
  family: string;
  task: string;
  bytes: number;
  sha256: string;
  prediction: Prediction;
  explanation: ExplanationResult;
  /** Median of the timed predict runs (after one warm-up run), and the explain run, in ms. */
  timing: { predictMs: number; explainMs: number };
}

/** The numbers `compare` reports; also the `--json` document (with `text` and `models`). */
export interface Comparison {
  drift: {
    /** Largest |p_A − p_B| over the labels compared (NaN when the engine could not pair the models). */
    maxAbsProbabilityDelta: number;
    /** Labels compared (classes of a classifier; the tokens either top list names otherwise). */
    comparedLabels: number;
    sameTopLabel: boolean;
    topLabels: [string, string];
  };
  agreement: {
    /** False when the two explanations are not over the same words (different tokenizers, levels). */
    comparable: boolean;
    reason?: string;
    spearman?: number | null;
    kendallTauB?: number | null;
    topK?: { k: number; overlap: number };
    /** Both explained the same target (label and contrast). */
    sameTarget: boolean;
  };
  size: { bytesA: number; bytesB: number; ratio: number };
  /** Time of A divided by time of B: above 1, B is faster. */
  speed: { predictSpeedup: number; explainSpeedup: number };
}

/**
 * What the engine's own comparison adds (one engine holding both models on the same input): the
 * full-output divergence and, per layer and head, how differently the two models attend.
 */
export interface EngineComparison {
  /** KL(p_A ‖ p_B) in nats over the full output, when both have the same outputs. */
  klDivergence?: number;
  maxAbsLogitDiff?: number;
  /** Mean |A_B − A_A| per layer and head, for layers whose attention shapes match. */
  attention?: CompareResult['attention'];
  attentionNote?: string;
}

/** Picks the parts of the engine's CompareResult that the two separate runs cannot give. */
export function engineComparison(r: CompareResult): EngineComparison {
  return {
    klDivergence: r.drift.klDivergence,
    maxAbsLogitDiff: r.drift.maxAbsLogitDiff,
    attention: r.attention,
    attentionNote: r.attentionNote,
  };
}

const finiteOrNull = (v: number): number | null => (Number.isFinite(v) ? v : null);

/**
 * Compares two models' results on the same text. Pure; `k` is the top-k of the overlap. The prediction drift is
 * the engine's (both models held by one engine, over their full outputs); without it (models the engine cannot
 * pair) only the top labels are compared. The attribution agreement is the engine's one comparison of two
 * attributions (`rankAgreement` over words matched by span), the one Compare Methods uses.
 */
export function compareModels(a: ComparedModel, b: ComparedModel, k?: number, engineDrift?: CompareResult['drift']): Comparison {
  const topA = a.prediction.candidates[0]?.label ?? '';
  const topB = b.prediction.candidates[0]?.label ?? '';

  const fa = a.explanation.features;
  const fb = b.explanation.features;
  const sameTarget = a.explanation.target.label === b.explanation.target.label && a.explanation.target.contrastLabel === b.explanation.target.contrastLabel;
  let agreement: Comparison['agreement'];
  const aligned = alignBySpan(fa, fb);
  if (fa.length === 0 || aligned.a.length !== fa.length || aligned.a.length !== fb.length) {
    agreement = {
      comparable: false,
      reason: `The explanations are over different ${a.explanation.provenance.level}s (${fa.length} and ${fb.length}); the models split the text differently, so their attributions cannot be matched one to one.`,
      sameTarget,
    };
  } else {
    const r = rankAgreement(aligned.a, aligned.b, k === undefined ? defaultTopK(fa.length) : Math.min(fa.length, Math.max(1, k)));
    agreement = {
      comparable: true,
      spearman: finiteOrNull(r.spearman),
      kendallTauB: finiteOrNull(r.kendall),
      topK: { k: r.topK.k, overlap: r.topK.overlap },
      sameTarget,
    };
  }
  return {
    drift: {
      maxAbsProbabilityDelta: engineDrift?.maxAbsProbabilityDiff ?? Number.NaN,
      comparedLabels: engineDrift?.perLabel.length ?? 0,
      sameTopLabel: topA === topB,
      topLabels: [topA, topB],
    },
    agreement,
    size: { bytesA: a.bytes, bytesB: b.bytes, ratio: a.bytes > 0 ? b.bytes / a.bytes : Number.NaN },
    speed: {
      predictSpeedup: b.timing.predictMs > 0 ? a.timing.predictMs / b.timing.predictMs : Number.NaN,
      explainSpeedup: b.timing.explainMs > 0 ? a.timing.explainMs / b.timing.explainMs : Number.NaN,
    },
  };
}

function median(values: number[]): number {
  const s = [...values].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const PREDICT_RUNS = 3;

async function runOne(
  runner: EngineRunner,
  modelPath: string,
  variant: string | undefined,
  label: string,
  params: ReturnType<typeof explainParams>,
  text: string,
  fallbackTarget: boolean,
): Promise<{ card: ModelCard; model: ComparedModel; notes: string[] }> {
  const notes: string[] = [];
  const card = await runner.open(modelPath, variant, `Opening model ${label}`);
  // The first run pays for session creation; time the ones after it.
  const prediction = await runner.request('predict', { text, topK: 10 }, `Model ${label}: predicting`);
  const times: number[] = [];
  for (let i = 0; i < PREDICT_RUNS; i++) {
    const t0 = performance.now();
    await runner.request('predict', { text, topK: 10 }, `Model ${label}: timing`);
    times.push(performance.now() - t0);
  }
  let explanation: ExplanationResult | undefined;
  let t0 = performance.now();
  let reason: string | undefined;
  try {
    explanation = await runner.request('explain', { ...params, text }, `Model ${label}: explaining`);
    // A's one token (or class) read as several tokens by B is not the same question.
    if (fallbackTarget && explanation.target.tokenIds) reason = `it is ${explanation.target.tokenIds.length} tokens of model ${label}'s vocabulary`;
  } catch (err) {
    // Model B may not know model A's label (other classes, other vocabulary): explain its own prediction.
    if (!fallbackTarget || !(err instanceof CliError) || err.exitCode !== ExitCode.badInput) throw err;
    reason = err.message;
  }
  if (reason !== undefined || explanation === undefined) {
    notes.push(`Model ${label} cannot explain "${String(params.target)}" (${reason}); it explains its own prediction instead.`);
    t0 = performance.now();
    explanation = await runner.request('explain', { ...params, target: undefined, contrast: undefined, text }, `Model ${label}: explaining`);
  }
  const explainMs = performance.now() - t0;
  return {
    card,
    notes,
    model: {
      path: card.path,
      name: card.name,
      variant: card.variant,
      family: card.family,
      task: card.task,
      bytes: card.bytes,
      sha256: card.sha256,
      prediction,
      explanation,
      timing: { predictMs: median(times), explainMs },
    },
  };
}

function fmt(v: number | null | undefined, digits = 3): string {
  return v === null || v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(digits);
}

/** The comparison for a terminal. */
export function renderComparison(a: ComparedModel, b: ComparedModel, c: Comparison, notes: string[], style: Style, extra?: EngineComparison): string {
  const out: string[] = [];
  const head = (m: ComparedModel, tag: string) => `${style.bold(tag)} ${m.name} ${style.dim(`(${m.family}, ${m.variant}) ${m.path}`)}`;
  out.push(head(a, 'A'), head(b, 'B'), '');
  out.push(style.bold('Prediction'));
  const top = (m: ComparedModel) => m.prediction.candidates.slice(0, 3).map((x) => `${printable(x.label)} ${percent(x.probability)}`).join(', ');
  out.push(table([[style.dim('A'), top(a)], [style.dim('B'), top(b)]]));
  const same = c.drift.sameTopLabel ? style.green('same top label') : style.red(`different top labels (${c.drift.topLabels.join(' vs ')})`);
  out.push(`  ${same}; max |Δprobability| ${fmt(c.drift.maxAbsProbabilityDelta, 4)} over ${c.drift.comparedLabels} labels`);
  if (extra?.klDivergence !== undefined || extra?.maxAbsLogitDiff !== undefined) {
    const parts = [];
    if (extra.klDivergence !== undefined) parts.push(`KL(A‖B) ${fmt(extra.klDivergence, 5)} nats over the full output`);
    if (extra.maxAbsLogitDiff !== undefined) parts.push(`max |Δlogit| ${fmt(extra.maxAbsLogitDiff, 4)}`);
    out.push(`  ${parts.join('; ')}`);
  }
  out.push('');
  const ea = a.explanation;
  const eb = b.explanation;
  const target = (e: ExplanationResult) => (e.target.contrastLabel ? `${e.target.label} − ${e.target.contrastLabel}` : e.target.label);
  out.push(style.bold(`Attribution (${ea.provenance.method}, seed ${ea.provenance.seed}) toward ${printable(target(ea))}${c.agreement.sameTarget ? '' : ` (B: ${printable(target(eb))})`}`));
  if (c.agreement.comparable) {
    const maxA = Math.max(0, ...ea.features.map((f) => Math.abs(f.value)));
    const maxB = Math.max(0, ...eb.features.map((f) => Math.abs(f.value)));
    const rows = ea.features.map((f, i) => [
      style.attribution(printable(truncate(f.text, 24)), f.value, maxA),
      signed(f.value),
      style.attribution(signed(eb.features[i].value), eb.features[i].value, maxB),
    ]);
    out.push(table([[style.dim(ea.provenance.level), style.dim('A'), style.dim('B')], ...rows], new Set([1, 2])));
    const g = c.agreement;
    out.push(`  Spearman ${fmt(g.spearman)}, Kendall τ-b ${fmt(g.kendallTauB)}, top-${g.topK!.k} overlap ${fmt(g.topK!.overlap, 2)}`);
  } else {
    out.push(style.yellow(`  ${c.agreement.reason}`));
  }
  out.push('');
  out.push(`${style.bold('Size:')} A ${formatBytes(c.size.bytesA)}, B ${formatBytes(c.size.bytesB)} (B is ${fmt(c.size.ratio, 2)}× A)`);
  const speed = (s: number) => (!Number.isFinite(s) ? 'n/a' : s >= 1 ? `B ${s.toFixed(2)}× faster` : `B ${(1 / s).toFixed(2)}× slower`);
  out.push(
    `${style.bold('Speed:')} predict A ${formatDuration(a.timing.predictMs)}, B ${formatDuration(b.timing.predictMs)} (${speed(c.speed.predictSpeedup)}); ` +
      `explain A ${formatDuration(a.timing.explainMs)}, B ${formatDuration(b.timing.explainMs)} (${speed(c.speed.explainSpeedup)})`,
  );
  if (extra?.attention?.length) {
    out.push('');
    out.push(style.bold('Attention difference per head (mean |A_B − A_A|)'));
    const heads = Math.max(...extra.attention.map((x) => x.meanAbsDiff.length));
    const rows = [[style.dim('layer'), ...Array.from({ length: heads }, (_x, h) => style.dim(`H${h}`))]];
    for (const x of extra.attention) rows.push([`L${x.layer} ${x.kind}`, ...x.meanAbsDiff.map((v) => fmt(v, 4))]);
    out.push(table(rows, new Set(Array.from({ length: heads }, (_x, h) => h + 1))));
  }
  if (extra?.attentionNote) out.push(style.dim(extra.attentionNote));
  for (const n of notes) out.push(style.yellow(`note: ${n}`));
  return out.join('\n');
}

/** `onnx-lens compare --model A --model B`: both models on one text, side by side. */
export const compareCommand: CommandDefinition = {
  name: 'compare',
  summary: 'Compare two models on one text: prediction drift, attribution agreement, size and speed.',
  usage: ['compare --model A --model B [--variant V [--variant V2]] [--method NAME] [--budget N] [--seed S] [--json] TEXT'],
  options: {
    model: { type: 'string', multiple: true, value: 'DIR|FILE', help: 'Give twice: model A, then model B (the same folder twice with two --variant values compares its exports).' },
    variant: { type: 'string', multiple: true, value: 'fp32|quantized', help: 'Once for both models, or twice (A, then B).' },
    json: { type: 'boolean', help: 'Write the comparison as JSON on standard output.' },
    file: { type: 'string', value: 'F', help: 'Read the text from file F (- for standard input).' },
    'top-k': { type: 'string', value: 'K', help: 'Top-k of the overlap measure (default min(5, half the words)).' },
    ...EXPLAIN_OPTIONS,
  },
  details:
    'Both models get the same explanation settings. Model B explains the target model A explained (unless --target is given),\n' +
    'so the attributions answer the same question. Speed is the median of three predict runs after a warm-up, and one explain run.',
  async run(args, ctx: CommandContext) {
    const models = (args.options.model as string[] | undefined) ?? [];
    if (models.length !== 2) throw new UsageError(`compare needs exactly two models: --model A --model B (got ${models.length}).`, 'compare');
    const variants = ((args.options.variant as string[] | undefined) ?? []).map((v) => choiceOption(v, 'variant', ['fp32', 'quantized'] as const, 'compare'));
    if (variants.length > 2) throw new UsageError('--variant may be given at most twice (A, then B).', 'compare');
    const variantA = variants[0];
    const variantB = variants.length === 2 ? variants[1] : variants[0];
    const k = intOption(args.options['top-k'], 'top-k', 1, 'compare');
    const params = explainParams(args, 'compare');
    const pathA = resolveModelPath(models[0], ctx);
    const pathB = resolveModelPath(models[1], ctx);
    const text = await readInputText({ positionals: args.positionals, file: args.options.file as string | undefined, stdin: ctx.stdin, warn: (m) => ctx.stderr.write(`onnx-lens: warning: ${terminalSafe(m)}\n`) }, 'compare');

    // The engine's comparison holds both models in one engine: it adds the full-output divergence and the
    // per-head attention difference. Models it cannot pair (other tasks) still get the comparison below.
    let extra: EngineComparison | undefined;
    let drift: CompareResult['drift'] | undefined;
    const extraNotes: string[] = [];
    const a = await withEngine(ctx, async (r) => {
      const one = await runOne(r, pathA, variantA, 'A', params, text, false);
      try {
        const other = pathB === pathA && variantB !== undefined && variantB !== one.card.variant ? { otherVariant: variantB } : { otherPath: pathB, otherVariant: variantB };
        const engineResult = await r.request('compareModels', { text, ...other, explain: false, timingRuns: 1 }, 'Comparing attention');
        extra = engineComparison(engineResult);
        drift = engineResult.drift;
      } catch (err) {
        if (ctx.signal.aborted || !(err instanceof CliError) || err.exitCode === ExitCode.interrupted) throw err;
        extraNotes.push(`No attention or full-output comparison: ${err.message}`);
      }
      return one;
    });
    const paramsB = params.target === undefined ? { ...params, target: a.model.explanation.target.label, contrast: a.model.explanation.target.contrastLabel } : params;
    const b = await withEngine(ctx, (r) => runOne(r, pathB, variantB, 'B', paramsB, text, params.target === undefined));
    const comparison = compareModels(a.model, b.model, k, drift);
    const notes = [...a.notes, ...b.notes, ...extraNotes];
    if (args.options.json) {
      ctx.stdout.write(toJson({ text, models: [a.model, b.model], ...comparison, ...(extra ?? {}), notes }) + '\n');
    } else {
      ctx.stdout.write(renderComparison(forTerminal(a.model), forTerminal(b.model), forTerminal(comparison), forTerminal(notes), ctx.style, forTerminal(extra)) + '\n');
    }
    return ExitCode.ok;
  },
};
