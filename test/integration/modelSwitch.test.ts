/**
 * Opening another model replaces everything the previous one computed: the status bar's prediction,
 * the explanation and its highlights, the inside-the-model results, and what every panel tab shows
 * (the Attention tab fetches the new model's attention when it is shown again).
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { ModelCard } from '../../src/protocol/engineApi';
import { Commands } from '../../src/ui/ids';
import type { LensApi } from '../../src/ui/lensApi';
import { fixtureModel } from '../support/fixtureModels';
import { activateLens, demoModelPath, editorWith, panelOn, SENTENCE, waitFor } from './lensSupport';

suite('Opening another model', function () {
  this.timeout(180000);
  let api: LensApi;
  let demo: string;

  suiteSetup(async () => {
    ({ api } = await activateLens());
    demo = demoModelPath();
    const card = await vscode.commands.executeCommand<ModelCard | undefined>(Commands.openModel, demo);
    assert.ok(card, 'the demo model opens');
  });

  suiteTeardown(async () => {
    await vscode.commands.executeCommand(Commands.openModel, demo);
  });

  test('leaves nothing of the previous model in the status bar, the panel or the results', async () => {
    const editor = await editorWith(SENTENCE);
    await vscode.commands.executeCommand(Commands.explainSelection);
    const first = await waitFor('the demo explanation', () => api.lastExplanation);
    await waitFor('the prediction in the status bar', () => api.statusBar().text.includes(first.target.label) || undefined);
    await vscode.commands.executeCommand(Commands.testRobustness, { seed: 1, maxVariants: 2 });
    assert.ok(api.inside.robustness, 'robustness ran on the demo model');
    await vscode.commands.executeCommand(Commands.showAttention);
    // BERT: [CLS] and [SEP] are units of their own.
    const before = await panelOn(api, 'attention', (d) => (d.counts.drawnThumbnails ?? 0) > 0, 'the demo model’s attention');
    assert.equal(before.counts.specialUnits, 2);

    const gpt2 = await vscode.commands.executeCommand<ModelCard | undefined>(Commands.openModel, fixtureModel('gpt2-op14'));
    assert.ok(gpt2, 'the GPT-2 fixture opens');
    const status = api.statusBar().text;
    assert.ok(status.includes(gpt2.name), `the status bar names the new model: ${status}`);
    for (const label of api.model?.labels ?? ['NEGATIVE', 'POSITIVE']) assert.ok(!status.includes(label), `no prediction of the demo model: ${status}`);
    assert.equal(api.lastExplanation, undefined, 'the demo explanation is no longer the current one');
    assert.equal(api.decorationsFor(editor).length, 0, 'its highlights are gone');
    assert.equal(api.inside.robustness, undefined, 'the demo model’s robustness result is gone');
    assert.deepEqual(api.sidebarState().inside ?? [], []);

    // The panel forgot the demo model's results on every tab.
    await vscode.commands.executeCommand(Commands.showPanel, { tab: 'prediction' });
    const prediction = await panelOn(api, 'prediction', () => true, 'the prediction tab');
    assert.equal(prediction.counts.candidates ?? 0, 0, `no demo prediction left: ${prediction.labels.join(', ')}`);
    await vscode.commands.executeCommand(Commands.showPanel, { tab: 'robustness' });
    const robustness = await panelOn(api, 'robustness', () => true, 'the robustness tab');
    assert.equal(robustness.counts.variants, 0);

    // Shown again, the Attention tab reads the new model's attention of the same text (GPT-2 adds no special tokens).
    await vscode.commands.executeCommand(Commands.showPanel, { tab: 'attention' });
    const after = await panelOn(api, 'attention', (d) => (d.counts.drawnThumbnails ?? 0) > 0 && d.counts.specialUnits === 0, 'the GPT-2 attention');
    assert.ok((after.counts.units ?? 0) > 0);

    // An explanation by the new model is computed by it, not served from the previous model's results.
    await editorWith(SENTENCE);
    await vscode.commands.executeCommand(Commands.explainSelection);
    const second = await waitFor('the GPT-2 explanation', () => api.lastExplanation);
    assert.equal(second.provenance.modelSha256, gpt2.sha256);
    assert.ok(second.evaluations > 0, `${second.evaluations} evaluations`);
  });
});
