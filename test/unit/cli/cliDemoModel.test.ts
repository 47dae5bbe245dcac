import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEMO_MODEL, REPO_ROOT } from '../../support/fixtureModels';
import { describeRun, jsonOf, runCli } from './cliProcess';

const hasDemo = fs.existsSync(path.join(DEMO_MODEL, 'onnx', 'model.onnx'));

describe('onnx-lens without --model: the demo model', () => {
  test('inspect shows the demo sentiment classifier', { skip: !hasDemo && 'the demo model is not built' }, async () => {
    const card = jsonOf(await runCli(['inspect', '--json']));
    assert.equal(card.task, 'sequence-classification');
    assert.deepEqual([...card.labels].sort(), ['NEGATIVE', 'POSITIVE']);
    assert.equal(card.path, DEMO_MODEL);
  });

  test('explain tells a clearly positive from a clearly negative review', { skip: !hasDemo && 'the demo model is not built' }, async () => {
    const pos = await runCli(['explain', '--method', 'exact-shapley', 'a wonderful, moving film with brilliant acting']);
    assert.equal(pos.code, 0, describeRun(pos));
    assert.match(pos.stdout, /^Prediction: POSITIVE /m);
    for (const w of ['wonderful', 'moving', 'film', 'brilliant', 'acting']) assert.match(pos.stdout, new RegExp(`^  ${w} +[+-]\\d`, 'm'));

    const neg = jsonOf(await runCli(['explain', '--method', 'exact-shapley', '--json', 'a dull, tedious and boring mess']));
    assert.equal(neg.fullOutput.candidates[0].label, 'NEGATIVE');
    const sum = neg.features.reduce((s: number, f: { value: number }) => s + f.value, 0);
    assert.ok(Math.abs(sum - (neg.outputValue - neg.baseValue)) < 1e-4);
  });

  test('the README\'s Quick start: its sentence gets the prediction and the reasons the README gives', { skip: !hasDemo && 'the demo model is not built' }, async () => {
    const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    const sentence = /npx onnx-lens explain "([^"]+)"/.exec(readme)?.[1];
    assert.ok(sentence, 'the Quick start runs onnx-lens explain on a sentence');
    const r = jsonOf(await runCli(['explain', '--json', sentence]));
    const top = r.fullOutput.candidates[0];
    // "It gets this one wrong — NEGATIVE, 78 %"
    assert.equal(top.label, 'NEGATIVE');
    assert.match(readme, new RegExp(`NEGATIVE, ${Math.round(top.probability * 100)} %`));
    // "plot", "was" and "thin" pull toward NEGATIVE more than "superb" pulls away from it.
    const value = (w: string) => r.features.find((f: { text: string }) => f.text === w).value as number;
    assert.ok(value('plot') > 0 && value('was') > 0 && value('thin') > 0 && value('superb') < 0, JSON.stringify(r.features));
    assert.ok(value('plot') + value('was') + value('thin') > -value('superb'));
    const sum = r.features.reduce((s: number, f: { value: number }) => s + f.value, 0);
    assert.ok(Math.abs(sum - (r.outputValue - r.baseValue)) < 1e-4);
  });

  test('attention on the demo model: rows sum to 1', { skip: !hasDemo && 'the demo model is not built' }, async () => {
    const a = jsonOf(await runCli(['attention', '--json', '--no-hidden', 'not bad at all']));
    assert.ok(a.attentions.length > 0);
    for (const layer of a.attentions) {
      const [, heads, q, k] = layer.shape;
      for (let r = 0; r < heads * q; r++) {
        const s = layer.data.slice(r * k, (r + 1) * k).reduce((x: number, y: number) => x + y, 0);
        assert.ok(Math.abs(s - 1) < 1e-3);
      }
    }
  });

  test('without the demo model, a command without --model says how to pick one and exits 2', async () => {
    // The package laid out without models/: its bundles, bin and manifest, and the same node_modules.
    const pkg = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-lens-nodemo-'));
    try {
      for (const part of ['package.json', 'bin', 'dist']) fs.cpSync(path.join(REPO_ROOT, part), path.join(pkg, part), { recursive: true });
      fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(pkg, 'node_modules'));
      const run = await runCli(['predict', 'some text'], { bin: path.join(pkg, 'bin', 'onnx-lens.js') });
      assert.equal(run.code, 2, describeRun(run));
      assert.match(run.stderr, /demo model is not installed.*--model/);
    } finally {
      fs.rmSync(pkg, { recursive: true, force: true });
    }
  });
});
