/**
 * Live mode in a real VS Code with the demo model: typing on a line updates its colours (first an occlusion
 * estimate, then the refined explanation), an edit cancels the engine's work for the older text, the other
 * lines keep their highlights, and switching it off clears what it painted. Behaviour only, no timings.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { Commands } from '../../src/ui/ids';
import type { LensApi } from '../../src/ui/lensApi';
import type { HighlightInfo } from '../../src/ui/editor/attributionHighlights';
import { activateLens, demoModelPath, panelOn, waitFor } from './lensSupport';

const FIRST_LINE = 'The film was wonderful, the acting superb and the ending moving.';

/** Types `text` at the cursor of the active editor, one character at a time, as a person would. */
async function typeText(text: string): Promise<void> {
  for (const ch of text) {
    await vscode.commands.executeCommand('type', { text: ch });
    await new Promise((r) => setTimeout(r, 15));
  }
}

function lineRange(editor: vscode.TextEditor, line: number): { start: number; end: number } {
  const l = editor.document.lineAt(line);
  return { start: editor.document.offsetAt(l.range.start), end: editor.document.offsetAt(l.range.end) };
}

function highlightsOn(api: LensApi, editor: vscode.TextEditor, line: number): HighlightInfo[] {
  const r = lineRange(editor, line);
  return api.decorationsFor(editor).filter((h) => h.start >= r.start && h.end <= r.end);
}

function wordsOf(editor: vscode.TextEditor, hs: HighlightInfo[]): string[] {
  return hs.map((h) => editor.document.getText(new vscode.Range(editor.document.positionAt(h.start), editor.document.positionAt(h.end))));
}

suite('ONNX Lens live mode', function () {
  this.timeout(180000);
  let api: LensApi;
  let editor: vscode.TextEditor;
  const config = () => vscode.workspace.getConfiguration('onnxLens');

  suiteSetup(async function () {
    ({ api } = await activateLens());
    if (!fs.existsSync(demoModelPath())) this.skip();
    await vscode.commands.executeCommand(Commands.useDemoModel);
    const document = await vscode.workspace.openTextDocument({ content: `${FIRST_LINE}\n\n\n`, language: 'plaintext' });
    editor = await vscode.window.showTextDocument(document, vscode.ViewColumn.One);
    // Line 0 gets its highlights from Explain Selection; live mode must leave them alone.
    editor.selection = new vscode.Selection(0, 0, 0, FIRST_LINE.length);
    await vscode.commands.executeCommand(Commands.explainSelection);
    await waitFor('line 0 highlighted', () => highlightsOn(api, editor, 0).length > 0);
  });

  suiteTeardown(async () => {
    await vscode.commands.executeCommand(Commands.toggleLiveMode, false);
    await config().update('method', undefined, vscode.ConfigurationTarget.Global);
    await config().update('budget', undefined, vscode.ConfigurationTarget.Global);
  });

  test('typing on a line paints its words: a first estimate, then the refined explanation of the final text', async () => {
    await vscode.window.showTextDocument(editor.document, vscode.ViewColumn.One);
    editor.selection = new vscode.Selection(1, 0, 1, 0);
    assert.equal(await vscode.commands.executeCommand(Commands.toggleLiveMode, true), true);
    assert.equal(api.live.on, true);
    assert.equal(api.live.status.region, 'line');
    const line0Before = JSON.stringify(highlightsOn(api, editor, 0));

    const typed = 'the acting was awful and the plot was dull';
    // The panel shows the Attention tab of line 0's explanation while the next line is typed.
    await vscode.commands.executeCommand(Commands.showPanel, { tab: 'attention' });
    await panelOn(api, 'attention', (d) => d.counts.units === 15, 'the Attention tab of line 0');
    await vscode.window.showTextDocument(editor.document, vscode.ViewColumn.One);
    editor.selection = new vscode.Selection(1, 0, 1, 0);
    await typeText(typed);
    const refined = await waitFor('the refined explanation of the typed line', () =>
      api.live.history.find((r) => r.text === typed && r.stage === 'refined' && r.outcome === 'done'),
    );
    assert.equal(refined.method, 'partition-shap');
    assert.ok(api.live.history.some((r) => r.text === typed && r.stage === 'first' && r.outcome === 'done' && r.method === 'occlusion'), 'an occlusion estimate came first');
    assert.equal(api.live.history.filter((r) => r.stage === 'refined' && r.outcome === 'done').pop()?.text, typed, 'the latest refinement is of the text on screen');
    const painted = await waitFor('every word of line 1 painted', () => {
      const hs = highlightsOn(api, editor, 1);
      return hs.length === typed.split(' ').length ? hs : undefined;
    });
    assert.deepEqual(wordsOf(editor, painted), typed.split(' '));
    assert.ok(painted.some((h) => h.colorId), 'some words are coloured');
    assert.equal(api.live.status.last?.text, typed);
    assert.equal(api.live.status.last?.label, 'NEGATIVE');
    assert.equal(JSON.stringify(highlightsOn(api, editor, 0)), line0Before, 'line 0 keeps its highlights');
    // The Attention tab, open beside the editor, now describes the typed line, not the selection explained before it.
    await panelOn(api, 'attention', (d) => d.counts.units === typed.split(' ').length + 2, 'the Attention tab to describe the typed line');
    // The hover over a live word explains it as it does after Explain Selection.
    const top = painted.reduce((a, b) => (Math.abs(b.value) > Math.abs(a.value) ? b : a));
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', editor.document.uri, editor.document.positionAt(top.start + 1));
    const hoverText = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : (c as vscode.MarkdownString).value))).join('\n');
    assert.match(hoverText, new RegExp(`rank 1 of ${typed.split(' ').length}`));

    // More typing: the colours follow the new text.
    const more = ' but the ending was wonderful';
    await typeText(more);
    const full = typed + more;
    await waitFor('the refined explanation of the longer line', () => api.live.history.find((r) => r.text === full && r.stage === 'refined' && r.outcome === 'done'));
    const again = await waitFor('the new words painted', () => {
      const hs = highlightsOn(api, editor, 1);
      return hs.length === full.split(' ').length ? hs : undefined;
    });
    assert.deepEqual(wordsOf(editor, again), full.split(' '));
    assert.equal(api.live.status.last?.text, full);
    assert.equal(JSON.stringify(highlightsOn(api, editor, 0)), line0Before, 'line 0 still keeps its highlights');
  });

  test('an edit cancels the engine\'s work for the older text: its refinement stops unfinished', async () => {
    // A refinement slow enough to be caught running: Kernel SHAP with a large budget on a long line.
    await config().update('method', 'kernel-shap', vscode.ConfigurationTarget.Global);
    await config().update('budget', 60000, vscode.ConfigurationTarget.Global);
    await vscode.window.showTextDocument(editor.document, vscode.ViewColumn.One);
    editor.selection = new vscode.Selection(2, 0, 2, 0);
    const long = Array.from({ length: 6 }, () => 'the story was slow but the actors were good').join(' and ');
    await vscode.commands.executeCommand('type', { text: long });
    const running = await waitFor('the slow refinement running in the engine', () =>
      api.live.history.find((r) => r.text === long && r.stage === 'refined' && r.outcome === 'running' && r.started),
    60000);
    await typeText('!');
    const ended = await waitFor('the old refinement to end', () => (running.outcome !== 'running' ? running : undefined), 30000);
    assert.equal(ended.outcome, 'cancelled', `the engine stopped the old work (${ended.error ?? ''})`);
    assert.ok(!api.live.history.some((r) => r.text === long && r.stage === 'refined' && r.outcome === 'done'), 'no refinement of the old text finished');
    // The new text gets its first estimate while the old work is gone from the engine.
    await waitFor('the first estimate of the edited line', () => api.live.history.find((r) => r.text === `${long}!` && r.stage === 'first' && r.outcome === 'done'), 30000);
    await config().update('method', undefined, vscode.ConfigurationTarget.Global);
    await config().update('budget', undefined, vscode.ConfigurationTarget.Global);
  });

  test('switching live mode off cancels its work and clears what it painted, and only that', async () => {
    const line0 = JSON.stringify(highlightsOn(api, editor, 0));
    assert.ok(highlightsOn(api, editor, 1).length > 0);
    assert.equal(await vscode.commands.executeCommand(Commands.toggleLiveMode, false), false);
    assert.equal(api.live.on, false);
    assert.equal(highlightsOn(api, editor, 1).length, 0);
    assert.equal(highlightsOn(api, editor, 2).length, 0);
    assert.equal(JSON.stringify(highlightsOn(api, editor, 0)), line0, 'the Explain Selection highlights stay');
    await waitFor('the work in flight to end', () => !api.live.history.some((r) => r.outcome === 'running'), 30000);
    // Typing now changes nothing.
    const before = api.live.history.length;
    editor.selection = new vscode.Selection(3, 0, 3, 0);
    await typeText('good');
    await new Promise((r) => setTimeout(r, 800));
    assert.equal(api.live.history.length, before);
    assert.equal(highlightsOn(api, editor, 3).length, 0);
  });

  test('switched on with a selection, it follows that selection as it grows', async () => {
    const document = await vscode.workspace.openTextDocument({ content: 'intro line\nthe plot was thin\n', language: 'plaintext' });
    const e2 = await vscode.window.showTextDocument(document, vscode.ViewColumn.One);
    e2.selection = new vscode.Selection(1, 4, 1, 17); // "plot was thin"
    await vscode.commands.executeCommand(Commands.toggleLiveMode, true);
    assert.equal(api.live.status.region, 'selection');
    await waitFor('the selection explained', () => api.live.history.find((r) => r.text === 'plot was thin' && r.stage === 'refined' && r.outcome === 'done'));
    e2.selection = new vscode.Selection(1, 17, 1, 17);
    await typeText(' but fun');
    await waitFor('the grown selection explained', () => api.live.history.find((r) => r.text === 'plot was thin but fun' && r.stage === 'refined' && r.outcome === 'done'));
    const hs = api.decorationsFor(e2);
    assert.deepEqual(wordsOf(e2, hs), ['plot', 'was', 'thin', 'but', 'fun'], '"the" before the selection is not part of it');
    await vscode.commands.executeCommand(Commands.toggleLiveMode, false);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });
});
