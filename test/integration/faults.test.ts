/**
 * Fault cases of the VS Code side, one test per case: what the user gets when the input cannot work.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Commands } from '../../src/ui/ids';
import type { LensApi } from '../../src/ui/lensApi';
import { activateLens, waitFor } from './lensSupport';

suite('ONNX Lens faults: sentence pairs and live mode', function () {
  this.timeout(120000);
  let api: LensApi;
  const config = () => vscode.workspace.getConfiguration('onnxLens');

  suiteSetup(async function () {
    let extensionPath: string;
    ({ api, extensionPath } = await activateLens());
    if (!fs.existsSync(path.join(extensionPath, 'models', 'demo-sentiment'))) this.skip();
    await vscode.commands.executeCommand(Commands.useDemoModel);
  });

  suiteTeardown(async () => {
    await vscode.commands.executeCommand(Commands.toggleLiveMode, false);
    await config().update('method', undefined, vscode.ConfigurationTarget.Global);
  });

  async function editorWithText(text: string): Promise<vscode.TextEditor> {
    const document = await vscode.workspace.openTextDocument({ content: text, language: 'plaintext' });
    return vscode.window.showTextDocument(document, vscode.ViewColumn.One);
  }

  test('Explain Sentence Pair on one selection without the separator explains nothing', async () => {
    const editor = await editorWithText('only one text here\n');
    editor.selection = new vscode.Selection(0, 0, 0, 18);
    const before = api.lastExplanation;
    assert.equal(await vscode.commands.executeCommand(Commands.explainSentencePair), undefined);
    assert.equal(api.lastExplanation, before);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  test('Explain Sentence Pair on three selections explains nothing', async () => {
    const editor = await editorWithText('first text\nsecond text\nthird text\n');
    editor.selections = [0, 1, 2].map((line) => new vscode.Selection(line, 0, line, 5));
    const before = api.lastExplanation;
    assert.equal(await vscode.commands.executeCommand(Commands.explainSentencePair), undefined);
    assert.equal(api.lastExplanation, before);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  test('live mode with a method the line is too long for: the error shows in its status, the first estimates still paint', async () => {
    await config().update('method', 'exact-shapley', vscode.ConfigurationTarget.Global);
    const line = 'one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen';
    const editor = await editorWithText('\n');
    editor.selection = new vscode.Selection(0, 0, 0, 0);
    await vscode.commands.executeCommand(Commands.toggleLiveMode, true);
    await vscode.commands.executeCommand('type', { text: line });
    const failed = await waitFor('the refinement to fail', () => api.live.history.find((r) => r.text === line && r.stage === 'refined' && r.outcome === 'error'));
    assert.match(failed.error ?? '', /exact Shapley/i);
    assert.match(api.live.status.error ?? '', /exact Shapley/i);
    assert.ok(api.live.history.some((r) => r.text === line && r.stage === 'first' && r.outcome === 'done'), 'the occlusion estimate was painted');
    assert.equal(api.decorationsFor(editor).length, line.split(' ').length);
    await vscode.commands.executeCommand(Commands.toggleLiveMode, false);
    await config().update('method', undefined, vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });
});
