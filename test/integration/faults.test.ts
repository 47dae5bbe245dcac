/**
 * Hostile input and faults in the editor: what an export may not destroy.
 */
import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ModelCard } from '../../src/protocol/engineApi';
import { Commands } from '../../src/ui/ids';
import type { LensApi } from '../../src/ui/lensApi';
import { activateLens, editorWith, SENTENCE, waitFor } from './lensSupport';

const sha = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

suite('Faults', function () {
  this.timeout(120000);
  let api: LensApi;
  let extensionPath: string;
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-lens-faults-'));

  suiteSetup(async function () {
    ({ api, extensionPath } = await activateLens());
    if (!fs.existsSync(path.join(extensionPath, 'models', 'demo-sentiment'))) this.skip();
  });

  suiteTeardown(async () => {
    await vscode.commands.executeCommand(Commands.useDemoModel);
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  test('Export Explanation never overwrites a file of the model, even when the file is chosen for it', async () => {
    // A copy of the demo model, so a failing guard could only damage the copy.
    const model = path.join(scratch, 'model-to-keep');
    fs.cpSync(path.join(extensionPath, 'models', 'demo-sentiment'), model, { recursive: true });
    const card = await vscode.commands.executeCommand<ModelCard | undefined>(Commands.openModel, model);
    assert.ok(card, 'the copy opens');
    await editorWith(SENTENCE);
    const before = api.lastExplanation;
    await vscode.commands.executeCommand(Commands.explainSelection);
    await waitFor('an explanation of the copy', () => (api.lastExplanation !== before && api.lastExplanation?.provenance.modelPath === card.path ? api.lastExplanation : undefined));

    const kept = [path.join(model, 'onnx', 'model.onnx'), path.join(model, 'tokenizer.json'), path.join(model, 'config.json')];
    const hashes = kept.map(sha);
    for (const file of kept) {
      for (const format of ['html', 'json'] as const) {
        const saved = await vscode.commands.executeCommand<vscode.Uri | undefined>(Commands.exportExplanation, format, vscode.Uri.file(file));
        assert.equal(saved, undefined, `${format} export onto ${path.basename(file)} is refused`);
      }
    }
    assert.deepEqual(kept.map(sha), hashes, 'the model files are unchanged');
    // Any other file is fine.
    const report = path.join(scratch, 'report.html');
    const saved = await vscode.commands.executeCommand<vscode.Uri | undefined>(Commands.exportExplanation, 'html', vscode.Uri.file(report));
    assert.equal(saved?.fsPath, report);
    assert.match(fs.readFileSync(report, 'utf8'), /^<!DOCTYPE html>/i);
  });
});
