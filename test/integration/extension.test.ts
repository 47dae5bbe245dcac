import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Commands, EXTENSION_ID, Views } from '../../src/ui/ids';
import type { LensApi } from '../../src/ui/lensApi';
import { activateLens, demoModelPath, editorWith, SENTENCE, waitFor } from './lensSupport';

suite('ONNX Lens extension', function () {
  this.timeout(120000);
  let api: LensApi;

  suiteSetup(async () => {
    ({ api } = await activateLens());
  });

  test('every contributed command is registered', async () => {
    const extension = vscode.extensions.getExtension(EXTENSION_ID)!;
    const contributed = (extension.packageJSON.contributes.commands as { command: string }[]).map((c) => c.command);
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = contributed.filter((c) => !registered.has(c));
    assert.deepEqual(missing, []);
    assert.ok(contributed.includes(Commands.explainSelection));
  });

  suite('with the demo model', function () {
    let editor: vscode.TextEditor;

    suiteSetup(async function () {
      if (!fs.existsSync(demoModelPath())) this.skip();
      const card = await vscode.commands.executeCommand(Commands.useDemoModel);
      assert.ok(card, 'the demo model opens');
      editor = await editorWith(SENTENCE);
    });

    test('Explain Selection paints words in attribution order', async () => {
      await vscode.commands.executeCommand(Commands.explainSelection);
      const result = api.lastExplanation;
      assert.ok(result, 'an explanation was made');
      assert.equal(result.text, SENTENCE);
      const highlights = api.decorationsFor(editor);
      assert.equal(highlights.length, result.features.length);
      const painted = highlights.filter((h) => h.colorId);
      assert.ok(painted.length > 0, 'some words are painted');
      // Stronger words never get a weaker bucket, and the sign picks the colour family.
      const byStrength = [...painted].sort((a, b) => Math.abs(b.value) - Math.abs(a.value));
      for (let i = 1; i < byStrength.length; i++) assert.ok(Math.abs(byStrength[i].bucket) <= Math.abs(byStrength[i - 1].bucket));
      for (const h of painted) assert.equal(h.colorId!.includes('positive'), h.value >= 0);
      assert.equal(Math.abs(byStrength[0].bucket), 5);
      for (const h of highlights) assert.equal(editor.document.getText(new vscode.Range(editor.document.positionAt(h.start), editor.document.positionAt(h.end))), h.text);
    });

    test('the hover over the top word gives its value, rank and target', async () => {
      const top = api.decorationsFor(editor).find((h) => h.rank === 1)!;
      const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', editor.document.uri, editor.document.positionAt(top.start + 1));
      const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : (c as vscode.MarkdownString).value))).join('\n');
      assert.match(text, /rank 1 of/);
      assert.ok(text.includes(api.lastExplanation!.target.label));
      assert.match(text, /command:onnxLens\.showPanel/);
    });

    test('the panel renders the explanation', async () => {
      const drawn = await waitFor('the panel to draw the words', async () => {
        const d = await api.panelState();
        return d && d.tab === 'attributions' && (d.counts.words ?? 0) > 0 ? d : undefined;
      });
      const features = api.lastExplanation!.features;
      assert.equal(drawn.counts.words, features.length);
      assert.equal(drawn.counts.bars, features.length);
      assert.deepEqual(drawn.labels, features.map((f) => f.text));
    });

    test('markup in the selection is shown as text', async () => {
      const hostile = 'I loved it <img src=x onerror=alert(1)> really';
      await editorWith(hostile);
      await vscode.commands.executeCommand(Commands.explainSelection);
      assert.equal(api.lastExplanation?.text, hostile);
      const drawn = await waitFor('the panel to show the new text', async () => {
        const d = await api.panelState();
        return d && d.labels.some((l) => l.includes('img')) ? d : undefined;
      });
      assert.ok(drawn.labels.some((l) => l.includes('img')));
      editor = await editorWith(SENTENCE);
    });

    test('editing a word clears its highlight and shifts the others', async () => {
      await vscode.commands.executeCommand(Commands.explainSelection);
      const before = api.decorationsFor(editor);
      await editor.edit((b) => b.insert(new vscode.Position(0, 0), 'Honestly, '));
      const after = api.decorationsFor(editor);
      assert.equal(after.length, before.length);
      assert.equal(after[0].start, before[0].start + 'Honestly, '.length);
      const second = after[1];
      await editor.edit((b) => b.replace(new vscode.Range(editor.document.positionAt(second.start), editor.document.positionAt(second.end)), 'xyz'));
      assert.equal(api.decorationsFor(editor).length, before.length - 1);
    });

    test('Cancel stops the engine request', async () => {
      editor = await editorWith(SENTENCE.repeat(6));
      const config = vscode.workspace.getConfiguration('onnxLens');
      await config.update('budget', 100000, vscode.ConfigurationTarget.Global);
      try {
        const running = vscode.commands.executeCommand(Commands.explainSelection);
        await waitFor('the explanation to start', () => (api.engine.state === 'busy' ? true : undefined));
        await new Promise((r) => setTimeout(r, 300));
        const started = Date.now();
        api.cancelCurrent();
        const item = await running;
        assert.equal(item, undefined, 'a cancelled explanation returns nothing');
        assert.ok(Date.now() - started < 10000, 'cancel took effect within the grace time');
        await waitFor('the engine to go idle', () => (api.engine.state !== 'busy' ? true : undefined));
      } finally {
        await config.update('budget', undefined, vscode.ConfigurationTarget.Global);
      }
    });

    test('a killed engine restarts on the next request', async () => {
      editor = await editorWith(SENTENCE);
      await vscode.commands.executeCommand(Commands.explainSelection);
      const pid = api.engine.pid;
      const starts = api.engine.starts;
      assert.ok(pid, 'the engine runs');
      process.kill(pid, 'SIGKILL');
      await waitFor('the crash to be noticed', () => (api.engine.pid === undefined ? true : undefined));
      await vscode.commands.executeCommand(Commands.explainSelection);
      assert.ok(api.engine.pid && api.engine.pid !== pid, 'a new engine process');
      assert.equal(api.engine.starts, starts + 1);
      assert.equal(api.lastExplanation?.text, SENTENCE);
    });

    test('a broken model shows its error in the sidebar', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-lens-broken-'));
      const demo = demoModelPath();
      for (const file of ['tokenizer.json', 'config.json', 'tokenizer_config.json']) {
        if (fs.existsSync(path.join(demo, file))) fs.copyFileSync(path.join(demo, file), path.join(dir, file));
      }
      const random = Buffer.alloc(4096);
      for (let i = 0; i < random.length; i++) random[i] = (i * 2654435761) >>> 24;
      fs.writeFileSync(path.join(dir, 'model.onnx'), random);
      const card = await vscode.commands.executeCommand(Commands.openModel, dir);
      assert.equal(card, undefined, 'the broken model does not open');
      const state = api.sidebarState();
      const message = state.engine.state === 'error' || state.engine.state === 'crashed' ? state.engine.message : state.lastError;
      assert.ok(message && message.length > 0, 'the sidebar state carries the error');
      await vscode.commands.executeCommand(`${Views.inspector}.focus`);
      const drawn = await waitFor('the sidebar to show the error', async () => {
        const d = await api.sidebarDrawn();
        return d && d.labels.some((l) => l === message) ? d : undefined;
      });
      assert.equal(drawn.error, message);
      // Back to a working model for whatever runs next.
      await vscode.commands.executeCommand(Commands.useDemoModel);
    });
  });
});
