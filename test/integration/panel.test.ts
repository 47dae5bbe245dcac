/**
 * The explanation panel as a user meets it: every tab on screen at the width the panel opens with,
 * and every control named for a screen reader.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { PANEL_TABS } from '../../src/protocol/webviewMessages';
import { Commands } from '../../src/ui/ids';
import type { LensApi } from '../../src/ui/lensApi';
import { fixtureModel } from '../support/fixtureModels';
import { activateLens, demoModelPath, editorWith, panelOn, SENTENCE, waitFor } from './lensSupport';

suite('The explanation panel', function () {
  this.timeout(120000);
  let api: LensApi;

  suiteSetup(async () => {
    ({ api } = await activateLens());
    await vscode.commands.executeCommand(Commands.openModel, demoModelPath());
    await editorWith(SENTENCE);
    await vscode.commands.executeCommand(Commands.explainSelection);
    await waitFor('an explanation', () => api.lastExplanation);
  });

  test('every tab is on screen at the width the panel opens with', async () => {
    const drawn = await panelOn(api, 'attributions', (d) => (d.tabs?.length ?? 0) > 0);
    const hidden = (drawn.tabs ?? []).filter((t) => !t.visible).map((t) => t.name);
    assert.equal(drawn.tabs?.length, PANEL_TABS.length);
    assert.deepEqual(hidden, [], `tabs off screen in a ${drawn.viewWidth} px panel: ${hidden.join(', ')}`);
    assert.deepEqual(drawn.tabs?.filter((t) => t.selected).map((t) => t.name), ['Attributions']);
  });

  test('the bar chart has a titled value axis with readable ticks, and red and blue are said in words', async () => {
    const drawn = await panelOn(api, 'attributions', (d) => (d.axes?.length ?? 0) > 0);
    const target = api.lastExplanation!.target.label;
    const axis = drawn.axes![0];
    assert.equal(axis.title, `contribution to the logit of ${target}`);
    const ticks = axis.ticks.map((t) => Number(t.replace('−', '-')));
    assert.ok(ticks.length >= 3 && ticks.every(Number.isFinite), `ticks ${axis.ticks.join(' ')}`);
    const values = api.lastExplanation!.features.map((f) => f.value);
    assert.ok(ticks[0] <= Math.min(0, ...values) && ticks[ticks.length - 1] >= Math.max(...values), 'the ticks span the values');
    assert.deepEqual(drawn.legends, [`Word colour: contribution to the logit of ${target}`]);
  });

  test('every control on every tab has a name a screen reader can say', async () => {
    for (const tab of PANEL_TABS) {
      await vscode.commands.executeCommand(Commands.showPanel, { tab });
      const drawn = await panelOn(api, tab);
      assert.deepEqual(drawn.unnamedControls, [], `unnamed controls on the ${tab} tab`);
    }
  });

  test('Reopen Recent Explanation from the palette offers the recent explanations, newest first, and shows the one chosen', async () => {
    await editorWith('A dull and tedious film.');
    await vscode.commands.executeCommand(Commands.explainSelection);
    await waitFor('the second explanation', () => (api.lastExplanation?.text === 'A dull and tedious film.' ? true : undefined), 60000);
    // No id, as from the Command Palette: a quick pick of the recent ones; the second row is the older one.
    const reopened = vscode.commands.executeCommand(Commands.reopenExplanation);
    await new Promise((r) => setTimeout(r, 1000));
    await vscode.commands.executeCommand('workbench.action.quickOpenSelectNext');
    await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    await reopened;
    assert.equal(api.lastExplanation?.text, SENTENCE);
    const drawn = await panelOn(api, 'attributions', (d) => d.labels.includes('wonderful'), 'the panel to show the reopened explanation');
    assert.ok(!drawn.labels.includes('tedious'), `the panel still shows the newer explanation: ${drawn.labels.join(' ')}`);
  });

  test('a T5 model’s output, candidates and target choices never show as empty labels', async () => {
    const t5 = fixtureModel('t5-op14');
    try {
      await vscode.commands.executeCommand(Commands.openModel, t5);
      await editorWith('translate English to German: the film was good');
      await vscode.commands.executeCommand(Commands.explainSelection);
      const result = await waitFor('the T5 explanation', () => (api.lastExplanation?.fullOutput.task === 'seq2seq' ? api.lastExplanation : undefined), 60000);
      await vscode.commands.executeCommand(Commands.showPanel, { tab: 'prediction' });
      const prediction = await panelOn(api, 'prediction', (d) => d.labels.length > 0);
      assert.deepEqual(prediction.labels.filter((l) => l.trim() === ''), [], `labels: ${JSON.stringify(prediction.labels)}`);
      assert.ok(prediction.labels.length >= result.fullOutput.candidates.length);
      await vscode.commands.executeCommand(Commands.showPanel, { tab: 'attributions' });
      const attributions = await panelOn(api, 'attributions', (d) => (d.counts.choices ?? 0) > 0);
      assert.equal(attributions.counts.blankChoices, 0, 'no blank target or contrast choice');
    } finally {
      await vscode.commands.executeCommand(Commands.openModel, demoModelPath());
    }
  });

  test('a decoder’s next-token candidates get bars of their share among those shown, and say so', async () => {
    try {
      await vscode.commands.executeCommand(Commands.openModel, fixtureModel('gpt2-op14'));
      await editorWith('The film was');
      await vscode.commands.executeCommand(Commands.explainSelection);
      const result = await waitFor('the GPT-2 explanation', () => (api.lastExplanation?.fullOutput.task === 'causal-lm' ? api.lastExplanation : undefined), 60000);
      const candidates = result.fullOutput.candidates;
      const total = candidates.reduce((sum, c) => sum + c.probability, 0);
      assert.ok(total < 0.995, `the top ${candidates.length} hold ${total} of the probability`);
      await vscode.commands.executeCommand(Commands.showPanel, { tab: 'prediction' });
      const drawn = await panelOn(api, 'prediction', (d) => (d.axes?.length ?? 0) > 0);
      assert.match(drawn.axes![0].title, new RegExp(`share among these ${candidates.length} candidates`));
      candidates.forEach((c, i) => assert.ok(Math.abs(drawn.counts[`bar${i}`] - (100 * c.probability) / total) <= 0.06, `bar ${i}: ${drawn.counts[`bar${i}`]}% for p = ${c.probability}`));
    } finally {
      await vscode.commands.executeCommand(Commands.openModel, demoModelPath());
    }
  });
});
