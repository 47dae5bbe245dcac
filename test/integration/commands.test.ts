/**
 * The remaining commands, each run as a user would (with its arguments where it would otherwise ask):
 * attention, highlights on and off, two methods compared, export to JSON and HTML, a download from a
 * Hub served on 127.0.0.1 from real model files, the panel and the log.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ExplanationResult, ModelCard } from '../../src/protocol/engineApi';
import { Commands } from '../../src/ui/ids';
import type { LensApi } from '../../src/ui/lensApi';
import { FakeHub, startFakeHub } from '../support/fakeHub';
import { activateLens, demoModelPath, editorWith, SENTENCE, waitFor } from './lensSupport';

suite('ONNX Lens commands', function () {
  this.timeout(120000);
  let api: LensApi;
  let editor: vscode.TextEditor;
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-lens-commands-'));

  suiteSetup(async function () {
    ({ api } = await activateLens());
    if (!fs.existsSync(demoModelPath())) this.skip();
    await vscode.commands.executeCommand(Commands.useDemoModel);
    editor = await editorWith(SENTENCE);
    await vscode.commands.executeCommand(Commands.explainSelection);
    await waitFor('an explanation', () => api.lastExplanation);
  });

  suiteTeardown(() => fs.rmSync(scratch, { recursive: true, force: true }));

  test('Show Attention draws every layer × head of the demo model', async () => {
    await vscode.window.showTextDocument(editor.document, vscode.ViewColumn.One);
    editor.selection = new vscode.Selection(editor.document.positionAt(0), editor.document.positionAt(SENTENCE.length));
    await vscode.commands.executeCommand(Commands.showAttention);
    const drawn = await waitFor('the attention overview', async () => {
      const d = await api.panelState();
      return d?.tab === 'attention' && (d.counts.drawnThumbnails ?? 0) > 0 ? d : undefined;
    });
    assert.equal(drawn.counts.layers, 2);
    assert.equal(drawn.counts.heads, 4);
    assert.equal(drawn.counts.thumbnails, 8);
  });

  test('Clear Highlights removes the heatmap; Highlight Attributions paints it again', async () => {
    await vscode.window.showTextDocument(editor.document, vscode.ViewColumn.One);
    const painted = api.decorationsFor(editor).length;
    assert.ok(painted > 0, 'the explanation painted the words');
    await vscode.commands.executeCommand(Commands.clearHighlights);
    assert.equal(api.decorationsFor(editor).length, 0);
    await vscode.commands.executeCommand(Commands.highlightAttributions);
    assert.equal(api.decorationsFor(editor).length, painted);
  });

  test('Compare Methods shows two explanations of the selection side by side', async () => {
    const shown = await vscode.window.showTextDocument(editor.document, vscode.ViewColumn.One);
    shown.selection = new vscode.Selection(shown.document.positionAt(0), shown.document.positionAt(SENTENCE.length));
    await vscode.commands.executeCommand(Commands.compareMethods, 'occlusion');
    const drawn = await waitFor('two explanations in the panel', async () => {
      const d = await api.panelState();
      return d?.tab === 'attributions' && d.counts.explanations === 2 ? d : undefined;
    }, 60000);
    assert.ok((drawn.counts.bars ?? 0) >= 2 * 10, `bars for both methods: ${JSON.stringify(drawn.counts)}`);
  });

  test('Export Explanation writes JSON with provenance and an HTML report that needs no network', async () => {
    const json = vscode.Uri.file(path.join(scratch, 'explanation.json'));
    const html = vscode.Uri.file(path.join(scratch, 'report.html'));
    await vscode.commands.executeCommand(Commands.exportExplanation, 'json', json);
    await vscode.commands.executeCommand(Commands.exportExplanation, 'html', html);
    const data = JSON.parse(fs.readFileSync(json.fsPath, 'utf8')) as { explanation: ExplanationResult };
    assert.equal(data.explanation.text, api.lastExplanation?.text);
    assert.match(data.explanation.provenance.modelSha256, /^[0-9a-f]{64}$/);
    const report = fs.readFileSync(html.fsPath, 'utf8');
    assert.ok(!/(src|href)\s*=\s*["']?https?:/i.test(report), 'the report loads nothing remote');
    for (const f of data.explanation.features.filter((x) => /^\w+$/.test(x.text))) assert.ok(report.includes(f.text), f.text);
  });

  suite('Download Model from Hugging Face…', function () {
    let hub: FakeHub;

    suiteSetup(async () => {
      hub = await startFakeHub({ sourceDir: demoModelPath(), repo: 'onnx-lens-test/demo-sentiment' });
      await vscode.workspace.getConfiguration('onnxLens').update('hub.endpoint', hub.endpoint, vscode.ConfigurationTarget.Global);
    });

    suiteTeardown(async () => {
      await vscode.workspace.getConfiguration('onnxLens').update('hub.endpoint', undefined, vscode.ConfigurationTarget.Global);
      await hub.close();
    });

    test('fetches only the chosen variant over HTTP and opens it', async () => {
      const card = await vscode.commands.executeCommand<ModelCard | undefined>(Commands.downloadModel, 'onnx-lens-test/demo-sentiment', 'quantized');
      assert.ok(card, 'the downloaded model opens');
      assert.equal(card.variant, 'quantized');
      assert.equal(card.labels?.join(','), 'NEGATIVE,POSITIVE');
      const fetched = hub.requestedFiles();
      assert.ok(fetched.includes('onnx/model_quantized.onnx'));
      assert.ok(!fetched.includes('onnx/model.onnx'), `only the quantized graph is fetched: ${fetched.join(', ')}`);
      await vscode.commands.executeCommand(Commands.useDemoModel);
    });
  });

  test('Show Explanation Panel, Reopen Recent Explanation and Show Log run', async () => {
    await vscode.commands.executeCommand(Commands.showPanel);
    assert.ok(await api.panelState(), 'the panel answers');
    await vscode.commands.executeCommand(Commands.showLog);
    const reopening = vscode.commands.executeCommand(Commands.reopenExplanation);
    // It offers the recent explanations in a quick pick; dismiss it.
    await new Promise((r) => setTimeout(r, 500));
    await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
    await reopening;
  });
});
