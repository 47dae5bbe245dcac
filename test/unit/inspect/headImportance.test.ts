import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { gridEvaluations, headImportance, maskedLogits } from '../../../src/engine/inspect/headImportance';
import { LoadedModel } from '../../../src/engine/model/loadedModel';
import { QUIET } from '../../support/engineService';
import { generationFixture } from '../../support/fixtureModels';
import { maxAbsDiff } from '../../support/tensorDifference';
import { openFixture, readInspectReference } from './inspectSupport';

interface HeadMaskCase {
  input_ids: number[];
  layers: number;
  heads: number;
  target: number;
  base_target_logit: number;
  single_head_target_logit: number[][];
  layer_masked: { layer: number; logits: number[]; target_logit: number }[];
  chosen_heads: [number, number][];
  chosen_target_logit: number;
  decisive?: [number, number];
}

const reference = readInspectReference<Record<string, HeadMaskCase>>('head-mask.json');
/** The texts whose tokens are the reference rows (checked below). */
const TEXTS: Record<string, string> = {
  'bert-cls-op14': 'this film was not good at all',
  'bert-mlm-op14': 'the man went to the [MASK].',
  'gpt2-op14': 'The man went to the house.',
  'bert-decisive-head': 'this film was not good at all',
};

/**
 * Optimum's merged decoder keeps its layers inside the two branches of an If; `gpt2-merged` holds gpt2-op14's weights
 * and vocabulary, so PyTorch's head-masked gpt2-op14 is its reference too (the tokens and the unmasked logit are
 * checked against it first). Head importance runs the text without past: the If's else branch.
 */
const CASES = [
  ...Object.entries(TEXTS).map(([name, text]) => ({ name, ref: name, text, open: () => openFixture(name) })),
  { name: 'gpt2-merged', ref: 'gpt2-op14', text: TEXTS['gpt2-op14'], open: () => openMerged() },
];

let merged: Promise<LoadedModel> | undefined;
function openMerged(): Promise<LoadedModel> {
  merged ??= LoadedModel.open(generationFixture('gpt2-merged'), undefined, { threads: 1 });
  return merged;
}

describe('head importance against PyTorch with the same head masks', () => {
  for (const { name, ref: refName, text, open } of CASES) {
    const ref = reference[refName];
    test(`${name}: every single-head ablation, every layer ablation and the prune set match PyTorch`, async () => {
      const model = await open();
      const input = await model.prepare(text);
      assert.deepEqual(input.encoding.ids, ref.input_ids, 'the text tokenizes to the reference row');
      const r = await headImportance(model, { text, prune: ref.chosen_heads }, QUIET);
      assert.equal(r.layers, ref.layers);
      assert.equal(r.heads, ref.heads);
      assert.equal(r.targets[0].target.id, ref.target);
      assert.ok(Math.abs(r.targets[0].baseValue - ref.base_target_logit) < 1e-5);
      let worst = 0;
      for (let l = 0; l < ref.layers; l++) {
        for (let h = 0; h < ref.heads; h++) {
          worst = Math.max(worst, Math.abs(r.targets[0].baseValue + r.grid![l][h] - ref.single_head_target_logit[l][h]));
        }
        worst = Math.max(worst, Math.abs(r.targets[0].baseValue + r.layerAblation![l] - ref.layer_masked[l].target_logit));
      }
      assert.ok(worst < 1e-5, `largest difference from PyTorch ${worst}`);
      assert.ok(Math.abs(r.targets[0].baseValue + r.prune!.change - ref.chosen_target_logit) < 1e-5);
      // Cost: L·H single heads + L layers + the unmasked model + the prune set, each distinct mask run once
      // (a prune set of one head is a mask the grid already ran).
      const pruneIsNew = ref.chosen_heads.length > 1 ? 1 : 0;
      assert.equal(r.evaluations.masks, gridEvaluations(ref.layers, ref.heads) + ref.layers + pruneIsNew);
    });

    test(`${name}: every head of each layer masked gives PyTorch's whole output within 1e-5`, async () => {
      const model = await open();
      for (const want of ref.layer_masked) {
        const off = Array.from({ length: ref.heads }, (_, h) => [want.layer, h] as [number, number]);
        const got = await maskedLogits(model, text, off);
        const diff = maxAbsDiff(got, want.logits);
        assert.ok(diff < 1e-5, `layer ${want.layer}: ${diff}`);
      }
    });
  }

  test('the planted decisive head is found, and removing it moves the logit by the expected amount', async () => {
    const ref = reference['bert-decisive-head'];
    const model = await openFixture('bert-decisive-head');
    const r = await headImportance(model, { text: TEXTS['bert-decisive-head'] }, QUIET);
    const flat = r.absGrid!.flat();
    const best = flat.indexOf(Math.max(...flat));
    assert.deepEqual([Math.floor(best / r.heads), best % r.heads], ref.decisive);
    const [l, h] = ref.decisive!;
    const expected = ref.single_head_target_logit[l][h] - ref.base_target_logit;
    assert.ok(Math.abs(r.grid![l][h] - expected) < 1e-5, `${r.grid![l][h]} vs ${expected}`);
    // It dominates: at least 1.5 times the next most important head.
    const second = [...flat].sort((a, b) => b - a)[1];
    assert.ok(flat[best] > 1.5 * second, `${flat[best]} vs ${second}`);
  });
});

describe('head importance over several texts', () => {
  test('the averaged grid is the mean of the per-text grids, at the cost of one run per mask', async () => {
    const model = await openFixture('bert-cls-op14');
    const texts = ['this film was not good at all', 'a great story', 'the acting was fine but the story was weak'];
    const all = await headImportance(model, { texts }, QUIET);
    const singles = await Promise.all(texts.map((text) => headImportance(model, { text }, QUIET)));
    for (let l = 0; l < all.layers; l++) {
      for (let h = 0; h < all.heads; h++) {
        const mean = singles.reduce((a, s) => a + s.grid![l][h], 0) / texts.length;
        assert.ok(Math.abs(all.grid![l][h] - mean) < 1e-5);
      }
    }
    assert.equal(all.evaluations.masks, singles[0].evaluations.masks);
    assert.equal(all.evaluations.rows, all.evaluations.masks * texts.length);
    assert.equal(all.evaluations.batches, all.evaluations.masks, 'all texts share one run per mask');
  });

  test('pruning reports which predictions flip; heads outside the model are refused', async () => {
    const model = await openFixture('bert-decisive-head');
    const r = await headImportance(model, { text: TEXTS['bert-decisive-head'], prune: [[1, 1]], gridOff: true }, QUIET);
    assert.equal(r.grid, undefined);
    assert.equal(r.evaluations.masks, 2);
    const ref = reference['bert-decisive-head'] as HeadMaskCase & { base_logits: number[]; chosen_logits: number[] };
    const argmax = (v: number[]) => v.indexOf(Math.max(...v));
    const flippedInPyTorch = argmax(ref.base_logits) !== argmax(ref.chosen_logits);
    assert.equal(r.prune!.perText[0].flipped, flippedInPyTorch);
    assert.equal(r.prune!.flipRate, flippedInPyTorch ? 1 : 0);
    await assert.rejects(() => headImportance(model, { text: 'a', prune: [[2, 0]] }, QUIET), /layers 0–1 and heads 0–3/);
    assert.equal(gridEvaluations(12, 12), 145);
  });
});
