import type { DatasetExample, DatasetParams, DatasetResult, DatasetWord, ResolvedTarget } from '../../protocol/engineApi';
import { defaultRemoval } from '../explain/explainText';
import type { LoadedModel, PreparedInput } from '../model/loadedModel';
import { BadInputError } from '../process/engineErrors';
import type { RequestContext } from '../process/requestContext';
import { type RowExtractor } from '../run/batchedEvaluator';
import { CancelledError } from '../run/cancellation';
import { coalitionRow, unperturbedRow, type InputRow } from '../run/inputVariants';
import { readPosition, rowLogits, softmax, type ReadSpec } from '../run/outputReaders';
import { detectFormat, readDataset, type ByteCounter } from './datasetReader';
import { wordAttributions, wordFeatures, type PerturbationMethod } from './wordAttributions';

const DEFAULT_BATCH = 64;
const DEFAULT_MAX_EXPLAINED = 200;
const DEFAULT_LIST = 20;
const DEFAULT_MAX_MISCLASSIFIED = 100;
/** Influential words listed per class. */
const WORDS_PER_CLASS = 25;
/** Skipped lines listed (all are counted). */
const MAX_SKIPPED_LISTED = 50;

/** One example in flight: its place in the file, tokens and the row the model reads. */
interface Pending {
  line: number;
  text: string;
  label?: string;
  input: PreparedInput;
  row: InputRow;
  spec: ReadSpec;
}

/** What is kept of one row's output: the top class/token, its probability, and (classifiers) all logits. */
interface Compact {
  top: number;
  probability: number;
  logits?: Float32Array;
}

/** Keeps what a dataset run needs of each row, never a vocabulary-sized vector for language models. */
function compactExtractor(specs: Map<InputRow, ReadSpec>, keepLogits: boolean): RowExtractor<Compact> {
  return {
    key: `dataset:${keepLogits ? 'logits' : 'top'}`,
    readPosition: (row) => readPosition(specs.get(row) as ReadSpec, row),
    extract(outputs, b, row) {
      const spec = specs.get(row) as ReadSpec;
      const l = rowLogits(outputs, b, spec, row);
      let top = 0;
      for (let i = 1; i < l.length; i++) if (l[i] > l[top]) top = i;
      let sum = 0;
      for (let i = 0; i < l.length; i++) sum += Math.exp(l[i] - l[top]);
      return { top, probability: 1 / sum, logits: keepLogits ? Float32Array.from(l) : undefined };
    },
  };
}

/** Matches a label from the file to a class: by name (case-insensitive) or by index. */
export function matchLabel(label: string, classes: string[]): number | undefined {
  const t = label.trim();
  const byName = classes.findIndex((c) => c.toLowerCase() === t.toLowerCase());
  if (byName >= 0) return byName;
  if (/^\d+$/.test(t) && Number(t) < classes.length) return Number(t);
  return undefined;
}

/** Bounded list of the k lowest-probability examples, kept sorted. */
function keepLeastConfident(list: DatasetExample[], e: DatasetExample, k: number): void {
  if (list.length >= k && e.probability >= list[list.length - 1].probability) return;
  let at = list.length;
  while (at > 0 && list[at - 1].probability > e.probability) at--;
  list.splice(at, 0, e);
  if (list.length > k) list.pop();
}

/**
 * Runs the model over a .jsonl, .csv, .tsv or .txt file, streamed in batches through the batched evaluator:
 * accuracy and a confusion table when labelled, the most influential words per predicted class (mean
 * |attribution| over at most `maxExplained` examples, occlusion by default), the least confident and the
 * misclassified examples with their line numbers, and examples per second. Cancellable between batches;
 * memory stays bounded by the batch, the lists and the word table, whatever the file's size.
 */
export async function datasetRun(model: LoadedModel, params: DatasetParams, ctx: RequestContext): Promise<DatasetResult> {
  const task = model.card.task;
  if (task !== 'sequence-classification' && task !== 'masked-lm' && task !== 'causal-lm') {
    throw new BadInputError(`Dataset runs work with classifiers and fill-mask and causal models; this model's task is "${task}".`);
  }
  const format = params.format ?? detectFormat(params.path);
  const method = params.method ?? 'occlusion';
  const classifier = task === 'sequence-classification';
  const classes = classifier ? (model.card.labels ?? []) : [];
  const label = (id: number) => (classifier ? (classes[id] ?? `LABEL_${id}`) : model.tokenizer.displayToken(id));
  const batchSize = Math.max(1, Math.min(1024, Math.trunc(params.batchSize ?? DEFAULT_BATCH)));
  const maxExplained = Math.max(0, params.maxExplained ?? DEFAULT_MAX_EXPLAINED);
  const listSize = Math.max(0, params.listSize ?? DEFAULT_LIST);
  const maxMisclassified = Math.max(0, params.maxMisclassified ?? DEFAULT_MAX_MISCLASSIFIED);
  const limit = params.limit !== undefined && params.limit > 0 ? params.limit : Infinity;
  const removal = defaultRemoval(model);
  const seed = params.seed ?? 0;

  const started = process.hrtime.bigint();
  const counter: ByteCounter = { bytesRead: 0, size: 0 };
  const skipped: { line: number; reason: string }[] = [];
  let skippedTotal = 0;
  let examples = 0;
  let labelled = 0;
  let correct = 0;
  let explained = 0;
  let evaluations = 0;
  const n = classes.length;
  const confusion = classifier ? Array.from({ length: n }, () => new Array<number>(n).fill(0)) : undefined;
  const unknownLabels: Record<string, number> = {};
  const predictedCounts: Record<string, number> = {};
  const leastConfident: DatasetExample[] = [];
  const misclassified: DatasetExample[] = [];
  let misclassifiedTotal = 0;
  /** Per predicted class: word (lower case) → sums of |attribution| and attribution, and count. */
  const wordStats = new Map<string, Map<string, { abs: number; sum: number; count: number }>>();

  const addWords = (cls: string, words: { text: string }[], values: ArrayLike<number>) => {
    let table = wordStats.get(cls);
    if (!table) wordStats.set(cls, (table = new Map()));
    words.forEach((w, j) => {
      const key = w.text.toLowerCase();
      const s = table!.get(key) ?? { abs: 0, sum: 0, count: 0 };
      s.abs += Math.abs(values[j]);
      s.sum += values[j];
      s.count++;
      table!.set(key, s);
    });
  };

  const processBatch = async (batch: Pending[]) => {
    if (batch.length === 0) return;
    await new Promise((resolve) => setImmediate(resolve));
    if (ctx.isCancelled()) throw new CancelledError();
    const specs = new Map<InputRow, ReadSpec>(batch.map((p) => [p.row, p.spec]));
    const evaluator = model.evaluatorFor(batch[0].input);
    const r = await evaluator.evaluate(batch.map((p) => p.row), compactExtractor(specs, false), { isCancelled: ctx.isCancelled });
    evaluations += r.distinctRuns;
    const toExplain: { p: Pending; top: number }[] = [];
    batch.forEach((p, i) => {
      const out = r.values[i];
      const predicted = label(out.top);
      examples++;
      predictedCounts[predicted] = (predictedCounts[predicted] ?? 0) + 1;
      const example: DatasetExample = { line: p.line, text: p.text, label: p.label, predicted, probability: out.probability };
      if (listSize > 0) keepLeastConfident(leastConfident, example, listSize);
      if (p.label !== undefined && p.label.trim() !== '') {
        const truth = classifier ? matchLabel(p.label, classes) : undefined;
        const hit = classifier ? truth === out.top : p.label.trim().toLowerCase() === predicted.trim().toLowerCase();
        if (classifier && truth === undefined) unknownLabels[p.label] = (unknownLabels[p.label] ?? 0) + 1;
        else {
          labelled++;
          if (hit) correct++;
          else {
            misclassifiedTotal++;
            if (misclassified.length < maxMisclassified) misclassified.push(example);
          }
          if (confusion && truth !== undefined) confusion[truth][out.top]++;
        }
      }
      if (method !== 'none' && explained + toExplain.length < maxExplained) toExplain.push({ p, top: out.top });
    });
    if (toExplain.length === 0) return;
    if (method === 'occlusion' && classifier) {
      // Leave-one-word-out for every example of the batch in one evaluator call (φ_j = f(x) − f(x without j)).
      const rows: InputRow[] = [];
      const plan = toExplain.map(({ p, top }) => {
        const words = wordFeatures(p.input, new Set());
        const base = p.input.baseInput(new Set());
        const first = rows.length;
        for (let j = 0; j < words.length; j++) {
          const leaveOneOut = new Uint8Array(words.length).fill(1);
          leaveOneOut[j] = 0;
          const row = coalitionRow(base, words, leaveOneOut, removal);
          specs.set(row, p.spec);
          rows.push(row);
        }
        return { p, top, words, first };
      });
      const full = await evaluator.evaluate(toExplain.map(({ p }) => p.row), compactExtractor(specs, true), { isCancelled: ctx.isCancelled });
      const out = await evaluator.evaluate(rows, compactExtractor(specs, true), { isCancelled: ctx.isCancelled });
      evaluations += full.distinctRuns + out.distinctRuns;
      plan.forEach(({ top, words, first }, i) => {
        const f = (full.values[i].logits as Float32Array)[top];
        const values = words.map((_, j) => f - (out.values[first + j].logits as Float32Array)[top]);
        addWords(label(top), words, values);
      });
    } else {
      for (const { p, top } of toExplain) {
        const target: ResolvedTarget = { kind: classifier ? 'class' : task === 'masked-lm' ? 'masked-token' : 'next-token', id: top, label: label(top), description: '', position: p.spec.maskTokenIndex };
        const a = await wordAttributions(model, p.input, target, { method: method as PerturbationMethod, budget: params.budget, seed, isCancelled: ctx.isCancelled });
        evaluations += a.evaluations;
        addWords(label(top), a.words, a.values);
      }
    }
    explained += toExplain.length;
  };

  /** The result over the examples counted so far; `partial` when the file has not been read to its end. */
  const resultSoFar = (partial?: DatasetResult['partial']): DatasetResult => {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    let words: Record<string, DatasetWord[]> | undefined;
    if (method !== 'none') {
      words = {};
      for (const [cls, table] of wordStats) {
        // Words seen once say little about a whole file; prefer words seen at least twice when there are enough.
        const all = [...table.entries()].map(([word, s]) => ({ word, meanAbs: s.abs / s.count, mean: s.sum / s.count, count: s.count }));
        const repeated = all.filter((w) => w.count >= 2);
        const pool = repeated.length >= WORDS_PER_CLASS ? repeated : all;
        words[cls] = pool.sort((a, b) => b.meanAbs - a.meanAbs || b.count - a.count || (a.word < b.word ? -1 : 1)).slice(0, WORDS_PER_CLASS);
      }
    }
    const listedSkips = [...skipped];
    if (skippedTotal > skipped.length) listedSkips.push({ line: 0, reason: `${skippedTotal - skipped.length} more lines skipped` });
    return {
      path: params.path,
      format,
      examples,
      skipped: listedSkips,
      labelled,
      accuracy: labelled > 0 ? correct / labelled : undefined,
      correct: labelled > 0 ? correct : undefined,
      labels: classes,
      confusion: labelled > 0 ? confusion?.map((row) => [...row]) : undefined,
      unknownLabels: Object.keys(unknownLabels).length ? { ...unknownLabels } : undefined,
      predictedCounts: { ...predictedCounts },
      words,
      explained,
      leastConfident: [...leastConfident],
      misclassified: [...misclassified],
      misclassifiedTotal,
      seconds,
      examplesPerSecond: examples / Math.max(seconds, 1e-9),
      method,
      evaluations,
      ...(partial ? { partial } : {}),
    };
  };
  const fractionRead = () => (counter.size > 0 ? Math.min(1, counter.bytesRead / counter.size) : 0);
  const partialSoFar = (): DatasetResult =>
    resultSoFar({
      reason: `Stopped after ${examples.toLocaleString('en-US')} examples (about ${Math.floor(fractionRead() * 100)}% of the file read); every figure covers those examples only.`,
      fractionRead: fractionRead(),
    });

  let batch: Pending[] = [];
  let lastProgress = 0;
  for await (const rec of readDataset(params.path, { format, textColumn: params.textColumn, labelColumn: params.labelColumn, header: params.header }, counter)) {
    if (examples + batch.length >= limit) break;
    if ('skip' in rec) {
      skippedTotal++;
      if (skipped.length < MAX_SKIPPED_LISTED) skipped.push({ line: rec.line, reason: rec.skip });
      continue;
    }
    let input: PreparedInput;
    try {
      input = await model.prepare(rec.text);
    } catch (e) {
      skippedTotal++;
      if (skipped.length < MAX_SKIPPED_LISTED) skipped.push({ line: rec.line, reason: e instanceof Error ? e.message : String(e) });
      continue;
    }
    if (task === 'masked-lm' && !input.encoding.ids.includes(model.tokenizer.special.mask ?? -1)) {
      skippedTotal++;
      if (skipped.length < MAX_SKIPPED_LISTED) skipped.push({ line: rec.line, reason: 'no mask token in the text' });
      continue;
    }
    const base = input.baseInput(new Set());
    const row = unperturbedRow(base);
    batch.push({ line: rec.line, text: rec.text, label: rec.label, input, row, spec: input.readSpec(undefined) });
    if (batch.length >= batchSize) {
      await processBatch(batch);
      batch = [];
      const now = Date.now();
      if (now - lastProgress > 200) {
        lastProgress = now;
        ctx.progress({
          done: counter.bytesRead,
          total: Math.max(counter.size, counter.bytesRead),
          message: `${examples.toLocaleString('en-US')} examples`,
          ...(params.partialResults ? { partial: partialSoFar() } : {}),
        });
      }
    }
  }
  await processBatch(batch);
  ctx.progress({ done: counter.size, total: counter.size, message: `${examples.toLocaleString('en-US')} examples` });
  return resultSoFar();
}

function csvCell(v: unknown): string {
  const s = v === undefined || v === null ? '' : typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * A dataset result as CSV (RFC 4180, CRLF line ends): 'examples' lists the misclassified and least
 * confident examples with their line numbers; 'words' the influential words per class; 'confusion' the
 * confusion table (rows: true label, columns: predicted).
 */
export function exportDatasetCsv(result: DatasetResult, table: 'examples' | 'words' | 'confusion' = 'examples'): string {
  const rows: unknown[][] = [];
  if (table === 'examples') {
    rows.push(['list', 'line', 'text', 'label', 'predicted', 'probability']);
    for (const e of result.misclassified) rows.push(['misclassified', e.line, e.text, e.label, e.predicted, e.probability]);
    for (const e of result.leastConfident) rows.push(['least-confident', e.line, e.text, e.label, e.predicted, e.probability]);
  } else if (table === 'words') {
    rows.push(['class', 'word', 'mean_abs_attribution', 'mean_attribution', 'count']);
    for (const [cls, words] of Object.entries(result.words ?? {})) for (const w of words) rows.push([cls, w.word, w.meanAbs, w.mean, w.count]);
  } else {
    rows.push(['true \\ predicted', ...result.labels]);
    (result.confusion ?? []).forEach((r, i) => rows.push([result.labels[i], ...r]));
  }
  return rows.map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}
