/**
 * Explanations you can trust: how fast the explanation methods are next to the model itself, how Partition
 * SHAP's cost grows with the text, and how close the sampling methods get to exact Shapley values at a budget.
 * The comparison with the shap and lime libraries on the same model is bench/shap_lime_side_by_side.py.
 */
import { spearman } from '../src/engine/explain/agreement';
import type { MethodName, ValueFunction } from '../src/engine/explain/estimate';
import { explainFinal } from '../src/engine/explain/explainer';
import { buildTextHierarchy } from '../src/engine/explain/textHierarchy';
import type { LoadedModel, PreparedInput } from '../src/engine/model/loadedModel';
import type { EngineService } from '../src/engine/process/engineService';
import type { BatchedEvaluator } from '../src/engine/run/batchedEvaluator';
import { coalitionRow, rowKey, type InputRow } from '../src/engine/run/inputVariants';
import { scalarExtractor } from '../src/engine/run/outputReaders';
import type { ExplanationResult } from '../src/protocol/engineApi';
import { bertBaseModel, type BenchModel, collect, cpuNow, describe, fmt, log, mean, median, now, PlainSession, printTable, sentences, smallModel, textOfWords } from './common';
import { openService, QUIET } from '../test/support/engineService';

/** Most rows one floor batch holds (bounded so [batch, seq, 4·hidden] activations stay small). */
const FLOOR_BATCH_ROWS = 512;

/** One open model with what the benchmark needs beside it. */
class Subject {
  private recording: Map<string, InputRow> | undefined;
  private evaluator!: BatchedEvaluator;

  private constructor(
    readonly bench: BenchModel,
    readonly service: EngineService,
    readonly model: LoadedModel,
    readonly plain: PlainSession,
    readonly positive: number,
  ) {}

  static async open(bench: BenchModel): Promise<Subject> {
    const service = await openService({ modelPath: bench.folder });
    const model = service.current!;
    const labels = model.card.labels ?? [];
    const pos = labels.findIndex((l) => /^pos/i.test(l));
    const subject = new Subject(bench, service, model, await PlainSession.open(bench.onnx), pos >= 0 ? pos : 1);
    subject.hook(await model.prepare('hook'));
    return subject;
  }

  get padId(): number {
    return this.model.tokenizer.special.pad ?? 0;
  }

  get positiveLabel(): string {
    return this.model.card.labels?.[this.positive] ?? String(this.positive);
  }

  /** Records the rows that reach the evaluator (classifiers share one evaluator per model). */
  private hook(input: PreparedInput): void {
    this.evaluator = this.model.evaluatorFor(input);
    const original = this.evaluator.evaluate.bind(this.evaluator);
    this.evaluator.evaluate = (async (rows: InputRow[], extractor: never, control?: never) => {
      if (this.recording) for (const r of rows) this.recording.set(rowKey(r), r);
      return original(rows, extractor, control);
    }) as BatchedEvaluator['evaluate'];
  }

  /** One explain request, timed, from a cold evaluator cache: wall and CPU time, rows the model ran, those rows. */
  async explain(
    text: string,
    method: MethodName,
    budget: number,
    seed = 0,
  ): Promise<{ ms: number; cpu: number; rowsRun: number; batches: number; rows: InputRow[]; result: ExplanationResult }> {
    this.evaluator.clearCache();
    this.recording = new Map();
    const before = this.evaluator.stats.rowsRun;
    const batchesBefore = this.evaluator.stats.batches;
    const c = cpuNow();
    const t = now();
    const result = await this.service.handle('explain', { text, method, budget, seed, target: this.positiveLabel }, QUIET);
    const ms = now() - t;
    const cpu = cpuNow() - c;
    const rows = [...this.recording.values()];
    this.recording = undefined;
    return { ms, cpu, rowsRun: this.evaluator.stats.rowsRun - before, batches: this.evaluator.stats.batches - batchesBefore, rows, result };
  }

  /**
   * Per-row wall and CPU milliseconds of the plain session on these rows in maximal padded batches (at most
   * FLOOR_BATCH_ROWS a batch; when `cap` is given, that many of the rows, spread over them, are timed).
   */
  async floorPerRow(rows: InputRow[], cap = Infinity): Promise<{ ms: number; cpu: number }> {
    const sample = rows.length > cap ? spread(rows, cap) : rows;
    const sorted = [...sample].sort((a, b) => b.ids.length - a.ids.length);
    const feeds: ReturnType<PlainSession['feeds']>[] = [];
    for (let i = 0; i < sorted.length; i += FLOOR_BATCH_ROWS) feeds.push(this.plain.feeds(sorted.slice(i, i + FLOOR_BATCH_ROWS), this.padId));
    const c = cpuNow();
    const t = now();
    for (const f of feeds) await this.plain.run(f);
    return { ms: (now() - t) / sample.length, cpu: (cpuNow() - c) / sample.length };
  }

  /** The value function explainText builds (word features, mask removal, the POSITIVE logit), through the evaluator. */
  async valueFunction(text: string): Promise<{ n: number; f: ValueFunction; input: PreparedInput; hierarchy: ReturnType<typeof buildTextHierarchy> }> {
    const input = await this.model.prepare(text);
    const features = input.encoding.words.filter((w) => w.tokenIndices.length > 0);
    const base = input.baseInput(new Set());
    const extractor = scalarExtractor(input.readSpec(undefined), this.positive);
    const removal = this.model.tokenizer.special.mask !== undefined ? 'mask' : 'delete';
    const f: ValueFunction = async (coalitions) => {
      const rows = coalitions.map((c) => coalitionRow(base, features, c, removal));
      return Float64Array.from((await this.evaluator.evaluate(rows, extractor)).values);
    };
    return { n: features.length, f, input, hierarchy: buildTextHierarchy(features, input.text) };
  }

  clearCache(): void {
    this.evaluator.clearCache();
  }

  async close(): Promise<void> {
    await this.plain.release();
    this.service.dispose();
  }
}

/** `k` items spread evenly over `xs`. */
function spread<T>(xs: T[], k: number): T[] {
  const out: T[] = [];
  for (let i = 0; i < k; i++) out.push(xs[Math.floor((i * xs.length) / k)]);
  return out;
}

/** All 2^n values of f, indexed by the bit mask of present features (bit j = feature j). */
async function valueTable(n: number, f: ValueFunction): Promise<Float64Array> {
  const size = 2 ** n;
  const table = new Float64Array(size);
  const chunk = 2048;
  for (let from = 0; from < size; from += chunk) {
    const coalitions: Uint8Array[] = [];
    for (let m = from; m < Math.min(size, from + chunk); m++) coalitions.push(Uint8Array.from({ length: n }, (_, j) => (m >> j) & 1));
    table.set(await f(coalitions), from);
  }
  return table;
}

function lookup(table: Float64Array): ValueFunction {
  return async (coalitions) =>
    Float64Array.from(coalitions, (c) => {
      let m = 0;
      for (let j = 0; j < c.length; j++) if (c[j]) m |= 1 << j;
      return table[m];
    });
}

function relativeRms(estimate: ArrayLike<number>, exact: ArrayLike<number>): number {
  let se = 0;
  let sx = 0;
  for (let j = 0; j < exact.length; j++) {
    se += (estimate[j] - exact[j]) ** 2;
    sx += exact[j] ** 2;
  }
  return Math.sqrt(se / Math.max(sx, 1e-30));
}

/* ------------------------------------------------------------ sections */

const WORDS = [8, 16, 32, 64];

/** Throughput of partition-shap and kernel-shap, and wall time over the model's batched floor. */
async function throughput(
  subject: Subject,
  budgets: Record<'partition-shap' | 'kernel-shap', number>,
  repeats: number,
  floorCap: number,
  rows: (string | number)[][],
): Promise<void> {
  await subject.explain(textOfWords(4, 5), 'partition-shap', 16); // creates the session
  for (const words of WORDS) {
    const text = textOfWords(words, 11);
    for (const method of ['partition-shap', 'kernel-shap'] as const) {
      const budget = budgets[method];
      const walls: number[] = [];
      const ratios: number[] = [];
      const cpuRatios: number[] = [];
      const floors: number[] = [];
      let run: Awaited<ReturnType<Subject['explain']>> | undefined;
      let floor: { ms: number; cpu: number } | undefined;
      for (let r = 0; r < repeats; r++) {
        if (r % 2 === 0 || !run) {
          run = await subject.explain(text, method, budget);
          floor = await subject.floorPerRow(run.rows, floorCap);
        } else {
          floor = await subject.floorPerRow(run.rows, floorCap);
          run = await subject.explain(text, method, budget);
        }
        walls.push(run.ms);
        floors.push(floor.ms);
        ratios.push(run.ms / (run.rowsRun * floor.ms));
        cpuRatios.push(run.cpu / (run.rowsRun * floor.cpu));
      }
      const wall = median(walls);
      const res = run!.result;
      rows.push([
        subject.bench.name,
        res.features.length,
        res.encoded.tokens.length,
        method,
        res.provenance.budget,
        res.evaluations,
        run!.rowsRun,
        run!.batches,
        fmt(wall / 1000, 2),
        fmt((run!.rowsRun / wall) * 1000, 0),
        fmt(median(floors), 2),
        fmt(median(ratios), 2),
        fmt(median(cpuRatios), 2),
      ]);
      log(`${subject.bench.name}: ${words} words ${method}: ${run!.rowsRun} rows, ${fmt(wall / 1000)} s, ratio ${fmt(median(ratios))} (CPU ${fmt(median(cpuRatios))})`);
      collect();
    }
  }
}

/** Partition SHAP's evaluations against the number of words, at a fixed budget and run to convergence. */
async function partitionCost(subject: Subject, rows: (string | number)[][]): Promise<void> {
  const seen = new Set<number>();
  for (const words of WORDS) {
    const { n, f, hierarchy } = await subject.valueFunction(textOfWords(words, 23));
    if (seen.has(n)) continue; // cut at the model's position limit: same as the row before
    seen.add(n);
    const fixed = await explainFinal('partition-shap', n, f, { budget: 500, seed: 0, hierarchy });
    subject.clearCache();
    const t = now();
    const full = await explainFinal('partition-shap', n, f, { budget: 100_000, seed: 0, hierarchy });
    const ms = now() - t;
    subject.clearCache();
    const kernelMin = 2 * n + 2;
    rows.push([n, fixed.evaluations, fixed.error?.max !== undefined ? fmt(fixed.error.max, 3) : '–', full.evaluations, fmt(full.evaluations / (n * n), 2), fmt(full.evaluations / n, 1), kernelMin, fmt(ms / 1000, 2)]);
    log(`partition cost: ${n} words: ${fixed.evaluations} at 500, ${full.evaluations} at convergence`);
  }
}

/** Error to exact Shapley at 12 words vs budget, for the sampling methods. */
async function errorVsBudget(subject: Subject, rows: (string | number)[][]): Promise<void> {
  const budgets = [64, 128, 256, 512, 1024];
  const methods: MethodName[] = ['kernel-shap', 'partition-shap', 'lime'];
  const seeds = [0, 1, 2];
  const texts = [0, 1, 2, 3].map((s) => textOfWords(12, 100 + s));
  const errors = new Map<string, number[]>();
  for (const text of texts) {
    const { n, f, hierarchy } = await subject.valueFunction(text);
    const table = await valueTable(n, f);
    subject.clearCache();
    const g = lookup(table);
    const exact = (await explainFinal('exact-shapley', n, g, { budget: 2 ** n, seed: 0 })).values;
    for (const method of methods) {
      for (const budget of budgets) {
        for (const seed of seeds) {
          const e = await explainFinal(method, n, g, { budget, seed, hierarchy });
          const key = `${method}@${budget}`;
          errors.set(key, [...(errors.get(key) ?? []), relativeRms(e.values, exact)]);
        }
      }
    }
  }
  for (const method of methods) rows.push([method, ...budgets.map((b) => fmt(mean(errors.get(`${method}@${b}`)!), 3))]);
}

/** The review sentences of at most 12 words. */
function shortSentences(subject: Subject): string[] {
  return sentences()
    .map((s) => s.text)
    .filter((t) => subject.model.tokenizer.encode(t).words.length <= 12)
    .slice(0, 7);
}

/** Spearman of Partition SHAP (budget 500) and Kernel SHAP (budget 512) with exact Shapley values. */
async function agreementWithExact(subject: Subject): Promise<(string | number)[][]> {
  const rhoPartition: number[] = [];
  const rhoKernel: number[] = [];
  const rhoOwen: number[] = [];
  for (const text of shortSentences(subject)) {
    const { n, f, hierarchy } = await subject.valueFunction(text);
    const exact = (await explainFinal('exact-shapley', n, f, { budget: 2 ** n, seed: 0 })).values;
    const p = await subject.explain(text, 'partition-shap', 500);
    const k = await subject.explain(text, 'kernel-shap', 512);
    // Owen values over the text hierarchy, as Partition SHAP gives them when the budget does not cover every coalition.
    const owen = (await explainFinal('partition-shap', n, f, { budget: 100_000, seed: 0, hierarchy })).values;
    rhoPartition.push(spearman(p.result.features.map((x) => x.value), exact));
    rhoKernel.push(spearman(k.result.features.map((x) => x.value), exact));
    rhoOwen.push(relativeRms(owen, exact));
    subject.clearCache();
  }
  const stat = (xs: number[]) => (xs.length ? [fmt(median(xs), 3), fmt(Math.min(...xs), 3), fmt(Math.max(...xs), 3)] : ['–', '–', '–']);
  return [
    ['Spearman, partition-shap at budget 500 (Shapley values up to 8 words, Owen values beyond)', rhoPartition.length, ...stat(rhoPartition)],
    ['Spearman, kernel-shap at budget 512', rhoKernel.length, ...stat(rhoKernel)],
    ['relative RMS, Owen values of the text hierarchy vs Shapley values', rhoOwen.length, ...stat(rhoOwen)],
  ];
}

/* ----------------------------------------------------------------- run */

export async function runExplanations(options: { large?: boolean } = {}): Promise<void> {
  const small = smallModel();
  log(`explanations: small model ${small.name}${small.isDemo ? '' : ' (the demo model is not there)'}`);
  const subject = await Subject.open(small);
  const throughputRows: (string | number)[][] = [];
  await throughput(subject, { 'partition-shap': 500, 'kernel-shap': 512 }, 5, Infinity, throughputRows);
  const costRows: (string | number)[][] = [];
  await partitionCost(subject, costRows);
  const errorRows: (string | number)[][] = [];
  await errorVsBudget(subject, errorRows);
  const agreement = await agreementWithExact(subject);
  const smallDescription = `${describe(small)}, model SHA-256 ${subject.model.card.sha256.slice(0, 12)}…`;
  await subject.close();
  collect();

  const big = options.large === false ? undefined : bertBaseModel();
  if (big) {
    log(`explanations: ${big.name}`);
    const bigSubject = await Subject.open(big);
    await throughput(bigSubject, { 'partition-shap': 64, 'kernel-shap': 64 }, 1, 64, throughputRows);
    await bigSubject.close();
  }

  printTable(
    'Explanations — evaluations per second and wall time over the model floor',
    ['model', 'words', 'tokens', 'method', 'budget', 'explainer rows', 'rows run', 'model calls', 'wall s', 'rows/s', 'floor ms/row', 'wall ÷ (rows × floor)', 'same in CPU time'],
    throughputRows,
    [
      `Small model: ${small.name} (${smallDescription})${big ? `; large: BERT-base size (${describe(big)})` : ''}.`,
      'One `explain` request in process (prediction, explanation and faithfulness scores), from a cold evaluator cache, explaining the POSITIVE logit, words removed by [MASK]. Texts: review sentences run together, punctuation dropped, cut to the word count.',
      '`explainer rows`: distinct rows the method used; `rows run`: every row the model ran for the request (prediction and faithfulness curves included); `model calls`: the evaluator\'s `session.run` calls for them (rounds of the method and of the faithfulness curves are separate calls).',
      '`floor`: the same distinct rows through a plain onnxruntime session in maximal padded batches (up to 512 rows a batch), per row. The ratio is the request\'s wall time over rows run × floor: 1.0 would be the model alone (aim ≤ 1.2).',
      'Small model: default budgets (partition-shap 500, kernel-shap 512), median of 5 alternating repeats. BERT-base size: budget 64 (raised to 2n + 2: 66 at 32 words, 130 at 64), one measured run, its floor timed on 64 of its rows (one batch; with [MASK] removal every row has the same length, so the per-row time is the same).',
      '`same in CPU time`: the ratio of this process\'s CPU time (all threads) on both sides, a check that moves less when other processes compete for the cores; the runtime uses both cores for the model while the explainer\'s own work is on one thread, so it weighs that work about half as much as the wall-time ratio.',
      throughputRows.some((r) => Number(r[1]) < WORDS[Math.floor(throughputRows.indexOf(r) / 2) % WORDS.length])
        ? 'Where `words` is below 8/16/32/64, the text was cut at the model\'s position limit (the fixture reads 64 tokens, and its trimmed vocabulary splits most words into several tokens).'
        : '',
    ].filter((n) => n),
  );
  printTable(
    `Explanations — Partition SHAP cost vs words (${small.name})`,
    ['words n', 'evaluations at budget 500', 'convergence estimate at 500', 'evaluations at convergence', '÷ n²', '÷ n', 'kernel-shap minimum (2n + 2)', 'seconds to converge'],
    costRows,
    ['Run to convergence with budget 100,000 (it stops once every group is expanded). Text hierarchy (sentences, clauses, balanced binary splits) as in the explain request.'],
  );
  printTable(
    `Explanations — error to exact Shapley at 12 words vs budget (${small.name})`,
    ['method', 'budget 64', '128', '256', '512', '1024'],
    errorRows,
    [
      'Error: RMS over the 12 words of (estimate − exact) ÷ RMS of the exact values; mean over seeds 0, 1, 2 and 4 texts of 12 words. Exact: all 4,096 coalitions.',
      'The model was evaluated once on all 4,096 coalitions of each text; the methods then read those values (same numbers as running the model, without its cost).',
      'LIME\'s numbers are its surrogate weights, which estimate something other than Shapley values; they are shown for how far it lands from them.',
    ],
  );
  printTable(
    `Explanations — agreement with exact Shapley values (review sentences of ≤ 12 words, ${small.name})`,
    ['figure', 'sentences', 'median', 'minimum', 'maximum'],
    agreement,
    [
      'Exact Shapley values by enumerating all 2^n coalitions of the same value function. At budget 500 a sentence of ≤ 8 words gets a flat hierarchy (all coalitions fit), so Partition SHAP returns Shapley values; longer ones get Owen values of the text hierarchy, whose distance from the Shapley values is the last row.',
      'The comparison with the shap and lime libraries on the same model is `bench/shap_lime_side_by_side.py` (it needs shap and lime installed).',
    ],
  );
}
