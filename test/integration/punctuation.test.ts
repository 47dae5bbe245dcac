/**
 * The onnxLens.punctuation setting reaches Explain Selection; words keep their contractions whole.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { Commands } from '../../src/ui/ids';
import type { LensApi } from '../../src/ui/lensApi';
import { activateLens, demoModelPath, editorWith, waitFor } from './lensSupport';

suite('Punctuation setting', function () {
  this.timeout(120000);
  let api: LensApi;

  suiteSetup(async function () {
    ({ api } = await activateLens());
    if (!fs.existsSync(demoModelPath())) this.skip();
    await vscode.commands.executeCommand(Commands.useDemoModel);
  });

  suiteTeardown(async () => {
    await vscode.workspace.getConfiguration('onnxLens').update('punctuation', undefined, vscode.ConfigurationTarget.Global);
  });

  for (const [setting, words] of [
    ['feature', ['The', 'film', "isn't", 'bad', ',', 'really', '!']],
    ['omit', ['The', 'film', "isn't", 'bad', 'really']],
  ] as const) {
    test(`punctuation "${setting}": Explain Selection attributes to ${words.join(' ')}`, async () => {
      await vscode.workspace.getConfiguration('onnxLens').update('punctuation', setting, vscode.ConfigurationTarget.Global);
      const text = "The film isn't bad, really!";
      const before = api.lastExplanation;
      await editorWith(text);
      await vscode.commands.executeCommand(Commands.explainSelection);
      const r = await waitFor('an explanation', () => (api.lastExplanation !== before ? api.lastExplanation : undefined), 60000);
      assert.deepEqual(r.features.map((f) => f.text), words);
    });
  }
});
