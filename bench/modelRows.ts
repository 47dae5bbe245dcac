/**
 * What a model row costs where the engine does not batch as usual:
 *  - int8 (dynamic quantization): the same sentence's logit alone and inside the padded batches of its own
 *    explanation (the spread the engine avoids by running such rows one at a time), and what one at a time costs;
 *  - a causal LM at 500 tokens: per-row time and peak memory with the output head at the read position only
 *    (the engine) against the whole graph with every position's logits (a plain session), and the engine's own
 *    estimate of a Partition SHAP request on that text.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import type { RequestContext } from '../src/engine/process/requestContext';
import { DEFAULT_EVALUATOR_OPTIONS } from '../src/engine/run/batchedEvaluator';
import { applyRemoval, unperturbedRow, type InputRow } from '../src/engine/run/inputVariants';
import { readPosition, scalarExtractor } from '../src/engine/run/outputReaders';
import type { ProgressEvent } from '../src/protocol/engineApi';
import { DEMO_MODEL } from '../test/support/fixtureModels';
import { backToBack, fmt, log, median, PlainSession, printTable, REPO_ROOT, rng, sentences } from './common';
import { openService } from '../test/support/engineService';

/** Peak resident size of this process since the last reset (kB), Linux only. */
function peakKb(): number | undefined {
  try {
    return Number(/^VmHWM:\s+(\d+)/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1]);
  } catch {
    return undefined;
  }
}

function resetPeak(): void {
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    // not Linux: the memory column stays empty
  }
}

/** Peak memory growth of `fn` (MB), or NaN where it cannot be read. */
async function peakGrowth(fn: () => Promise<unknown>): Promise<number> {
  global.gc?.();
  resetPeak();
  const before = peakKb();
  await fn();
  const after = peakKb();
  return before === undefined || after === undefined ? Number.NaN : (after - before) / 1024;
}

/* -------------------------------------------------------------------------------------------- int8 */

async function int8Batching(): Promise<{ rows: (string | number)[][]; notes: string[] }> {
  const service = await openService({ modelPath: DEMO_MODEL, variant: 'quantized' });
  const model = service.current!;
  const plain = await PlainSession.open(path.join(DEMO_MODEL, 'onnx', 'model_quantized.onnx'));
  const pad = model.tokenizer.special.pad ?? 0;
  const texts = sentences().filter((s) => s.text.split(' ').length >= 10 && s.text.split(' ').length <= 25).slice(0, 20).map((s) => s.text);
  const spreads: number[] = [];
  const wallRatios: number[] = [];
  const cpuRatios: number[] = [];
  const r = rng(11);
  for (const text of texts) {
    const input = await model.prepare(text);
    const base = input.baseInput(new Set());
    // The rows an explanation runs: random word removals by [MASK], the full row among them.
    const rows: InputRow[] = [unperturbedRow(base)];
    for (let i = 0; i < 127; i++) rows.push(applyRemoval(base, Uint8Array.from(base.ids, () => (r() < 0.5 ? 1 : 0)), 'mask'));
    const alone = (await plain.run(plain.feeds([rows[0]], pad))).logits.data as Float32Array;
    // The full row in each padded batch of 16 it could share, as the evaluator used to batch it.
    const seen: number[] = [];
    for (let start = 1; start < rows.length; start += 15) {
      const batch = [rows[0], ...rows.slice(start, start + 15)];
      const out = (await plain.run(plain.feeds(batch, pad))).logits.data as Float32Array;
      seen.push(out[1]);
    }
    spreads.push(Math.max(...seen.map((v) => Math.abs(v - alone[1]))));
    // Cost: the same 128 rows one at a time (as the engine runs int8) and in padded batches of 128.
    const ratio = await backToBack(
      3,
      async () => {
        for (const row of rows) await plain.run(plain.feeds([row], pad));
      },
      async () => plain.runBatched(rows, pad, DEFAULT_EVALUATOR_OPTIONS.maxBatchRows),
    );
    wallRatios.push(median(ratio.ratios));
    cpuRatios.push(median(ratio.cpuRatios));
  }
  await plain.release();
  service.dispose();
  return {
    rows: [[texts.length, fmt(median(spreads), 4), `${fmt(Math.min(...spreads), 4)}–${fmt(Math.max(...spreads), 4)}`, 0, fmt(median(wallRatios), 2), fmt(median(cpuRatios), 2)]],
    notes: [
      'Spread: for each sentence, the largest |Δ POSITIVE logit| of its full row run inside a padded batch of 16 of its own explanation\'s rows (8 batches) against the row alone; dynamic quantization takes one scale per tensor over the whole batch, padding included. The engine runs int8 rows one at a time, so its spread is 0 (checked by the tests against a plain session).',
      'Cost: the same 128 rows (random word removals by [MASK]) one at a time against padded batches of 128, plain session, median over 3 alternating repeats per sentence, median over sentences.',
    ],
  };
}

/* ---------------------------------------------------------------------------------------- causal LM */

let gpt2Folder: string | undefined;

/** The GPT-2-sized causal LM (bench/make_bench_model.py --family gpt2); ONNX_LENS_BENCH_GPT2=folder reuses one. */
export function gpt2Model(): string {
  if (gpt2Folder) return gpt2Folder;
  const given = process.env.ONNX_LENS_BENCH_GPT2;
  if (given) return (gpt2Folder = path.resolve(given));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-lens-bench-gpt2-'));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  process.stderr.write('writing the GPT-2-sized benchmark model (a few minutes, ~650 MB)…\n');
  const r = spawnSync('/usr/bin/python3', [path.join(REPO_ROOT, 'bench', 'make_bench_model.py'), dir, '--family', 'gpt2'], { stdio: ['ignore', process.stderr, 'inherit'] });
  if (r.status !== 0) throw new Error(`make_bench_model.py --family gpt2 failed (exit ${r.status})`);
  return (gpt2Folder = dir);
}

async function causalHead(tokens: number): Promise<{ rows: (string | number)[][]; notes: string[] }> {
  const folder = gpt2Model();
  const service = await openService({ modelPath: folder, options: { maxTokens: 1024 } });
  const model = service.current!;
  const all = sentences().map((s) => s.text).join(' ');
  const ids = model.tokenizer.encode(all, { addSpecialTokens: false }).ids.slice(0, tokens);
  const text = model.tokenizer.decode(ids, true);
  const input = await model.prepare(text);
  const spec = input.readSpec(undefined);
  const extractor = scalarExtractor(spec, 262);
  const base = input.baseInput(new Set());
  const r = rng(5);
  // Four word-deletion variants of the 500-token text (about one word in ten deleted), as Partition SHAP's rows are.
  const rows: InputRow[] = Array.from({ length: 4 }, () => applyRemoval(base, Uint8Array.from(base.ids, () => (r() < 0.9 ? 1 : 0)), 'delete'));
  const evaluator = model.evaluatorFor(input);
  await evaluator.evaluate(rows.slice(0, 1), extractor); // builds the sessions and checks the cut head once
  const plain = await PlainSession.open(path.join(folder, 'onnx', 'model.onnx'));
  const pad = model.tokenizer.special.pad ?? 0;
  const cut = async () => {
    evaluator.clearCache();
    await evaluator.evaluate(rows, extractor);
  };
  const whole = async () => {
    const out = await plain.run(plain.feeds(rows, pad));
    // Read each row's last-token logit from the [rows, S, V] output, as the engine did before the cut.
    const logits = out.logits;
    const [, s, v] = logits.dims;
    rows.forEach((row, b) => (logits.data as Float32Array)[(b * s + readPosition(spec, row)) * v + 262]);
  };
  const t = await backToBack(3, cut, whole);
  const memCut = await peakGrowth(cut);
  const memWhole = await peakGrowth(whole);
  // The engine's own estimate of a Partition SHAP request at the default budget on that text.
  const events: ProgressEvent[] = [];
  const ctx: RequestContext = {
    isCancelled: () => events.length > 0,
    progress: (p) => events.push(p),
  };
  await service.handle('explain', { text, method: 'partition-shap', budget: 500 }, ctx).catch(() => undefined);
  const first = events[0];
  await plain.release();
  service.dispose();
  const perRowCut = t.a / rows.length;
  const perRowWhole = t.b / rows.length;
  const planned = first?.total ?? Number.NaN;
  return {
    rows: [
      [
        input.encoding.ids.length,
        rows.length,
        fmt(perRowCut / 1000, 2),
        fmt(perRowWhole / 1000, 2),
        fmt(perRowWhole / perRowCut, 2),
        fmt(median(t.cpuRatios.map((x) => 1 / x)), 2),
        fmt(memCut, 0),
        fmt(memWhole, 0),
        planned,
        first?.estimatedMs !== undefined ? fmt(first.estimatedMs / 1000, 0) : '–',
        fmt((planned * perRowCut) / 1000, 0),
        fmt((planned * perRowWhole) / 1000, 0),
      ],
    ],
    notes: [
      'Model: GPT-2 size with random weights (12 layers × 768 wide, 12 heads, the 50,257-token gpt2 vocabulary, the head tied to the embeddings), one text of review sentences cut to the token count.',
      'Rows: 4 variants of the text with about one word in ten deleted (the rows of a Partition SHAP explanation), one padded batch. Head at the read position: the engine\'s evaluator (the graph cut before the output projection, logits [4, 1, V]). Whole graph: a plain session on the original file, logits [4, S, V] — what the engine ran before. Median of 3 alternating repeats; the CPU column is the same ratio in process CPU time.',
      'Peak memory: growth of this process\'s peak resident size during one batch of each (Linux `VmHWM`, reset before each).',
      'Planned rows and estimate: the first progress event of a Partition SHAP request at budget 500 on the same text (the request is cancelled right after it): the method\'s evaluations at most plus two per word for the faithfulness curves, and the engine\'s estimate from one lone row. The last two columns project the planned rows at the per-row times measured here.',
    ],
  };
}

export async function runModelRows(): Promise<void> {
  log('model rows: int8 one at a time');
  const int8 = await int8Batching();
  printTable(
    'Model rows — int8 (dynamic quantization): batch composition and the price of one row at a time (demo model, int8)',
    ['sentences', 'median spread in batches', 'range', 'spread in the engine', 'one at a time ÷ batched (wall)', 'same in CPU time'],
    int8.rows,
    int8.notes,
  );
  log('model rows: causal LM head at 500 tokens');
  const causal = await causalHead(500);
  printTable(
    'Model rows — a causal LM at 500 tokens: the output head at the read position vs the whole graph',
    ['tokens', 'rows', 'head at read position s/row', 'whole graph s/row', 'whole ÷ read position', 'same in CPU time', 'peak MB, read position', 'peak MB, whole graph', 'Partition SHAP 500: planned rows', 'engine\'s estimate s', 'projected s, read position', 'projected s, whole graph'],
    causal.rows,
    causal.notes,
  );
}
