/**
 * The explanation panel as a user meets it: every tab on screen at the width the panel opens with,
 * and every control named for a screen reader.
 */
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { DrawnSummary, PanelTab } from '../../src/protocol/webviewMessages';
import { PANEL_TABS } from '../../src/protocol/webviewMessages';
import { Commands } from '../../src/ui/ids';
import type { LensApi } from '../../src/ui/lensApi';
import { activateLens, editorWith, SENTENCE, waitFor } from './lensSupport';

function panelOn(api: LensApi, tab: PanelTab, ready: (d: DrawnSummary) => boolean = () => true): Promise<DrawnSummary> {
  return waitFor(`the panel to show the ${tab} tab`, async () => {
    const d = await api.panelState().catch(() => undefined);
    return d && d.tab === tab && ready(d) ? d : undefined;
  });
}

suite('The explanation panel', function () {
  this.timeout(120000);
  let api: LensApi;

  suiteSetup(async () => {
    let extensionPath: string;
    ({ api, extensionPath } = await activateLens());
    await vscode.commands.executeCommand(Commands.openModel, path.join(extensionPath, 'models', 'demo-sentiment'));
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
});
