/**
 * Generate and Explain on a small Llama-style fixture: the continuation streams into the Generation tab and
 * appears as faded text after the prompt, every generated token is explained, the prompt is painted by the
 * whole continuation and then by one chosen token, and the hover on a prompt word says what it did.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { Commands } from '../../src/ui/ids';
import type { LensApi } from '../../src/ui/lensApi';
import { activateLens, demoModelPath, editorWith, waitFor } from './lensSupport';

const PROMPT = 'i loved this place and the food';

suite('Generate and Explain', function () {
  this.timeout(120000);
  let api: LensApi;
  let editor: vscode.TextEditor;
  let expected: number[];

  suiteSetup(async function () {
    ({ api } = await activateLens());
    let folder: string;
    try {
      const support = await import('../support/fixtureModels');
      folder = support.generationFixture('llama-gen');
      expected = support.readGenerationReference('llama-gen').cases.find((c) => c.prompt === PROMPT)!.generated;
    } catch (error) {
      console.log(`  skipped: the generation fixture is not available (${error instanceof Error ? error.message : String(error)})`);
      this.skip();
    }
    const card = await vscode.commands.executeCommand(Commands.openModel, folder);
    assert.ok(card, 'the Llama-style fixture opens');
    editor = await editorWith(`${PROMPT}\n`);
    editor.selection = new vscode.Selection(editor.document.positionAt(0), editor.document.positionAt(PROMPT.length));
  });

  suiteTeardown(async () => {
    const demo = demoModelPath();
    if (fs.existsSync(demo)) await vscode.commands.executeCommand(Commands.openModel, demo);
  });

  test('the continuation PyTorch generates appears in the Generation tab and after the prompt, with every token explained', async () => {
    await vscode.commands.executeCommand(Commands.generateAndExplain, { maxNewTokens: 10, method: 'kernel-shap' });
    const state = await waitFor('an explained generation', () => (api.generation?.explanation ? api.generation : undefined), 60000);
    assert.deepEqual(state.result!.tokens.map((t) => t.id), expected);
    assert.equal(api.ghostTextIn(editor), state.result!.text);
    const drawn = await waitFor('the Generation tab', async () => {
      const d = await api.panelState();
      return d?.tab === 'generation' && d.counts.explained === 1 ? d : undefined;
    });
    assert.equal(drawn.counts.tokens, 10);
    assert.equal(drawn.counts.words, 7);
    assert.equal(drawn.counts.matrixCells, 70);
    assert.equal(drawn.labels.length, 10);
    // Kernel SHAP's rows add up, and the tab says so (occlusion's would not, and it would not say it).
    assert.match(drawn.text ?? '', /Per row the values add up to log p with the whole prompt/);
    // The prompt is painted by the whole continuation's attributions.
    const e = state.explanation!;
    const painted = api.decorationsFor(editor);
    assert.deepEqual(painted.map((h) => h.text), PROMPT.split(' '));
    assert.deepEqual(painted.map((h) => h.value), e.sequence.values);
  });

  test('choosing a generated token paints the prompt by that token, and the hover says what a word did', async () => {
    const e = api.generation!.explanation!;
    api.selectGenerationStep(3);
    const painted = api.decorationsFor(editor);
    assert.deepEqual(painted.map((h) => h.value), e.targets[3].values);
    const drawn = await waitFor('token 3 chosen in the panel', async () => {
      const d = await api.panelState();
      return d?.counts.step === 3 ? d : undefined;
    });
    assert.equal(drawn.counts.lensLayers, 3);
    // Ranks count from 1, as in the CLI: a greedy token is the top one at the last hidden state.
    assert.equal(drawn.counts.lastLensRank, 1);
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', editor.document.uri, editor.document.positionAt(PROMPT.indexOf('loved') + 2));
    const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
    assert.match(text, /_loved_ → what it did to the next tokens/);
    assert.match(text, /to the log-probability of token 3 /);
  });

  test('Insert After the Prompt inserts nothing once the prompt was edited, and says so', async () => {
    const generated = api.generation!.result!.text;
    assert.ok(await editor.edit((b) => b.replace(new vscode.Range(editor.document.positionAt(2), editor.document.positionAt(7)), 'hated')));
    const edited = editor.document.getText();
    const before = api.notices().length;
    assert.equal(await api.insertGeneration(), false, 'nothing is inserted');
    assert.equal(editor.document.getText(), edited, 'the document is unchanged');
    assert.deepEqual(
      api.notices().slice(before).map((n) => n.message),
      ['ONNX Lens: the prompt has changed since it was generated from; run Generate and Explain again.'],
    );
    // With the prompt as it was, the continuation goes right after it.
    assert.ok(await editor.edit((b) => b.replace(new vscode.Range(editor.document.positionAt(2), editor.document.positionAt(7)), 'loved')));
    assert.equal(await api.insertGeneration(), true);
    assert.equal(editor.document.getText(), `${PROMPT}${generated}\n`);
  });

  test('opening another model forgets the generation; a model that cannot generate is told so, and nothing runs', async () => {
    const demo = demoModelPath();
    assert.ok(api.generation, 'the tests above left a generation');
    await vscode.commands.executeCommand(Commands.openModel, demo);
    assert.equal(api.generation, undefined, 'the previous model\'s generation is gone');
    const result = await vscode.commands.executeCommand(Commands.generateAndExplain, { maxNewTokens: 3 });
    assert.equal(result, undefined);
    assert.equal(api.generation, undefined);
  });
});
