// Explanations held to an independent reference: the model's function evaluated by a plain onnxruntime
// session in the test, one unpadded row at a time, with the test's own word removal, and Shapley values by
// their definition (marginal contributions averaged over every order of the words). Efficiency is then a
// property of the model, not of the code that computes the values.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import type { EngineService } from '../../../src/engine/process/engineService';
import type { ExplanationResult, MethodName } from '../../../src/protocol/engineApi';
import { openService, QUIET } from '../../support/engineService';
import { DEMO_MODEL, fixtureModel } from '../../support/fixtureModels';
import { PlainModel, removeWords, valueTable, type PlainRemoval } from '../../support/plainOnnx';
import { shapleyByPermutations } from './valueFunctions';

const sum = (xs: ArrayLike<number>) => Array.from(xs).reduce((a, b) => a + b, 0);
const services: EngineService[] = [];
const plains: PlainModel[] = [];
after(async () => {
  services.forEach((s) => s.dispose());
  for (const p of plains) await p.release();
});

/** A model folder holding only the int8 export of the masked-LM fixture (no model.onnx beside it). */
function int8OnlyFillMask(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-lens-int8-mlm-'));
  fs.cpSync(fixtureModel('bert-mlm-op14'), dir, { recursive: true });
  fs.rmSync(path.join(dir, 'onnx', 'model.onnx'));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

interface Case {
  name: string;
  folder: () => string;
  variant?: string;
  file: string;
  text: string;
}

const CASES: Case[] = [
  { name: 'BERT classifier, fp32', folder: () => fixtureModel('bert-cls-op14'), file: 'model.onnx', text: 'this film was not good at all' },
  { name: 'BERT classifier, int8', folder: () => fixtureModel('bert-cls-op14'), variant: 'quantized', file: 'model_quantized.onnx', text: 'this film was not good at all' },
  { name: 'DistilBERT classifier, int8', folder: () => fixtureModel('distilbert-cls-op14'), variant: 'quantized', file: 'model_quantized.onnx', text: 'a great story with a thin plot' },
  { name: 'demo model, int8', folder: () => DEMO_MODEL, variant: 'quantized', file: 'model_quantized.onnx', text: 'the plot was thin but the acting was superb' },
  { name: 'BERT fill-mask, fp32', folder: () => fixtureModel('bert-mlm-op14'), file: 'model.onnx', text: 'the man went to the [MASK] to buy milk' },
  { name: 'int8-only fill-mask folder', folder: int8OnlyFillMask, file: 'model_quantized.onnx', text: 'the man went to the [MASK] to buy milk' },
  { name: 'GPT-2, fp32', folder: () => fixtureModel('gpt2-op14'), file: 'model.onnx', text: 'the story of a man who went to the' },
];

interface Opened {
  service: EngineService;
  plain: PlainModel;
  folder: string;
}

const opened = new Map<string, Promise<Opened>>();
function open(c: Case): Promise<Opened> {
  let o = opened.get(c.name);
  if (!o) {
    o = (async () => {
      const folder = c.folder();
      const service = await openService({ modelPath: folder, variant: c.variant });
      services.push(service);
      const plain = await PlainModel.open(path.join(folder, 'onnx', c.file));
      plains.push(plain);
      return { service, plain, folder };
    })();
    opened.set(c.name, o);
  }
  return o;
}

/** The reference value function of an explanation's words: every coalition through the plain session. */
async function referenceTable(o: Opened, text: string, r: ExplanationResult): Promise<Float64Array> {
  const model = o.service.current!;
  const ids = (await model.prepare(text)).encoding.ids;
  const words = r.features.map((f) => f.tokenIndices);
  const tok = model.tokenizer.special;
  const removal: PlainRemoval = r.provenance.removal === 'mask' ? { kind: 'mask', maskId: tok.mask! } : { kind: 'delete', emptyId: tok.bos ?? tok.eos ?? tok.unk ?? tok.pad ?? 0 };
  const watch = r.target.kind === 'masked-token' ? r.target.position! : -1;
  return valueTable(words.length, async (mask) => {
    const row = removeWords(ids, words, (j) => ((mask >> j) & 1) === 1, removal, watch);
    const logits = await o.plain.logits(row.ids);
    const at = r.target.kind === 'masked-token' ? row.watched : r.target.kind === 'next-token' ? row.ids.length - 1 : 0;
    const l = logits[at];
    return r.target.contrastId === undefined ? l[r.target.id] : l[r.target.id] - l[r.target.contrastId];
  });
}

/** Float32 models evaluated in padded batches against one unpadded row: round-off only. */
const TOLERANCE = 2e-5;

describe('explanations against an independent reference (plain onnxruntime, one row at a time)', () => {
  for (const c of CASES) {
    test(`${c.name}: exact Shapley values equal the brute-force Shapley values of the model, and add up to its f(x) − f(∅)`, async () => {
      const o = await open(c);
      const r = await o.service.handle('explain', { text: c.text, method: 'exact-shapley' }, QUIET);
      const n = r.features.length;
      const table = await referenceTable(o, c.text, r);
      const reference = shapleyByPermutations(n, (z) => table[z.reduce((m, bit, j) => m | (bit << j), 0)]);
      const full = table[(1 << n) - 1];
      const empty = table[0];
      assert.ok(Math.abs(r.outputValue - full) < TOLERANCE, `f(x): engine ${r.outputValue}, reference ${full}`);
      assert.ok(Math.abs(r.baseValue - empty) < TOLERANCE, `f(∅): engine ${r.baseValue}, reference ${empty}`);
      assert.ok(Math.abs(sum(reference) - (full - empty)) < 1e-9, 'the reference is efficient by definition');
      r.features.forEach((f, j) => assert.ok(Math.abs(f.value - reference[j]) < TOLERANCE, `${f.text}: engine ${f.value}, reference ${reference[j]}`));
      assert.ok(Math.abs(sum(r.features.map((f) => f.value)) - (full - empty)) < TOLERANCE * n, 'Σφ = f(x) − f(∅) of the reference');
      assert.ok(reference.some((v) => Math.abs(v) > 1e-3), 'the words matter to this model');
    });
  }

  test('int8-only fill-mask folder: every method gives attributions, and occlusion is the reference leave-one-out', async () => {
    const c = CASES.find((x) => x.name === 'int8-only fill-mask folder')!;
    const o = await open(c);
    assert.equal(o.service.current!.card.variant, 'quantized');
    const exact = await o.service.handle('explain', { text: c.text, method: 'exact-shapley' }, QUIET);
    const table = await referenceTable(o, c.text, exact);
    const n = exact.features.length;
    const all = (1 << n) - 1;
    for (const method of ['occlusion', 'kernel-shap', 'partition-shap', 'lime', 'exact-shapley'] as MethodName[]) {
      const r = await o.service.handle('explain', { text: c.text, method, budget: 300, seed: 1 }, QUIET);
      assert.ok(r.features.some((f) => Math.abs(f.value) > 1e-3), `${method}: ${r.features.map((f) => f.value).join(', ')}`);
      assert.ok(Math.abs(r.outputValue - table[all]) < TOLERANCE, `${method}: f(x) ${r.outputValue} vs ${table[all]}`);
      if (method === 'occlusion') {
        r.features.forEach((f, j) => assert.ok(Math.abs(f.value - (table[all] - table[all & ~(1 << j)])) < TOLERANCE, `${f.text}: ${f.value}`));
      }
    }
  });

  test('an int8 model gives the same value for a text in an explanation as in a prediction', async () => {
    const o = await open(CASES.find((x) => x.name === 'demo model, int8')!);
    const text = 'the plot was thin, but the acting was superb';
    const p = await o.service.handle('predict', { text }, QUIET);
    const ids = (await o.service.current!.prepare(text)).encoding.ids;
    const alone = (await o.plain.logits(ids))[0];
    for (const method of ['partition-shap', 'kernel-shap', 'lime'] as MethodName[]) {
      const r = await o.service.handle('explain', { text, method, target: 'POSITIVE', budget: 500 }, QUIET);
      assert.ok(Math.abs(r.outputValue - alone[r.target.id]) < TOLERANCE, `${method}: ${r.outputValue} in the explanation, ${alone[r.target.id]} alone`);
      const predicted = p.candidates.find((x) => x.id === r.target.id)!.logit;
      assert.ok(Math.abs(predicted - alone[r.target.id]) < TOLERANCE, `predict: ${predicted}`);
    }
  });
});
