/**
 * One whole explanation request through a forked engine, as the editor and the CLI send it: its wall time, the rows
 * the model ran and the peak resident memory of the engine process, for a GPT-2-sized causal LM at a short and a
 * long text. The engine process holds the model, its sessions, every batch's activations and the method's state,
 * so its peak is what a user's machine has to have. Then what sizing batches by their attention memory costs in
 * speed: the same rows in batches sized that way and by tokens alone.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findModelFiles, loadModelTokenizer } from '../src/engine/model/modelFolder';
import { EngineClient } from '../src/engine/process/engineClient';
import type { ProgressEvent } from '../src/protocol/engineApi';
import { EngineService } from '../src/engine/process/engineService';
import { applyRemoval, type InputRow } from '../src/engine/run/inputVariants';
import { scalarExtractor } from '../src/engine/run/outputReaders';
import { QUIET } from '../test/support/engineService';
import { backToBack, fmt, log, median, now, printTable, REPO_ROOT, rng, sentences } from './common';
import { gpt2Model } from './modelRows';

/** The compiled engine entry (npx tsc -p tsconfig.test.json). */
const ENTRY = path.join(REPO_ROOT, 'out', 'src', 'engine', 'process', 'engineMain.js');
const BUDGET = 200;

/** Peak resident size of a process since it started (MB), Linux only. */
function peakRssMb(pid: number | undefined): number {
  try {
    return Number(/^VmHWM:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
  } catch {
    return Number.NaN;
  }
}

/** The review sentences cut to `tokens` tokens of the model's tokenizer. */
function textOfTokens(folder: string, tokens: number): string {
  const tokenizer = loadModelTokenizer(findModelFiles(folder));
  const ids = tokenizer.encode(sentences().map((s) => s.text).join(' '), { addSpecialTokens: false }).ids.slice(0, tokens);
  return tokenizer.decode(ids, true);
}

interface RequestFigures {
  tokens: number;
  wallS: number;
  rows: number;
  estimateS: number;
  openMb: number;
  peakMb: number;
}

/** A fresh engine: open the model, one Partition SHAP request, the engine's peak memory, then stop it. */
async function oneRequest(folder: string, text: string, tokens: number): Promise<RequestFigures> {
  const client = new EngineClient({ entry: ENTRY });
  try {
    await client.request('open', { modelPath: folder, options: { maxTokens: 1024 } });
    const openMb = peakRssMb(client.pid);
    const events: ProgressEvent[] = [];
    const started = now();
    const r = await client.request('explain', { text, method: 'partition-shap', budget: BUDGET }, { onProgress: (p) => events.push(p) });
    const wallS = (now() - started) / 1000;
    const peakMb = peakRssMb(client.pid);
    if (r.kind !== 'explanation') throw new Error(`explain returned ${r.kind}`);
    const first = events.find((e) => e.estimatedMs !== undefined);
    return { tokens, wallS, rows: r.evaluations + (r.faithfulness?.evaluations ?? 0), estimateS: (first?.estimatedMs ?? Number.NaN) / 1000, openMb, peakMb };
  } finally {
    client.dispose();
  }
}

/**
 * The same rows through the engine's evaluator with batches sized by their attention memory (the engine) and by
 * tokens alone (8,192 a batch, what it did before), back to back in this process.
 */
async function batchSpeed(folder: string, tokens: number, count: number): Promise<(string | number)[]> {
  const service = new EngineService();
  await service.handle('open', { modelPath: folder, options: { maxTokens: 1024 } }, QUIET);
  const model = service.current!;
  const input = await model.prepare(textOfTokens(folder, tokens));
  const extractor = scalarExtractor(input.readSpec(undefined), 262);
  const base = input.baseInput(new Set());
  const r = rng(tokens);
  // Word deletions, as Partition SHAP's rows are: about one token in ten.
  const rows: InputRow[] = Array.from({ length: count }, () => applyRemoval(base, Uint8Array.from(base.ids, () => (r() < 0.9 ? 1 : 0)), 'delete'));
  const evaluator = model.evaluatorFor(input);
  await evaluator.evaluate(rows.slice(0, 1), extractor);
  const budget = evaluator.options.maxBatchBytes;
  const batches: Record<string, number> = {};
  const side = (bytes: number | undefined, name: string) => async () => {
    evaluator.options.maxBatchBytes = bytes;
    evaluator.clearCache();
    const before = evaluator.stats.batches;
    await evaluator.evaluate(rows, extractor);
    batches[name] = evaluator.stats.batches - before;
  };
  const t = await backToBack(3, side(budget, 'sized'), side(undefined, 'tokens'));
  evaluator.options.maxBatchBytes = budget;
  service.dispose();
  return [input.encoding.ids.length, count, batches.sized, batches.tokens, fmt(t.a / count / 1000, 3), fmt(t.b / count / 1000, 3), fmt(median(t.ratios.map((x) => 1 / x)), 2), fmt(median(t.cpuRatios.map((x) => 1 / x)), 2)];
}

export async function runRequestMemory(): Promise<void> {
  if (!fs.existsSync(ENTRY)) throw new Error(`${ENTRY} is missing: run npx tsc -p tsconfig.test.json first`);
  const folder = gpt2Model();
  const rows: (string | number)[][] = [];
  for (const tokens of [30, 200]) {
    const text = textOfTokens(folder, tokens);
    log(`request memory: ${tokens} tokens`);
    const f = await oneRequest(folder, text, tokens);
    rows.push([f.tokens, BUDGET, f.rows, fmt(f.wallS, 1), fmt(f.estimateS, 0), fmt(f.openMb, 0), fmt(f.peakMb, 0), fmt(f.peakMb - f.openMb, 0)]);
  }
  printTable(
    'Request memory — one Partition SHAP request through a forked engine, GPT-2 size',
    ['tokens', 'budget', 'rows run', 'wall s', 'first estimate s', 'engine peak MB after open', 'engine peak MB after the request', 'added by the request'],
    rows,
    [
      'Model: GPT-2 size with random weights (12 layers × 768 wide, 12 heads, the 50,257-token gpt2 vocabulary), the review sentences cut to the token count.',
      'A fresh engine per request (EngineClient, the compiled engineMain.js): open the model, one partition-shap explanation at budget 200 with its faithfulness curves; rows = the method\'s evaluations + the curves\'.',
      'Peak memory: the engine process\'s peak resident size (Linux VmHWM) after opening the model and after the request. Measured once each; wall times are noisy on a shared machine.',
    ],
  );
  const speed: (string | number)[][] = [];
  for (const [tokens, count] of [[64, 128], [128, 64], [200, 34], [500, 6]]) {
    log(`batch speed: ${tokens} tokens`);
    speed.push(await batchSpeed(folder, tokens, count));
  }
  printTable(
    'Batch speed — the same rows in batches sized by attention memory (the engine) and by tokens alone (before), GPT-2 size',
    ['tokens', 'rows', 'batches, by memory', 'batches, by tokens', 's/row by memory', 's/row by tokens', 'by tokens ÷ by memory (wall)', 'same in CPU time'],
    speed,
    [
      'Rows: word deletions of the text (about one token in ten), through the engine\'s evaluator (head at the read position) from a cleared cache; by memory: rows × (layers × heads × tokens² + (layers + 1) × tokens × width) × 4 bytes within 512 MB; by tokens: 8,192 tokens a batch, up to 128 rows. Median of 3 alternating repeats after one warm-up run of each; above 1 the engine is faster.',
    ],
  );
}
