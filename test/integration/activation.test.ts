/** Smoke test: the extension is installed, activates, and registers its commands. */
import * as assert from 'assert';
import * as vscode from 'vscode';

const EXTENSION_ID = 'onnx-lens.onnx-lens';

suite('Activation', () => {
  test('the extension is present', () => {
    assert.ok(vscode.extensions.getExtension(EXTENSION_ID), `${EXTENSION_ID} is not installed`);
  });

  test('the extension activates', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    await ext.activate();
    assert.strictEqual(ext.isActive, true);
  });

  test('every contributed onnxLens command is registered', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    await ext.activate();
    const contributed: string[] = (ext.packageJSON?.contributes?.commands ?? []).map(
      (c: { command: string }) => c.command,
    );
    const ours = contributed.filter((c) => c.startsWith('onnxLens.'));
    assert.ok(ours.length > 0, 'package.json contributes no onnxLens.* commands');
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = ours.filter((c) => !registered.has(c));
    assert.deepStrictEqual(missing, [], `contributed but not registered: ${missing.join(', ')}`);
  });
});
