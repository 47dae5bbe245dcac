import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LensEngine } from '../../src/ui/engine/lensEngine';
import { EXTENSION_ID } from '../../src/ui/ids';
import { OutputLog } from '../../src/ui/outputLog';

suite('the configured model', function () {
  this.timeout(60000);

  test('a fresh engine opens onnxLens.modelPath on first use', async () => {
    const extension = vscode.extensions.getExtension(EXTENSION_ID)!;
    await extension.activate();
    const demo = path.join(extension.extensionPath, 'models', 'demo-sentiment');
    const config = vscode.workspace.getConfiguration('onnxLens');
    await config.update('modelPath', demo, vscode.ConfigurationTarget.Global);
    const log = new OutputLog();
    const engine = new LensEngine(path.join(extension.extensionPath, 'dist', 'engine.js'), log);
    try {
      const card = await engine.ensureModel();
      assert.ok(card, 'the configured model opens');
      assert.equal(card.name, 'demo-sentiment');
    } finally {
      engine.dispose();
      log.dispose();
      await config.update('modelPath', undefined, vscode.ConfigurationTarget.Global);
    }
  });
});
