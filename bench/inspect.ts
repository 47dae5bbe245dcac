/**
 * "Inside the model": what the dataset view and head importance cost next to the model alone.
 *
 * - Dataset view throughput on the demo model: `heldout.tsv` repeated to 5,000 lines, examples per second
 *   for prediction only, with occlusion on every example and with the default (occlusion on at most 200),
 *   each against a plain onnxruntime session running the same tokenized rows in batches of 64 (tokenization
 *   excluded, and included).
 * - Head importance on a 12-layer × 12-head model: masked runs per request and wall time over one plain
 *   forward pass of the same text × the number of runs.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { PreparedInput } from '../src/engine/model/loadedModel';
import { unperturbedRow, type InputRow } from '../src/engine/run/inputVariants';
import type { DatasetParams, DatasetResult, HeadImportanceResult } from '../src/protocol/engineApi';
import { backToBack, type BenchModel, collect, describe, fmt, log, median, now, PlainSession, printTable, REPO_ROOT, timed } from './common';
import { openService, QUIET } from '../test/support/engineService';

const DEMO = path.join(REPO_ROOT, 'models', 'demo-sentiment');
const HELDOUT = path.join(DEMO, 'heldout.tsv');
const DATASET_LINES = 5000;
const BATCH = 64;
/** Neutral openings that make the repeated copies of a sentence distinct rows (copy 0 is the sentence itself). */
const OPENINGS = ['', 'Honestly, ', 'Overall, ', 'In short, '];

const NARROW_ENV = 'ONNX_LENS_BENCH_MODEL_12X12';
let narrow: BenchModel | undefined;

/** Removes `dir` when the process ends, however it ends. */
function removeOnExit(dir: string): void {
  const rm = () => fs.rmSync(dir, { recursive: true, force: true });
  process.on('exit', rm);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      rm();
      process.exit(130);
    });
  }
}

/**
 * A 12-layer, 12-head BERT classifier, 192 wide, with random weights (`make_bench_model.py --hidden 192
 * --heads 12`, a few seconds): the attention shape of BERT-base at a fraction of its cost. Written to a
 * temporary folder removed at exit; ONNX_LENS_BENCH_MODEL_12X12=folder reuses one.
 */
export function narrowModel(): BenchModel {
  if (narrow) return narrow;
  let folder = process.env[NARROW_ENV];
  if (folder) {
    folder = path.resolve(folder);
  } else {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-lens-bench-'));
    removeOnExit(dir);
    folder = path.join(dir, 'bert-12x12');
    const r = spawnSync('/usr/bin/python3', [path.join(REPO_ROOT, 'bench', 'make_bench_model.py'), folder, '--hidden', '192', '--heads', '12'], {
      stdio: ['ignore', process.stderr, 'inherit'],
    });
    if (r.status !== 0) throw new Error(`make_bench_model.py failed (exit ${r.status})`);
  }
  const onnx = path.join(folder, 'onnx', 'model.onnx');
  if (!fs.existsSync(onnx)) throw new Error(`no ${onnx}`);
  narrow = { name: '12 × 12 heads, 192 wide (random weights)', folder, onnx };
  return narrow;
}

/** The labelled sentences of heldout.tsv. */
function heldout(): { text: string; label: string }[] {
  return fs
    .readFileSync(HELDOUT, 'utf8')
    .split('\n')
    .map((l) => /^(.*)\t(\S+)\s*$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null && m[1].trim().length > 0)
    .map((m) => ({ text: m[1].trim(), label: m[2] }));
}

/** The dataset file: heldout.tsv cycled to `lines` lines; `distinct` gives each repeated copy an opening. */
function writeDataset(dir: string, lines: number, distinct: boolean): { file: string; texts: string[] } {
  const base = heldout();
  const texts: string[] = [];
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const s = base[i % base.length];
    const copy = Math.floor(i / base.length);
    const text = distinct ? `${OPENINGS[copy % OPENINGS.length]}${copy > 0 ? s.text[0].toLowerCase() + s.text.slice(1) : s.text}` : s.text;
    texts.push(text);
    out.push(`${text}\t${s.label}`);
  }
  const file = path.join(dir, distinct ? 'heldout-distinct.tsv' : 'heldout-repeated.tsv');
  fs.writeFileSync(file, out.join('\n') + '\n');
  return { file, texts };
}

/** The row the dataset view runs for a prepared text (nothing removed). */
function rowOf(input: PreparedInput): InputRow {
  const base = input.baseInput(new Set());
  return unperturbedRow(base);
}

/* ------------------------------------------------------------- dataset */

async function datasetThroughput(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-lens-bench-'));
  removeOnExit(dir);
  const service = await openService({ modelPath: DEMO });
  const model = service.current!;
  const plain = await PlainSession.open(path.join(DEMO, 'onnx', 'model.onnx'));
  const padId = model.tokenizer.special.pad ?? 0;
  const distinct = writeDataset(dir, DATASET_LINES, true);
  const repeated = writeDataset(dir, DATASET_LINES, false);
  const evaluator = model.evaluatorFor(await model.prepare('hook'));

  const rowsOf = async (texts: string[]) => {
    const rows: InputRow[] = [];
    for (const t of texts) rows.push(rowOf(await model.prepare(t)));
    return rows;
  };
  const distinctRows = await rowsOf(distinct.texts);
  const tokens = distinctRows.map((r) => r.ids.length);

  const raw = () => plain.runBatched(distinctRows, padId, BATCH);
  const rawWithTokens = async () => plain.runBatched(await rowsOf(distinct.texts), padId, BATCH);
  let last: DatasetResult | undefined;
  const view = (file: string, extra: Partial<DatasetParams>) => async () => {
    evaluator.clearCache();
    last = await service.handle('datasetRun', { path: file, format: 'tsv', header: false, textColumn: 0, labelColumn: 1, ...extra }, QUIET);
  };

  const cases: { name: string; file: string; params: Partial<DatasetParams>; repeats: number }[] = [
    { name: 'prediction only', file: distinct.file, params: { method: 'none' }, repeats: 5 },
    { name: 'occlusion, default (at most 200 explained)', file: distinct.file, params: {}, repeats: 5 },
    { name: 'occlusion on every example', file: distinct.file, params: { maxExplained: Number.MAX_SAFE_INTEGER }, repeats: 3 },
    { name: 'prediction only, lines repeated verbatim', file: repeated.file, params: { method: 'none' }, repeats: 5 },
  ];
  const rows: (string | number)[][] = [];
  for (const c of cases) {
    log(`dataset: ${c.name}`);
    const run = view(c.file, c.params);
    const a = await backToBack(c.repeats, run, raw);
    const result = last!;
    const b = await backToBack(c.repeats, run, rawWithTokens, false);
    const viewRate = result.examples / (a.a / 1000);
    rows.push([
      c.name,
      result.examples,
      result.explained,
      result.evaluations,
      viewRate,
      DATASET_LINES / (a.b / 1000),
      median(a.ratios.map((r) => 1 / r)),
      `${fmt(Math.min(...a.ratios.map((r) => 1 / r)))}–${fmt(Math.max(...a.ratios.map((r) => 1 / r)))}`,
      median(a.cpuRatios.map((r) => 1 / r)),
      median(b.ratios.map((r) => 1 / r)),
    ]);
    collect();
  }
  await plain.release();
  service.dispose();
  const sorted = [...tokens].sort((x, y) => x - y);
  printTable(
    `Inside the model — dataset view throughput (demo-sentiment (fp32), ${describe({ name: '', folder: DEMO, onnx: '' })}; ${DATASET_LINES.toLocaleString('en-US')} lines)`,
    ['dataset view', 'examples', 'explained', 'model rows run', 'view examples/s', 'raw examples/s', 'throughput ratio (view ÷ raw)', 'range over repeats', 'same in CPU time', 'ratio to raw incl. tokenization'],
    rows,
    [
      `File: heldout.tsv (1,365 labelled sentences) cycled to ${DATASET_LINES.toLocaleString('en-US')} lines; copy k > 0 of a sentence opens with "${OPENINGS.slice(1).join('", "').trim()}" so that every line is a distinct row (rows of ${sorted[0]}–${sorted[sorted.length - 1]} tokens, median ${median(tokens)}). The last row reads the same sentences repeated verbatim: the evaluator runs each distinct row once, so repeats cost nothing.`,
      'View: one `datasetRun` request in process (streaming read, tokenization, batches of 64 through the batched evaluator, accuracy, confusion table, lists; with occlusion, leave-one-word-out rows for the explained examples), the evaluator cache cleared before each run.',
      'Raw: a plain onnxruntime-node session over the same tokenized rows in file order, batches of 64 padded to their longest row, tokenization excluded; the last column adds tokenizing the 5,000 texts (`prepare`, as the view does) to the raw side.',
      'Throughput ratio = view examples/s ÷ raw examples/s (1.0 = the model alone; with explanations it falls with the rows each example adds). Median of alternating repeats (5, 3 for occlusion on every example) after a warm-up; `same in CPU time`: the ratio of this process\'s CPU time.',
      '`model rows run`: distinct rows the evaluator ran (predictions, and per explained example its full row and one row per word).',
    ],
  );
}

/* ------------------------------------------------------ head importance */

async function headImportanceCost(): Promise<void> {
  const bench = narrowModel();
  const service = await openService({ modelPath: bench.folder, options: { maxTokens: 512 } });
  const model = service.current!;
  const plain = await PlainSession.open(bench.onnx);
  const padId = model.tokenizer.special.pad ?? 0;
  const sentences = heldout().map((s) => s.text);
  const textOfTokens = async (target: number) => {
    let text = '';
    for (let i = 0; ; i++) {
      const next = text ? `${text} ${sentences[i % sentences.length]}` : sentences[i % sentences.length];
      if ((await model.prepare(next)).encoded.tokens.length > target) break;
      text = next;
    }
    return text;
  };

  const rows: (string | number)[][] = [];
  for (const target of [32, 128]) {
    const text = await textOfTokens(target);
    const input = await model.prepare(text);
    const feeds = plain.feeds([rowOf(input)], padId);
    // One plain forward pass: the median of 20 after 3 warm-ups.
    const forward = async () => {
      const t: number[] = [];
      for (let i = 0; i < 3; i++) await plain.run(feeds);
      for (let i = 0; i < 20; i++) t.push((await timed(() => plain.run(feeds))).ms);
      return median(t);
    };
    const request = () => service.handle('headImportance', { text }, QUIET) as Promise<HeadImportanceResult>;
    log(`head importance: ${input.encoded.tokens.length} tokens`);
    const before = await forward();
    // The first request also builds the head-masked session (graph surgery and a session of its own).
    const cold = await timed(request);
    const warm: number[] = [];
    const per: number[] = [];
    let result = cold.value;
    for (let r = 0; r < 3; r++) {
      const f = await forward();
      const w = await timed(request);
      result = w.value;
      warm.push(w.ms);
      per.push(w.ms / (result.evaluations.masks * f));
    }
    const after = await forward();
    const fwd = median([before, after]);
    const masks = result.evaluations.masks;
    rows.push([
      input.encoded.tokens.length,
      `${result.layers} × ${result.heads}`,
      masks,
      result.evaluations.rows,
      result.evaluations.batches,
      fwd,
      median(warm) / 1000,
      median(per),
      cold.ms / 1000,
      cold.ms / (masks * fwd),
    ]);
    collect();
  }
  await plain.release();
  service.dispose();
  printTable(
    `Inside the model — head importance cost (${bench.name}: ${describe(bench)})`,
    ['tokens', 'layers × heads', 'masked runs (evaluations)', 'rows run', 'session runs', 'one plain forward ms', 'request s (warm)', 'wall ÷ (runs × one forward)', 'first request s', 'first ÷ (runs × one forward)'],
    rows,
    [
      'One `headImportance` request for one text in process: the single-head grid (L·H masks), every layer ablated (L masks) and the unmasked model (1): L·H + L + 1 = 157 masked runs for 12 × 12, each a `session.run` of the head-masked graph; plus the prediction that picks the target.',
      'One plain forward: a plain onnxruntime-node session on the original file, the same row, median of 20 runs (timed before each request and at both ends). The ratio is the request\'s wall time over runs × that time: 1.0 would be the masked runs at the plain graph\'s speed and nothing else.',
      'Warm: median of 3 requests after the first; the first also builds the head-masked session (graph surgery on the ONNX bytes and a new onnxruntime session).',
    ],
  );
}

export async function runInspect(): Promise<void> {
  process.stdout.write('\n## Inside the model\n');
  const t = now();
  await datasetThroughput();
  log(`dataset: ${((now() - t) / 1000).toFixed(0)} s`);
  const t2 = now();
  await headImportanceCost();
  log(`head importance: ${((now() - t2) / 1000).toFixed(0)} s`);
}
