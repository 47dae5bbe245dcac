import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyRemoval } from '../../../src/engine/run/inputVariants';
import { logitsExtractor } from '../../../src/engine/run/outputReaders';
import { CancelledError } from '../../../src/engine/run/cancellation';
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
});
