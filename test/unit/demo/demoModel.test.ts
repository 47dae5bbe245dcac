import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { openService, QUIET } from '../../support/engineService';
import { DEMO_MODEL, REPO_ROOT } from '../../support/fixtureModels';

/** The held-out accuracies the README states for the demo model. */
function statedAccuracy(): { fp32: number; int8: number } {
  const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const m = /held-out accuracy \*\*(0\.\d+)\*\* \(fp32\) and \*\*(0\.\d+)\*\* \(int8\)/.exec(readme);
  assert.ok(m, 'the README states the demo model\'s held-out accuracy');
  return { fp32: Number(m[1]), int8: Number(m[2]) };
}

function heldout(): { text: string; label: number }[] {
  return fs
    .readFileSync(path.join(DEMO_MODEL, 'heldout.tsv'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const tab = l.lastIndexOf('\t');
      return { text: l.slice(0, tab), label: Number(l.slice(tab + 1)) };
    });
}

describe('the demo model', () => {
  for (const variant of ['fp32', 'quantized'] as const) {
    test(`${variant}: held-out accuracy is what the README says (counted one sentence at a time)`, async () => {
      const service = await openService({ modelPath: DEMO_MODEL, variant });
      const rows = heldout();
      assert.equal(rows.length, 1365);
      let correct = 0;
      for (const row of rows) {
        const p = await service.handle('predict', { text: row.text }, QUIET);
        if ((p.candidates[0].label === 'POSITIVE' ? 1 : 0) === row.label) correct++;
      }
      const accuracy = correct / rows.length;
      const stated = statedAccuracy()[variant === 'fp32' ? 'fp32' : 'int8'];
      // Stated to four decimals; int8 activations are scaled per run, so one sentence may differ.
      assert.ok(Math.abs(accuracy - stated) <= (variant === 'fp32' ? 0.00005 : 1.5 / rows.length), `measured ${accuracy.toFixed(4)}, README says ${stated}`);
      service.dispose();
    });
  }

  test('its explanations make sense to a person: "not" pushes toward NEGATIVE, "good" toward POSITIVE', async () => {
    const service = await openService({ modelPath: DEMO_MODEL });
    const r = await service.handle('explain', { text: 'the movie was not good', method: 'exact-shapley', target: 'POSITIVE' }, QUIET);
    const value = Object.fromEntries(r.features.map((f) => [f.text, f.value]));
    assert.ok(value.not < 0, `"not" = ${value.not}`);
    assert.ok(value.good > 0, `"good" = ${value.good}`);
    const good = await service.handle('predict', { text: 'good' }, QUIET);
    const notGood = await service.handle('predict', { text: 'not good' }, QUIET);
    const pPos = (p: typeof good) => p.candidates.find((c) => c.label === 'POSITIVE')!.probability;
    assert.ok(pPos(notGood) < pPos(good));
    service.dispose();
  });
});
