import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseHeadList } from '../../../src/cli/insideCommands';
import { fixtureModel, generationFixture } from '../../support/fixtureModels';
import { readInspectReference } from '../inspect/inspectSupport';
import { tempDir } from '../../support/tempFolders';
import { describeRun, jsonOf, runCli } from './cliProcess';

const TEXT = 'this movie was great fun';
let bert: string;
let gpt2: string;
const work = tempDir('cli-inside');

before(() => {
  bert = fixtureModel('bert-cls-op14');
  gpt2 = fixtureModel('gpt2-op14');
});

describe('onnx-lens activations', () => {
  test('--json: norms and updates per state and token; updates are the distances between states', async () => {
    const run = await runCli(['activations', '--model', bert, '--json', '--token', '1', '--top', '4', TEXT]);
    assert.equal(run.code, 0, describeRun(run));
    const r = jsonOf(run);
    assert.equal(r.stack, 'encoder');
    assert.equal(r.norms.length, r.layers + 1);
    assert.equal(r.updates.length, r.layers);
    assert.equal(r.tokens.length, r.encoded.tokens.length);
    for (const row of [...r.norms, ...r.updates]) assert.equal(row.length, r.tokens.length);
    // The triangle inequality bounds each update by the norms around it.
    for (let i = 0; i < r.layers; i++) for (let t = 0; t < r.tokens.length; t++) {
      assert.ok(r.updates[i][t] <= r.norms[i][t] + r.norms[i + 1][t] + 1e-6);
      assert.ok(r.updates[i][t] >= Math.abs(r.norms[i + 1][t] - r.norms[i][t]) - 1e-6);
      assert.ok(Math.abs(r.relativeUpdates[i][t] - r.updates[i][t] / r.norms[i][t]) < 1e-6);
    }
    assert.equal(r.top.token, 1);
    assert.equal(r.top.units.length, 4);
    const abs = r.top.units.map((u: { value: number }) => Math.abs(u.value));
    assert.deepEqual(abs, [...abs].sort((a: number, b: number) => b - a));
  });

  test('text output: a row per state and per token, with update columns', async () => {
    const run = await runCli(['activations', '--model', bert, TEXT]);
    assert.equal(run.code, 0, describeRun(run));
    assert.match(run.stdout, /^  state +mean ‖h‖/m);
    assert.match(run.stdout, /^  emb +\d+\.\d{3}$/m);
    assert.match(run.stdout, /^  L1 +\d+\.\d{3} +\d+\.\d{3} +\d+\.\d{3} /m);
    assert.match(run.stdout, /^  token +emb +L1 +L2 +Δ1 +Δ2$/m);
    assert.match(run.stdout, /^  1 this +(\d+\.\d{2} +){4}\d+\.\d{2}$/m);
    assert.match(run.stdout, /^Most active units of token 0 \(\[CLS\]\) at hidden state 2$/m);
  });

  test('a token that does not exist is bad input', async () => {
    const run = await runCli(['activations', '--model', bert, '--token', '99', TEXT]);
    assert.equal(run.code, 1, describeRun(run));
    assert.match(run.stderr, /Token 99 does not exist/);
  });
});

describe('onnx-lens logit-lens', () => {
  test('--json: one row per hidden state; the last agrees with the model', async () => {
    const run = await runCli(['logit-lens', '--model', gpt2, '--json', '--top', '3', 'the film was']);
    assert.equal(run.code, 0, describeRun(run));
    const r = jsonOf(run);
    const predicted = jsonOf(await runCli(['predict', '--model', gpt2, '--json', 'the film was'])).candidates[0];
    assert.equal(r.prediction.id, predicted.id);
    assert.equal(r.position, r.encoded.tokens.length - 1);
    assert.deepEqual(r.layers.map((l: { index: number }) => l.index), Array.from({ length: r.layers.length }, (_x, i) => i));
    const last = r.layers[r.layers.length - 1];
    assert.equal(last.predictedRank, 0);
    assert.equal(last.top[0].id, predicted.id);
    assert.ok(r.layers.every((l: { top: unknown[] }) => l.top.length === 3));
    assert.ok(r.finalLayerMaxAbsDiff < 1e-3, String(r.finalLayerMaxAbsDiff));
  });

  test('text output: the position, the prediction and a row per state with its rank', async () => {
    const json = jsonOf(await runCli(['logit-lens', '--model', gpt2, '--json', 'the film was']));
    const run = await runCli(['logit-lens', '--model', gpt2, 'the film was']);
    assert.equal(run.code, 0, describeRun(run));
    assert.ok(run.stdout.startsWith(`Position: 2 (" was") — the model predicts ${JSON.stringify(json.prediction.label)}\n`), run.stdout);
    for (const l of json.layers) {
      const name = l.index === 0 ? 'emb' : `L${l.index}`;
      assert.match(run.stdout, new RegExp(`^  ${name} +${l.predictedRank + 1} +${l.predictedProbability.toFixed(4)} `, 'm'));
    }
  });
});

describe('onnx-lens heads', () => {
  test('--json: a layers × heads grid, and pruning heads together', async () => {
    const run = await runCli(['heads', '--model', bert, '--json', '--prune', '0:1,1:2', TEXT]);
    assert.equal(run.code, 0, describeRun(run));
    const r = jsonOf(run);
    assert.equal(r.grid.length, r.layers);
    assert.ok(r.grid.every((row: number[]) => row.length === r.heads));
    assert.ok(r.grid.flat().some((v: number) => v !== 0), 'removing heads changes the output');
    assert.deepEqual(r.prune.heads, [[0, 1], [1, 2]]);
    assert.equal(r.prune.perText.length, 1);
    assert.ok(Math.abs(r.prune.perText[0].value - (r.targets[0].baseValue + r.prune.change)) < 1e-4);
    assert.ok(r.prune.flipRate === 0 || r.prune.flipRate === 1);
  });

  test('--lines averages the grid over the examples of a file', async () => {
    const texts = [TEXT, 'a dull and tedious story', 'the acting was superb'];
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-lens-heads-')), 'examples.txt');
    fs.writeFileSync(file, `${texts.join('\n')}\n\n`);
    const all = jsonOf(await runCli(['heads', '--model', bert, '--json', '--lines', '--file', file]));
    assert.equal(all.targets.length, 3);
    const singles = await Promise.all(texts.map(async (t) => jsonOf(await runCli(['heads', '--model', bert, '--json', t]))));
    for (let l = 0; l < all.layers; l++) {
      for (let h = 0; h < all.heads; h++) {
        const mean = singles.reduce((sum, r) => sum + r.grid[l][h], 0) / 3;
        assert.ok(Math.abs(all.grid[l][h] - mean) < 1e-4, `L${l}:H${h}`);
      }
    }
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  });

  test('text output: the grid rows, largest effects and the pruning line', async () => {
    const json = jsonOf(await runCli(['heads', '--model', bert, '--json', TEXT]));
    const run = await runCli(['heads', '--model', bert, '--prune', '0:0', TEXT]);
    assert.equal(run.code, 0, describeRun(run));
    assert.match(run.stdout, /^  layer +H0 +H1 +H2 +H3 +whole layer$/m);
    const l0 = json.grid[0].map((v: number) => `\\${v < 0 ? '-' : '+'}${Math.abs(v).toFixed(3)}`).join(' +');
    assert.match(run.stdout, new RegExp(`^  L0 +${l0} `, 'm'));
    assert.match(run.stdout, /^  Largest effects: L\d:H\d [+-]\d/m);
    assert.match(run.stdout, /^Pruning L0:H0 together$/m);
    assert.match(run.stdout, /mean change [+-]\d+\.\d{4}; prediction flips on \d+\.\d% of texts/);
    // Progress names the work once: "Ablating attention heads: 3 of 13 masks".
    assert.match(run.stderr, /Ablating attention heads: \d+ of \d+ masks/);
    assert.doesNotMatch(run.stderr, /heads: head ablation/);
  });

  test('a merged decoder (its layers inside an If): the grid is PyTorch\'s, and one pruned head costs its grid value', async () => {
    // gpt2-merged holds gpt2-op14's weights: PyTorch's head-masked gpt2-op14 is its reference.
    const ref = readInspectReference<Record<string, { base_target_logit: number; single_head_target_logit: number[][]; target: number }>>('head-mask.json')['gpt2-op14'];
    const merged = generationFixture('gpt2-merged');
    const text = 'The man went to the house.';
    const run = await runCli(['heads', '--model', merged, '--json', '--prune', '1:2', text]);
    assert.equal(run.code, 0, describeRun(run));
    const r = jsonOf(run);
    assert.deepEqual([r.layers, r.heads], [2, 4]);
    assert.equal(r.targets[0].target.id, ref.target);
    assert.equal(r.grid.length, 2);
    for (let l = 0; l < 2; l++) {
      assert.equal(r.grid[l].length, 4);
      for (let h = 0; h < 4; h++) {
        assert.ok(Number.isFinite(r.grid[l][h]));
        const want = ref.single_head_target_logit[l][h] - ref.base_target_logit;
        assert.ok(Math.abs(r.grid[l][h] - want) < 1e-5, `L${l}:H${h} ${r.grid[l][h]} vs PyTorch ${want}`);
      }
    }
    assert.ok(Math.abs(r.prune.perText[0].value - r.targets[0].baseValue - r.grid[1][2]) < 1e-6, 'the masked run of L1:H2 is its grid value');
    const shown = await runCli(['heads', '--model', merged, text]);
    assert.equal(shown.code, 0, describeRun(shown));
    assert.match(shown.stdout, /^  layer +H0 +H1 +H2 +H3 +whole layer$/m);
    assert.match(shown.stdout, /^  L1 +[+-]\d\.\d{3} +[+-]\d\.\d{3} +[+-]\d\.\d{3} +[+-]\d\.\d{3} /m);
  });

  test('bad --prune values and heads that do not exist are bad input', async () => {
    assert.throws(() => parseHeadList('0-1'), /not LAYER:HEAD/);
    assert.throws(() => parseHeadList(' , '), /empty/);
    assert.deepEqual(parseHeadList('0:1, 0:1,2:3'), [[0, 1], [2, 3]]);
    const run = await runCli(['heads', '--model', bert, '--prune', '7:0', TEXT]);
    assert.equal(run.code, 1, describeRun(run));
    assert.match(run.stderr, /Head \[7, 0\] does not exist/);
    const noGrid = await runCli(['heads', '--model', bert, '--no-grid', TEXT]);
    assert.equal(noGrid.code, 1, describeRun(noGrid));
  });
});

describe('onnx-lens robustness', () => {
  test('--json: seeded variants; the same seed gives the same variants', async () => {
    const args = ['robustness', '--model', bert, '--json', '--seed', '3', '--max-variants', '6', TEXT];
    const run = await runCli(args);
    assert.equal(run.code, 0, describeRun(run));
    const r = jsonOf(run);
    assert.equal(r.seed, 3);
    assert.equal(r.variants.length, 6);
    assert.equal(r.summary.variants, 6);
    const flips = r.variants.filter((v: { flipped: boolean }) => v.flipped).length;
    assert.ok(Math.abs(r.summary.flipRate - flips / 6) < 1e-12);
    for (const v of r.variants) {
      assert.notEqual(v.text, TEXT);
      assert.equal(v.flipped, v.predicted !== r.original.predicted);
      assert.ok(v.totalVariation >= 0 && v.totalVariation <= 1);
    }
    const again = jsonOf(await runCli(args));
    assert.deepEqual(again.variants.map((v: { text: string }) => v.text), r.variants.map((v: { text: string }) => v.text));
  });

  test('text output: one row per variant, flips marked, a summary per kind', async () => {
    const json = jsonOf(await runCli(['robustness', '--model', bert, '--json', '--seed', '3', '--max-variants', '6', TEXT]));
    const run = await runCli(['robustness', '--model', bert, '--seed', '3', '--max-variants', '6', TEXT]);
    assert.equal(run.code, 0, describeRun(run));
    assert.match(run.stdout, /^Original: POSITIVE|^Original: NEGATIVE/m);
    for (const v of json.variants) {
      const line = run.stdout.split('\n').find((l) => l.trimEnd().endsWith(v.text));
      assert.ok(line, `a row for "${v.text}"`);
      assert.equal(/ FLIP /.test(line), v.flipped, line);
    }
    assert.match(run.stdout, /^Summary: 6 variants, flip rate \d+\.\d%/m);
    const kinds = run.stdout.split('\n').filter((l) => /^  (delete|swap|insert|synonym|char-noise) +\d+ variants?, \d+ flips?/.test(l));
    assert.equal(kinds.length, Object.keys(json.summary.byKind).length);
    assert.match(run.stderr, /: \d+ of 6 variants/);
    assert.doesNotMatch(run.stderr, /robustness: robustness|: robustness: /i);
  });
});

describe('onnx-lens dataset', () => {
  test('--json on a csv: accuracy, confusion, words, misclassified; --csv writes the examples', async () => {
    const file = path.join(work, 'reviews.csv');
    fs.writeFileSync(file, 'sentence,label\n"this movie was great fun",POSITIVE\nawful and boring,NEGATIVE\n"i loved it, really",POSITIVE\n,POSITIVE\n');
    const csv = path.join(work, 'out.csv');
    const run = await runCli(['dataset', '--model', bert, file, '--text-column', 'sentence', '--label-column', 'label', '--csv', csv, '--json']);
    assert.equal(run.code, 0, describeRun(run));
    const r = jsonOf(run);
    assert.equal(r.format, 'csv');
    assert.equal(r.examples, 3);
    assert.equal(r.skipped.length, 1);
    assert.equal(r.skipped[0].line, 5);
    assert.equal(r.labelled, 3);
    assert.deepEqual(r.labels, ['NEGATIVE', 'POSITIVE']);
    const total = r.confusion.flat().reduce((a: number, b: number) => a + b, 0);
    assert.equal(total, 3);
    const diagonal = r.confusion.reduce((s: number, row: number[], i: number) => s + row[i], 0);
    assert.equal(r.correct, diagonal);
    assert.ok(Math.abs(r.accuracy - diagonal / 3) < 1e-12);
    assert.equal(r.misclassifiedTotal, 3 - diagonal);
    for (const e of r.misclassified) assert.notEqual(e.label, e.predicted);
    assert.ok(r.words && Object.keys(r.words).length > 0);
    const lines = fs.readFileSync(csv, 'utf8').split('\r\n');
    assert.match(lines[0], /^section,line,text,label,predicted,probability/);
    assert.equal(lines.filter((l) => l.startsWith('misclassified,')).length, r.misclassified.length);
    assert.equal(lines.filter((l) => l.startsWith('least-confident,')).length, r.leastConfident.length);
  });

  test('text output on a jsonl file without labels: predictions and least confident examples', async () => {
    const file = path.join(work, 'texts.jsonl');
    fs.writeFileSync(file, ['this movie was great fun', 'awful and boring', 'i loved it'].map((text) => JSON.stringify({ text })).join('\n') + '\n');
    const json = jsonOf(await runCli(['dataset', '--model', bert, file, '--json', '--explain-method', 'none']));
    assert.equal(json.accuracy, undefined);
    assert.equal(json.method, 'none');
    const run = await runCli(['dataset', '--model', bert, file, '--explain-method', 'none']);
    assert.equal(run.code, 0, describeRun(run));
    assert.match(run.stdout, /^File: .*texts\.jsonl \(jsonl\)$/m);
    assert.match(run.stdout, /^3 examples, 0 labelled, 0 explained;/m);
    assert.doesNotMatch(run.stdout, /Accuracy/);
    assert.match(run.stdout, /^Least confident$/m);
    for (const e of json.leastConfident) assert.match(run.stdout, new RegExp(`^  line ${e.line} +${e.predicted} \\d+\\.\\d%  ${e.text}$`, 'm'));
  });

  test('a missing file or missing FILE argument is bad input', async () => {
    const missing = await runCli(['dataset', '--model', bert, path.join(work, 'nope.csv')]);
    assert.equal(missing.code, 1, describeRun(missing));
    const none = await runCli(['dataset', '--model', bert]);
    assert.equal(none.code, 1, describeRun(none));
    assert.match(none.stderr, /dataset needs a FILE/);
  });
});

describe('onnx-lens compare: the engine comparison', () => {
  test('fp32 vs quantized: KL divergence and a per-head attention difference', async () => {
    const run = await runCli(['compare', '--model', bert, '--model', bert, '--variant', 'fp32', '--variant', 'quantized', '--method', 'occlusion', '--json', TEXT]);
    assert.equal(run.code, 0, describeRun(run));
    const c = jsonOf(run);
    assert.ok(c.klDivergence >= 0);
    assert.ok(c.attention.length > 0);
    for (const a of c.attention) assert.ok(a.meanAbsDiff.every((v: number) => v >= 0));
    const text = await runCli(['compare', '--model', bert, '--model', bert, '--variant', 'fp32', '--variant', 'quantized', '--method', 'occlusion', TEXT]);
    assert.match(text.stdout, /KL\(A‖B\) \d+\.\d{5} nats/);
    assert.match(text.stdout, /^Attention difference per head/m);
    assert.match(text.stdout, /^  L0 self +\d\.\d{4}/m);
  });
});
