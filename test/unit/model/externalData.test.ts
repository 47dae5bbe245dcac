// A model whose weights live in an external-data file beside the graph runs with the weights of its own
// folder, whatever the working directory, and never with a same-named file of the working directory.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fixtureModel, readReference } from '../../support/fixtureModels';
import { tempDir } from '../../support/tempFolders';
import { describeRun, jsonOf, runCli } from '../cli/cliProcess';

const TEXT = 'a good story, not a bad one';

interface Prediction {
  candidates: { label: string; logit: number }[];
  encoded: { tokens: { id: number }[] };
}

/** The closed form of the additive fixture: logit POSITIVE = Σ w[id] over the attended tokens, NEGATIVE = 0. */
function expectedPositive(ids: number[]): number {
  const w = (readReference('additive-bow-external') as unknown as { weights: number[] }).weights;
  return ids.reduce((s, id) => s + w[id], 0);
}

async function predictFrom(cwd: string, model: string): Promise<Prediction> {
  const run = await runCli(['predict', '--model', model, '--json', TEXT], { cwd, timeoutMs: 60_000 });
  assert.equal(run.code, 0, describeRun(run));
  return jsonOf<Prediction>(run);
}

function assertClosedForm(p: Prediction, where: string): void {
  const ids = p.encoded.tokens.map((t) => t.id);
  const positive = p.candidates.find((c) => c.label === 'POSITIVE')!.logit;
  const negative = p.candidates.find((c) => c.label === 'NEGATIVE')!.logit;
  assert.ok(Math.abs(positive - expectedPositive(ids)) < 1e-5, `${where}: POSITIVE logit ${positive}, expected ${expectedPositive(ids)}`);
  assert.equal(Math.abs(negative), 0, where);
}

describe('external data', () => {
  test('the weights come from the model folder, from any working directory, never from a decoy there', async () => {
    const model = fixtureModel('additive-bow-external');
    const data = path.join(model, 'onnx', 'model.onnx_data');
    assert.ok(fs.statSync(data).size > 1000, 'the fixture keeps its weights in onnx/model.onnx_data');
    assert.ok(fs.statSync(path.join(model, 'onnx', 'model.onnx')).size < 1000, 'the graph file itself holds no weights');

    // A working directory with a same-named data file of zeros: loading it would give logits of 0.
    const decoy = tempDir('decoy-cwd');
    fs.writeFileSync(path.join(decoy, 'model.onnx_data'), Buffer.alloc(fs.statSync(data).size));
    assertClosedForm(await predictFrom(decoy, model), 'run from a folder holding a decoy');

    // The graph's own folder, and a folder with no data file at all.
    assertClosedForm(await predictFrom(path.join(model, 'onnx'), model), 'run from onnx/');
    assertClosedForm(await predictFrom(tempDir('plain-cwd'), model), 'run from an unrelated folder');
  });
});
