/**
 * Explain Sentence Pair in a real VS Code, on the NLI-style fixture (a BERT pair classifier): two selections
 * made with multiple cursors, or one selection split at the separator setting; both texts painted at their
 * own place in the document; the prediction matches PyTorch; Show Attention on two selections draws the
 * attention across the pair.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { Commands } from '../../src/ui/ids';
import type { LensApi } from '../../src/ui/lensApi';
import { fixtureModel, readReference } from '../support/fixtureModels';
import { activateLens, demoModelPath, waitFor } from './lensSupport';

function textAt(editor: vscode.TextEditor, start: number, end: number): string {
  return editor.document.getText(new vscode.Range(editor.document.positionAt(start), editor.document.positionAt(end)));
}

function selectionOf(document: vscode.TextDocument, text: string): vscode.Selection {
  const at = document.getText().indexOf(text);
  assert.ok(at >= 0, text);
  return new vscode.Selection(document.positionAt(at), document.positionAt(at + text.length));
}

suite('ONNX Lens sentence pairs', function () {
  this.timeout(180000);
  let api: LensApi;
  const config = () => vscode.workspace.getConfiguration('onnxLens');

  suiteSetup(async () => {
    ({ api } = await activateLens());
    const card = await vscode.commands.executeCommand(Commands.openModel, fixtureModel('bert-nli-op14'));
    assert.ok(card, 'the NLI fixture opens');
    assert.deepEqual(api.model?.labels, ['entailment', 'neutral', 'contradiction']);
  });

  suiteTeardown(async () => {
    await config().update('pairSeparator', undefined, vscode.ConfigurationTarget.Global);
    if (fs.existsSync(demoModelPath())) await vscode.commands.executeCommand(Commands.useDemoModel);
  });

  test('two selections (multi-cursor): the earlier is segment A, both texts are painted where they are', async () => {
    const A = 'a man is playing music';
    const B = 'a man is playing a song';
    const document = await vscode.workspace.openTextDocument({ content: `${A}\nnot part of the pair\n${B}\n`, language: 'plaintext' });
    const editor = await vscode.window.showTextDocument(document, vscode.ViewColumn.One);
    // The second text selected first: the order of the document decides which is A.
    editor.selections = [selectionOf(document, B), selectionOf(document, A)];
    await vscode.commands.executeCommand(Commands.explainSentencePair);
    const result = await waitFor('the pair explanation', () => (api.lastExplanation?.textPair === B ? api.lastExplanation : undefined));
    assert.equal(result.text, A);
    assert.deepEqual(result.features.map((f) => `${f.segment}:${f.text}`), [...A.split(' ').map((w) => `0:${w}`), ...B.split(' ').map((w) => `1:${w}`)]);
    const highlights = api.decorationsFor(editor);
    assert.equal(highlights.length, result.features.length);
    for (const h of highlights) assert.equal(textAt(editor, h.start, h.end), h.text);
    const lineOf = (offset: number) => document.positionAt(offset).line;
    assert.deepEqual([...new Set(highlights.map((h) => lineOf(h.start)))], [0, 2], 'words of lines 0 and 2, none of line 1');
    assert.ok(highlights.some((h) => h.colorId));
    const drawn = await waitFor('the attributions of both texts in the panel', async () => {
      const d = await api.panelState();
      return d?.tab === 'attributions' && d.counts.words === result.features.length ? d : undefined;
    });
    assert.equal(drawn.counts.bars, result.features.length);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  test('one selection split at the separator setting; the prediction is the PyTorch one for that pair', async () => {
    await config().update('pairSeparator', '||', vscode.ConfigurationTarget.Global);
    const reference = readReference('bert-nli-op14') as unknown as { pairs: [string, string][]; outputs: { logits: { data: number[] } } };
    const [A, B] = reference.pairs[1];
    const line = `${A} || ${B}`;
    const document = await vscode.workspace.openTextDocument({ content: `${line}\n`, language: 'plaintext' });
    const editor = await vscode.window.showTextDocument(document, vscode.ViewColumn.One);
    editor.selection = selectionOf(document, line);
    await vscode.commands.executeCommand(Commands.explainSentencePair);
    const result = await waitFor('the pair explanation', () => (api.lastExplanation?.textPair === B ? api.lastExplanation : undefined));
    assert.equal(result.text, A);
    const want = reference.outputs.logits.data.slice(3, 6);
    for (const c of result.fullOutput.candidates) assert.ok(Math.abs(c.logit - want[c.id]) < 1e-4, `${c.label}: ${c.logit} vs ${want[c.id]}`);
    const bWords = api.decorationsFor(editor).filter((h) => h.start >= line.indexOf(B));
    assert.deepEqual(bWords.map((h) => h.text), B.split(' '));
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  test('Show Attention on two selections draws the attention across the pair, per layer and head, with both blocks', async () => {
    const [A, B] = ['a man is playing music', 'a man is playing a song'];
    const document = await vscode.workspace.openTextDocument({ content: `${A}\n${B}\n`, language: 'plaintext' });
    const editor = await vscode.window.showTextDocument(document, vscode.ViewColumn.One);
    editor.selections = [selectionOf(document, A), selectionOf(document, B)];
    await vscode.commands.executeCommand(Commands.showAttention);
    const drawn = await waitFor('the view across the pair', async () => {
      const d = await api.panelState();
      return d?.tab === 'attention' && (d.counts.blocks ?? 0) === 2 ? d : undefined;
    }, 60000);
    // 2 layers × (4 heads + their mean); blocks of 5 × 6 words and 6 × 5.
    assert.equal(drawn.counts.pairCells, 2 * 5);
    assert.equal(drawn.counts.blockCells, 2 * 5 * 6);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });
});
