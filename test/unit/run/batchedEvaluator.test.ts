import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyRemoval } from '../../../src/engine/run/inputVariants';
import { logitsExtractor } from '../../../src/engine/run/outputReaders';
import { BatchedEvaluator, type BatchOutputs } from '../../../src/engine/run/batchedEvaluator';
import { CancelledError } from '../../../src/engine/run/cancellation';
import type { InputRow } from '../../../src/engine/run/inputVariants';
import { BATCH_ACTIVATION_BYTES, rowActivationBytes } from '../../../src/engine/run/memoryBudget';
import { openService } from '../../support/engineService';
import { fixtureModel } from '../../support/fixtureModels';

/** Seeded keep-vectors over n tokens, the first and last (special) always kept. */
function variants(n: number, count: number, seed: number): Uint8Array[] {
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  return Array.from({ length: count }, () => Uint8Array.from({ length: n }, (_, i) => (i === 0 || i === n - 1 || next() < 0.6 ? 1 : 0)));
}

const open = (name: string) => openService({ modelPath: fixtureModel(name) });

describe('batched evaluator', () => {
  for (const [name, text, removal] of [
    ['bert-cls-op14', 'this film was not good at all , really', 'delete'],
    ['bert-cls-op14', 'this film was not good at all , really', 'attention'],
    ['bert-mlm-op17', 'the man went to the [MASK] to buy some milk', 'mask'],
    ['gpt2-op14', 'the story of a man who went to the', 'delete'],
    ['gpt2-past-op14', 'the story of a man who went to the', 'delete'],
    ['t5-op14', 'the cat sat on the mat', 'delete'],
  ] as const) {
    test(`${name} (${removal}): batched results equal one-at-a-time results`, async () => {
      const service = await open(name);
      const model = service.current!;
      const input = await model.prepare(text);
      const base = input.baseInput(new Set());
      const keeps = variants(base.ids.length, 24, 7);
      const rows = keeps.map((k) => applyRemoval(base, k, removal));
      const extractor = logitsExtractor(input.readSpec(undefined));
      const batched = await model.evaluatorFor(input).evaluate(rows, extractor);
      let maxDiff = 0;
      for (let i = 0; i < rows.length; i++) {
        model.evaluatorFor(input).clearCache();
        const single = await model.evaluatorFor(input).evaluate([rows[i]], extractor);
        const a = batched.values[i];
        const b = single.values[0];
        assert.equal(a.length, b.length);
        for (let j = 0; j < a.length; j++) maxDiff = Math.max(maxDiff, Math.abs(a[j] - b[j]));
      }
      assert.ok(batched.batches >= 1);
      assert.ok(maxDiff < 1e-4, `batched vs single max |Δlogit| = ${maxDiff}`);
      service.dispose();
    });
  }

  test('identical variants run once, and a repeated request is served from the cache', async () => {
    const service = await open('bert-cls-op14');
    const model = service.current!;
    const input = await model.prepare('a great story with a thin plot');
    const base = input.baseInput(new Set());
    const keeps = variants(base.ids.length, 10, 3);
    const rows = [...keeps, ...keeps, ...keeps].map((k) => applyRemoval(base, k, 'mask'));
    const distinct = new Set(keeps.map((k) => k.join(''))).size;
    const evaluator = model.evaluatorFor(input);
    evaluator.clearCache();
    const first = await evaluator.evaluate(rows, logitsExtractor(input.readSpec(undefined)));
    assert.equal(first.distinctRuns, distinct);
    const again = await evaluator.evaluate(rows, logitsExtractor(input.readSpec(undefined)));
    assert.equal(again.distinctRuns, 0);
    assert.deepEqual(again.values.map((v) => Array.from(v)), first.values.map((v) => Array.from(v)));
    service.dispose();
  });

  test('a cancel stops within one batch', async () => {
    const service = await open('bert-cls-op14');
    const model = service.current!;
    const input = await model.prepare('one two three four five six seven eight nine ten eleven twelve');
    const base = input.baseInput(new Set());
    const rows = variants(base.ids.length, 2000, 11).map((k) => applyRemoval(base, k, 'mask'));
    const evaluator = model.evaluatorFor(input);
    evaluator.clearCache();
    const before = evaluator.stats.batches;
    let batchesSeen = 0;
    let cancelled = false;
    await assert.rejects(
      evaluator.evaluate(rows, logitsExtractor(input.readSpec(undefined)), {
        onProgress: (done) => {
          if (done > 0) batchesSeen++;
          if (batchesSeen === 2) cancelled = true;
        },
        isCancelled: () => cancelled,
      }),
      CancelledError,
    );
    assert.equal(evaluator.stats.batches - before, 2, 'no batch runs after the cancel');
    service.dispose();
  });

  test('long rows run in batches sized by their attention memory; short rows keep full batches', async () => {
    // A GPT-2-sized model's shape: 12 layers × 12 heads, 768 wide.
    const shape = { layers: 12, heads: 12, hidden: 768 };
    const sizes: number[] = [];
    const evaluator = new BatchedEvaluator(
      async (b) => {
        sizes.push(b.batch);
        return { logits: { dims: [b.batch, 1], data: new Float32Array(b.batch) } };
      },
      { padId: 0, maxBatchTokens: 8192, maxBatchRows: 128, rowBytes: (n) => rowActivationBytes(shape, n), maxBatchBytes: BATCH_ACTIVATION_BYTES },
    );
    const extractor = { key: 'x', extract: (o: BatchOutputs, r: number) => o.logits.data[r] };
    const rowsOf = (tokens: number, count: number): InputRow[] =>
      Array.from({ length: count }, (_, i) => ({
        ids: Array.from({ length: tokens }, (_, t) => (t === 0 ? i + 1 : 7)),
        attention: new Array<number>(tokens).fill(1),
        typeIds: new Array<number>(tokens).fill(0),
        positionOf: Array.from({ length: tokens }, (_, t) => t),
      }));
    const batchesOf = async (tokens: number, count: number) => {
      sizes.length = 0;
      await evaluator.evaluate(rowsOf(tokens, count), { ...extractor, key: `x${tokens}` });
      return [...sizes];
    };
    assert.deepEqual(await batchesOf(30, 200), [128, 72], '30 tokens: as many rows as before');
    const at200 = await batchesOf(200, 40);
    assert.equal(Math.max(...at200), 17, '200 tokens: 17 rows a batch, not the 40 that 8,192 tokens allow');
    for (const n of at200) assert.ok(n * rowActivationBytes(shape, 200) <= BATCH_ACTIVATION_BYTES);
    assert.deepEqual(await batchesOf(500, 7), [3, 3, 1], '500 tokens: 3 rows a batch, not 16');
    assert.deepEqual(await batchesOf(1024, 2), [1, 1], 'a row over the budget still runs, alone');
  });

  test("the engine's evaluators bound their batches by the model's layers, heads and width", async () => {
    const service = await open('gpt2-op14');
    const model = service.current!;
    const options = model.evaluatorFor(await model.prepare('the story of a man')).options;
    assert.equal(options.maxBatchBytes, BATCH_ACTIVATION_BYTES);
    assert.equal(options.rowBytes!(100), rowActivationBytes({ layers: 2, heads: 4, hidden: 32 }, 100));
    service.dispose();
  });
});
