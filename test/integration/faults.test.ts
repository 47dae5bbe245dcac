/**
 * Hostile input and engine faults, as a user would meet them in VS Code: markup in the selected text,
 * in a model's class labels and in its folder name shows as text in the panel, the sidebar, the hover
 * and the status bar, and nothing in the views is markup they did not build; an engine killed in the
 * middle of an explanation gives one clear message, and the next explanation works; an export never
 * overwrites a file of the model; sentence pairs and live mode refuse what cannot work, in words.
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
import { activateLens, demoModelPath, editorWith, hoverAt, panelOn, SENTENCE, sidebarOn, waitFor } from './lensSupport';

const HOSTILE_TEXT = 'I loved it <script>alert(1)</script> and "><img src=x onerror=alert(2)> the end </script> truly';
const HOSTILE_LABELS = ['<script>alert(3)</script>', '"><img src=x onerror=alert(4)>'];
const HOSTILE_FOLDER = '<img src=x onerror=alert(5)> model';

/** Markup that a Markdown renderer would read as HTML: a `<` not escaped by a backslash. */
const RAW_MARKUP = /(^|[^\\])<\/?(script|img)\b/i;

suite('Faults in the UI', function () {
  this.timeout(180000);
  let api: LensApi;
  let demo: string;
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-lens-faults-'));
  let hostileModel: string;

  suiteSetup(async () => {
    ({ api } = await activateLens());
    demo = demoModelPath();
    // The demo model in a folder named with HTML, its two classes renamed to markup.
    hostileModel = path.join(scratch, HOSTILE_FOLDER);
    fs.mkdirSync(path.join(hostileModel, 'onnx'), { recursive: true });
    for (const f of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json']) fs.copyFileSync(path.join(demo, f), path.join(hostileModel, f));
    fs.copyFileSync(path.join(demo, 'onnx', 'model.onnx'), path.join(hostileModel, 'onnx', 'model.onnx'));
    const config = JSON.parse(fs.readFileSync(path.join(demo, 'config.json'), 'utf8'));
    config.id2label = { 0: HOSTILE_LABELS[0], 1: HOSTILE_LABELS[1] };
    config.label2id = { [HOSTILE_LABELS[0]]: 0, [HOSTILE_LABELS[1]]: 1 };
    fs.writeFileSync(path.join(hostileModel, 'config.json'), JSON.stringify(config));
  });

  suiteTeardown(async () => {
    await vscode.commands.executeCommand(Commands.openModel, demo);
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  test('a selection with <script>, "><img onerror> and </script> shows as text in the panel, the sidebar and the hover', async () => {
    await vscode.commands.executeCommand(Commands.openModel, demo);
    const editor = await editorWith(HOSTILE_TEXT);
    await vscode.commands.executeCommand(Commands.explainSelection);
    const result = await waitFor('the explanation', () => (api.lastExplanation?.text === HOSTILE_TEXT ? api.lastExplanation : undefined));
    const panel = await panelOn(api, 'attributions', (d) => d.labels.length === result.features.length);
    for (const piece of ['script', 'img', 'onerror']) assert.ok(panel.labels.some((l) => l.includes(piece)), `"${piece}" is shown as a word`);
    assert.deepEqual(panel.foreignMarkup, [], 'no markup of the text became elements of the panel');
    const side = await sidebarOn(api, (d) => d.labels.includes(HOSTILE_TEXT.slice(0, 59) + '…'));
    assert.deepEqual(side.foreignMarkup, [], 'nor of the sidebar');
    const word = api.decorationsFor(editor).find((h) => /img|script/.test(h.text))!;
    const [hover] = await hoverAt(editor, word.start + 1);
    assert.ok(hover, 'the hover opens on the word');
    assert.ok(!RAW_MARKUP.test(hover.value), `no raw markup in the hover: ${hover.value}`);
    assert.equal(hover.supportHtml, false);
    assert.deepEqual(hover.isTrusted, { enabledCommands: [Commands.showPanel] }, 'the hover may run only the panel command');
  });

  test('class labels made of markup show as text in the prediction, the attributions, the sidebar, the status bar and the hover', async () => {
    const card = await vscode.commands.executeCommand<ModelCard | undefined>(Commands.openModel, hostileModel);
    assert.ok(card, 'the model with hostile labels opens');
    assert.deepEqual(card.labels, HOSTILE_LABELS);
    const editor = await editorWith(SENTENCE);
    await vscode.commands.executeCommand(Commands.explainSelection);
    const result = await waitFor('the explanation', () => api.lastExplanation);
    assert.ok(HOSTILE_LABELS.includes(result.target.label));
    await vscode.commands.executeCommand(Commands.showPanel, { tab: 'prediction' });
    const prediction = await panelOn(api, 'prediction', (d) => d.labels.length === 2);
    assert.deepEqual([...prediction.labels].sort(), [...HOSTILE_LABELS].sort());
    assert.deepEqual(prediction.foreignMarkup, []);
    await vscode.commands.executeCommand(Commands.showPanel, { tab: 'attributions' });
    const attributions = await panelOn(api, 'attributions', (d) => (d.axes?.length ?? 0) > 0);
    assert.equal(attributions.axes![0].title, `contribution to the logit of ${result.target.label}`);
    assert.deepEqual(attributions.foreignMarkup, []);
    const side = await sidebarOn(api, (d) => HOSTILE_LABELS.every((l) => d.labels.includes(l)));
    assert.deepEqual(side.foreignMarkup, []);
    const status = api.statusBar();
    assert.ok(status.text.includes(result.target.label.slice(0, 24)), `the status bar shows the label as text: ${status.text}`);
    const top = api.decorationsFor(editor).find((h) => h.rank === 1)!;
    const [hover] = await hoverAt(editor, top.start + 1);
    assert.ok(!RAW_MARKUP.test(hover.value), `no raw markup in the hover: ${hover.value}`);
    assert.ok(hover.value.includes('alert'), 'the label is in the hover, as text');
  });

  test('a model folder named with HTML is shown by its name in the sidebar, the panel and the status bar tooltip', async () => {
    const card = await vscode.commands.executeCommand<ModelCard | undefined>(Commands.openModel, hostileModel);
    assert.ok(card);
    assert.equal(card.name, HOSTILE_FOLDER);
    const side = await sidebarOn(api, (d) => d.labels.includes(HOSTILE_FOLDER));
    assert.deepEqual(side.foreignMarkup, []);
    await vscode.commands.executeCommand(Commands.showPanel, { tab: 'prediction' });
    const prediction = await panelOn(api, 'prediction', () => true);
    assert.deepEqual(prediction.foreignMarkup, []);
    const tooltip = api.statusBar().tooltip;
    assert.ok(tooltip.includes('img src=x') && !RAW_MARKUP.test(tooltip), `the status bar tooltip shows the name, escaped: ${tooltip}`);
  });

  test('the engine killed in the middle of an explanation: one clear message, and the next Explain works', async () => {
    await vscode.commands.executeCommand(Commands.openModel, demo);
    await editorWith(SENTENCE.repeat(4));
    const config = vscode.workspace.getConfiguration('onnxLens');
    await config.update('budget', 100000, vscode.ConfigurationTarget.Global);
    await config.update('method', 'kernel-shap', vscode.ConfigurationTarget.Global);
    const before = api.notices().length;
    try {
      const running = vscode.commands.executeCommand(Commands.explainSelection);
      await waitFor('the explanation to run', () => (api.engine.state === 'busy' && /Explaining/.test(api.statusBar().text) ? true : undefined), 30000);
      const pid = api.engine.pid!;
      process.kill(pid, 'SIGKILL');
      assert.equal(await running, undefined, 'the killed explanation returns nothing');
      // Messages are shown without waiting for an answer: give a second one time to appear.
      await new Promise((r) => setTimeout(r, 1000));
      const shown = api.notices().slice(before).filter((n) => n.severity === 'error');
      assert.equal(shown.length, 1, `one message: ${JSON.stringify(shown)}`);
      assert.match(shown[0].message, /engine .*(killed|crash)/i);
      assert.match(shown[0].message, /restarts on the next request/);
    } finally {
      await config.update('budget', undefined, vscode.ConfigurationTarget.Global);
      await config.update('method', undefined, vscode.ConfigurationTarget.Global);
    }
    await editorWith(SENTENCE);
    await vscode.commands.executeCommand(Commands.explainSelection);
    const next = await waitFor('the next explanation', () => (api.lastExplanation?.text === SENTENCE ? api.lastExplanation : undefined));
    assert.ok(next.features.length > 0);
  });

  test('an explanation that would exceed the memory limit is refused before it runs, with the estimate in the message and the panel', async () => {
    const config = vscode.workspace.getConfiguration('onnxLens');
    await config.update('memoryLimitMb', 64, vscode.ConfigurationTarget.Global);
    await config.update('budget', 100000, vscode.ConfigurationTarget.Global);
    await config.update('method', 'kernel-shap', vscode.ConfigurationTarget.Global);
    const before = api.notices().length;
    try {
      // The limit reaches the engine when the model is opened.
      await vscode.commands.executeCommand(Commands.openModel, demo);
      await waitFor('the engine to be idle', () => (api.engine.state !== 'busy' && api.model ? true : undefined));
      const pid = api.engine.pid;
      await editorWith(SENTENCE.repeat(5));
      assert.equal(await vscode.commands.executeCommand(Commands.explainSelection), undefined, 'nothing is explained');
      const shown = await waitFor('the error message', () => api.notices().slice(before).find((n) => n.severity === 'error'));
      const said = /^ONNX Lens: Explaining failed: kernel-shap with a budget of 100,000 over \d+ words \(\d+ tokens\) would need about (\d+) MB of memory, more than the engine's limit of 64 MB\. Lower the budget or select a shorter passage\.$/.exec(shown.message);
      assert.ok(said, shown.message);
      assert.ok(Number(said[1]) > 64, `the estimate, ${said[1]} MB, is over the limit`);
      const panel = await panelOn(api, 'attributions', (d) => /would need about \d+ MB of memory/.test(d.error ?? ''));
      assert.match(panel.text ?? '', /more than the engine's limit of 64 MB/, 'the panel shows the message');
      assert.equal(api.engine.pid, pid, 'the engine was not killed: it refused before allocating');
    } finally {
      await config.update('memoryLimitMb', undefined, vscode.ConfigurationTarget.Global);
      await config.update('budget', undefined, vscode.ConfigurationTarget.Global);
      await config.update('method', undefined, vscode.ConfigurationTarget.Global);
    }
    await vscode.commands.executeCommand(Commands.openModel, demo);
    await editorWith(SENTENCE);
    await vscode.commands.executeCommand(Commands.explainSelection);
    await waitFor('the next explanation, under the default limit', () => (api.lastExplanation?.text === SENTENCE ? api.lastExplanation : undefined));
  });
});

const sha = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

suite('Faults in exports', function () {
  this.timeout(120000);
  let api: LensApi;
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-lens-faults-'));

  suiteSetup(async () => {
    ({ api } = await activateLens());
  });

  suiteTeardown(async () => {
    await vscode.commands.executeCommand(Commands.useDemoModel);
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  test('Export Explanation never overwrites a file of the model, even when the file is chosen for it', async () => {
    // A copy of the demo model, so a failing guard could only damage the copy.
    const model = path.join(scratch, 'model-to-keep');
    fs.cpSync(demoModelPath(), model, { recursive: true });
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

  test('the Generation tab\'s export never overwrites a file of the model, and says why', async function () {
    let model: string;
    try {
      // A copy of the Llama-style fixture, so a failing guard could only damage the copy.
      model = (await import('../support/fixtureModels')).generationFixture('llama-gen');
    } catch (error) {
      console.log(`  skipped: the generation fixture is not available (${error instanceof Error ? error.message : String(error)})`);
      this.skip();
    }
    const card = await vscode.commands.executeCommand<ModelCard | undefined>(Commands.openModel, model);
    assert.ok(card, 'the fixture opens');
    await editorWith('i loved this place and the food');
    await vscode.commands.executeCommand(Commands.generateAndExplain, { maxNewTokens: 3, explain: false });
    const generation = await waitFor('a generation', () => (api.generation?.result ? api.generation : undefined), 60000);

    const kept = [path.join(model, 'onnx', 'model.onnx'), path.join(model, 'tokenizer.json'), path.join(model, 'config.json')];
    const hashes = kept.map(sha);
    for (const file of kept) {
      for (const format of ['html', 'json'] as const) {
        const before = api.notices().length;
        const saved = await api.exportGeneration(format, vscode.Uri.file(file));
        assert.equal(saved, undefined, `${format} export onto ${path.basename(file)} is refused`);
        const shown = api.notices().slice(before).filter((n) => n.severity === 'error');
        assert.equal(shown.length, 1, `one message: ${JSON.stringify(shown)}`);
        assert.match(shown[0].message, /an export never overwrites the model\. Choose another file name\.$/);
      }
    }
    assert.deepEqual(kept.map(sha), hashes, 'the model files are unchanged');
    // Any other file is fine, and holds the generation.
    const json = path.join(scratch, 'generation.json');
    const saved = await api.exportGeneration('json', vscode.Uri.file(json));
    assert.equal(saved?.fsPath, json);
    const written = JSON.parse(fs.readFileSync(json, 'utf8')) as { generation: { text: string } };
    assert.equal(written.generation.text, generation.result!.text);
    // A file that cannot be written (its folder does not exist) is told, not lost.
    const before = api.notices().length;
    const missing = path.join(scratch, 'no-such-folder', 'a', 'generation.html');
    fs.writeFileSync(path.join(scratch, 'no-such-folder'), 'a file, not a folder');
    assert.equal(await api.exportGeneration('html', vscode.Uri.file(missing)), undefined);
    const shown = api.notices().slice(before).filter((n) => n.severity === 'error');
    assert.equal(shown.length, 1, `one message: ${JSON.stringify(shown)}`);
    assert.match(shown[0].message, /^ONNX Lens: could not save .*generation\.html: .*Choose another file\.$/);
  });
});

suite('Faults in sentence pairs and live mode', function () {
  this.timeout(120000);
  let api: LensApi;
  const config = () => vscode.workspace.getConfiguration('onnxLens');

  suiteSetup(async () => {
    ({ api } = await activateLens());
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
