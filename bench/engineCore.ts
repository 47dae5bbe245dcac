/**
 * Engine core: on the BERT-base-sized classifier at 16, 64 and 256 tokens,
 *  (a) the batched evaluator's throughput over a plain `session.run` loop (one variant per call) on the
 *      same word-deletion / mask variants of one input;
 *  (b) the cost of exposing every attention matrix and hidden state: a session on the graph rewritten by
 *      exposeInternals over the plain graph, for the same batch of 1 and of 8.
 */
import type { InputRow } from '../src/engine/run/inputVariants';
import { applyRemoval } from '../src/engine/run/inputVariants';
import { loadGraphFile } from '../src/engine/model/modelFolder';
import { exposeInternals } from '../src/engine/model/graphSurgery';
import { scalarExtractor } from '../src/engine/run/outputReaders';
import { backToBack, bertBaseModel, collect, describe, fmt, log, median, PlainSession, printTable, rng, textOfWords } from './common';
import { openService } from '../test/support/engineService';

interface LengthPlan {
  tokens: number;
  /** Variants of the input per repeat in (a). */
  variants: number;
  /** Repeats of each side. */
  repeats: number;
}

const PLANS: LengthPlan[] = [
  { tokens: 16, variants: 64, repeats: 5 },
  { tokens: 64, variants: 32, repeats: 3 },
  { tokens: 256, variants: 16, repeats: 3 },
];

export async function runEngineCore(): Promise<void> {
  const model = bertBaseModel();
  log(`engine core: ${model.name}`);
  const service = await openService({ modelPath: model.folder });
  const loaded = service.current!;
  const padId = loaded.tokenizer.special.pad ?? 0;
  const plain = await PlainSession.open(model.onnx);
  let exposedSession: PlainSession;
  let exposedCount: { attentions: number; hidden: number };
  {
    const graph = loadGraphFile(model.onnx);
    const exposed = exposeInternals(graph.bytes, graph.model);
    exposedSession = await PlainSession.open(exposed.bytes);
    exposedCount = { attentions: exposed.attentions.length, hidden: exposed.hiddenStates.length };
  }
  collect();

  const throughputRows: (string | number)[][] = [];
  const exposeRows: (string | number)[][] = [];
  const longText = textOfWords(400, 1);
  for (const plan of PLANS) {
    const ids = loaded.tokenizer.encode(longText, { maxLength: plan.tokens }).ids;
    const input = await loaded.prepareIds(ids);
    const base = input.baseInput(new Set());
    const random = rng(plan.tokens);
    const rows: InputRow[] = [];
    for (let v = 0; v < plan.variants; v++) {
      const keep = Uint8Array.from(base.ids, () => (random() < 0.5 ? 0 : 1));
      rows.push(applyRemoval(base, keep, v % 2 === 0 ? 'mask' : 'delete'));
    }
    const lengths = rows.map((r) => r.ids.length);

    // (a) evaluator vs one session.run per variant.
    const evaluator = loaded.evaluatorFor(input);
    const extractor = scalarExtractor(input.readSpec(undefined), 1);
    let evalValues: number[] = [];
    let batches = 0;
    const plainValues: number[] = [];
    const evaluatorSide = async () => {
      evaluator.clearCache();
      const r = await evaluator.evaluate(rows, extractor);
      evalValues = r.values;
      batches = r.batches;
    };
    const plainSide = async () => {
      plainValues.length = 0;
      for (const row of rows) {
        const out = await plain.run(plain.feeds([row], padId));
        plainValues.push((out.logits.data as Float32Array)[1]);
      }
    };
    log(`(a) ${plan.tokens} tokens, ${plan.variants} variants × ${plan.repeats} repeats`);
    // Warm-up: both sessions on a few of the rows (the first run of a shape allocates).
    const warm = async () => {
      evaluator.clearCache();
      await evaluator.evaluate(rows.slice(0, 4), extractor);
      for (const row of rows.slice(0, 2)) await plain.run(plain.feeds([row], padId));
    };
    const a = await backToBack(plan.repeats, evaluatorSide, plainSide, warm);
    const spreadOfValues = Math.max(...evalValues) - Math.min(...evalValues);
    const maxDiff = Math.max(...evalValues.map((v, i) => Math.abs(v - plainValues[i])));
    throughputRows.push([
      plan.tokens,
      plan.variants,
      `${Math.min(...lengths)}–${Math.max(...lengths)}`,
      batches,
      fmt((plan.variants / a.a) * 1000, 1),
      fmt((plan.variants / a.b) * 1000, 1),
      fmt(median(a.ratios.map((r) => 1 / r)), 2),
      `${fmt(Math.min(...a.ratios.map((r) => 1 / r)), 2)}–${fmt(Math.max(...a.ratios.map((r) => 1 / r)), 2)}`,
      fmt(median(a.cpuRatios.map((r) => 1 / r)), 2),
      `${maxDiff.toExponential(1)} (of a ${fmt(spreadOfValues, 2)} range)`,
    ]);
    collect();

    // (b) exposed graph vs plain graph, same batch.
    for (const batch of [1, 8]) {
      const batchRows: InputRow[] = [];
      for (let b = 0; b < batch; b++) {
        const keep = Uint8Array.from(base.ids, () => (b === 0 || random() < 0.8 ? 1 : 0));
        batchRows.push(applyRemoval(base, keep, 'mask'));
      }
      const feeds = plain.feeds(batchRows, padId);
      const repeats = plan.tokens >= 256 ? 3 : 5;
      log(`(b) ${plan.tokens} tokens, batch ${batch} × ${repeats} repeats`);
      let outputs = 0;
      const r = await backToBack(
        repeats,
        async () => {
          const out = await exposedSession.run(feeds);
          outputs = Object.keys(out).length;
        },
        async () => {
          await plain.run(feeds);
        },
      );
      exposeRows.push([plan.tokens, batch, outputs, fmt(median(r.ratios), 2), `${fmt(Math.min(...r.ratios), 2)}–${fmt(Math.max(...r.ratios), 2)}`, fmt(median(r.cpuRatios), 2)]);
      collect();
    }
  }

  printTable(
    `Engine core — batched evaluator vs a plain session.run loop (${model.name}: ${describe(model)})`,
    ['tokens', 'variants', 'variant lengths', 'evaluator batches', 'evaluator variants/s', 'plain loop variants/s', 'throughput ratio (evaluator ÷ loop)', 'range over repeats', 'CPU-time ratio (loop ÷ evaluator)', 'largest Δ logit'],
    throughputRows,
    [
      'Variants: random word-deletion (odd) and mask (even) variants of one input, each token removed with probability ½; the same rows on both sides.',
      'Evaluator: `evaluatorFor(input).evaluate(rows, extractor)` with its cache cleared before every repeat (so every variant runs). Plain loop: an onnxruntime-node InferenceSession on the original file, one variant per `session.run`, unpadded.',
      `Median over ${PLANS.map((p) => p.repeats).join('/')} alternating repeats after a short warm-up; variants/s are shown for scale only (they move with the machine's load), the ratio is the figure: the median of the per-repeat ratios (wall time); the CPU-time ratio (this process\'s CPU time, all threads) is a check that moves less when other processes compete for the cores.`,
      '`largest Δ logit`: largest absolute difference between the two sides\' POSITIVE logits (padding and batching must not change outputs).',
    ],
  );
  printTable(
    `Engine core — cost of exposing attentions and hidden states (${exposedCount.attentions} attention maps + ${exposedCount.hidden} hidden states)`,
    ['tokens', 'batch', 'outputs returned', 'time ratio (exposed ÷ plain)', 'range over repeats', 'CPU-time ratio (exposed ÷ plain)'],
    exposeRows,
    [
      'Exposed: a session on the bytes `exposeInternals` writes (every Softmax of attention and every layer output added as a graph output); plain: the original file. Same feeds, all outputs fetched.',
      'Median over 5 alternating repeats (3 at 256 tokens) after one warm-up each.',
    ],
  );
  await plain.release();
  await exposedSession.release();
  service.dispose();
}
