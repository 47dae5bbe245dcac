/**
 * Inside the model, in a real VS Code: each new command runs on the demo model and the panel
 * reports what it drew on the matching tab; the logit lens runs on a small decoder fixture.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { PanelTab } from '../../src/protocol/webviewMessages';
import { Commands } from '../../src/ui/ids';
import type { LensApi } from '../../src/ui/lensApi';
import { activateLens, demoModelPath, editorWith, panelOn, SENTENCE, waitFor } from './lensSupport';

suite('Inside the model', function () {
  this.timeout(180000);
  let api: LensApi;

  suiteSetup(async () => {
    ({ api } = await activateLens());
  });

  test('the new commands are registered', async () => {
    const registered = new Set(await vscode.commands.getCommands(true));
    for (const id of [Commands.showHeadImportance, Commands.compareModels, Commands.testRobustness, Commands.runDataset, Commands.showLogitLens]) {
      assert.ok(registered.has(id), id);
    }
  });

  suite('on the demo model', function () {
    suiteSetup(async function () {
      const demo = demoModelPath();
      if (!fs.existsSync(demo)) {
        console.log(`  skipped: the demo model is not installed (expected ${demo})`);
        this.skip();
      }
      const card = await vscode.commands.executeCommand(Commands.openModel, demo);
      assert.ok(card, 'the demo model opens');
      await editorWith(SENTENCE);
    });

    test('Show Activations draws the norms and, beside them, each layer’s update', async () => {
      await vscode.commands.executeCommand(Commands.showActivations);
      const layers = api.model!.layers.value;
      const drawn = await panelOn(api, 'activations', (d) => (d.counts.tokens ?? 0) > 0);
      assert.equal(drawn.counts.layers, layers + 1);
      assert.equal(drawn.counts.updateLayers, layers);
      assert.ok((drawn.counts.updateCells ?? 0) > 0, 'update cells are drawn');
    });

    test('Show Head Importance draws a layers × heads grid', async () => {
      await editorWith(SENTENCE);
      await vscode.commands.executeCommand(Commands.showHeadImportance);
      const heads = api.inside.heads;
      assert.ok(heads?.result.grid, 'head importance was measured');
      const { layers, heads: perLayer } = heads.result;
      assert.equal(heads.result.grid.length, layers);
      const drawn = await panelOn(api, 'heads', (d) => (d.counts.headCells ?? 0) > 0);
      assert.equal(drawn.counts.layers, layers);
      assert.equal(drawn.counts.heads, perLayer);
      assert.equal(drawn.counts.headCells, layers * perLayer);
    });

    test('Test Robustness lists every variant and highlights the flips', async () => {
      await editorWith(SENTENCE);
      const result = await vscode.commands.executeCommand<LensApi['inside']['robustness']>(Commands.testRobustness, { seed: 1, maxVariants: 8 });
      assert.ok(result, 'robustness ran');
      assert.equal(result.variants.length, 8);
      const drawn = await panelOn(api, 'robustness', (d) => d.counts.variants === 8);
      assert.equal(drawn.counts.rows, 8);
      assert.equal(drawn.counts.flips, result.variants.filter((v) => v.flipped).length);
      assert.deepEqual(drawn.labels, result.variants.map((v) => v.text));
    });

    test('Compare Models… with the other variant shows drift, agreement and the per-head attention difference', async function () {
      const card = api.model!;
      const other = card.availableVariants.find((v) => v !== card.variant);
      if (!other) {
        console.log('  skipped: the demo model has a single variant');
        this.skip();
      }
      await editorWith(SENTENCE);
      const view = await vscode.commands.executeCommand<{ result: { drift: { perLabel: unknown[] }; attention?: { meanAbsDiff: number[] }[] } }>(Commands.compareModels, { otherVariant: other });
      assert.ok(view, 'the comparison ran');
      const drawn = await panelOn(api, 'compare', (d) => (d.counts.driftLabels ?? 0) > 0);
      assert.equal(drawn.counts.driftLabels, view.result.drift.perLabel.length);
      assert.equal(drawn.counts.attentionCells, (view.result.attention ?? []).reduce((s, a) => s + a.meanAbsDiff.length, 0));
    });

    test('Run on Dataset… shows accuracy, the confusion table and the examples', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-lens-dataset-'));
      const file = path.join(dir, 'reviews.jsonl');
      const rows = [
        { text: 'A wonderful, moving film.', label: 'POSITIVE' },
        { text: 'Dull, long and badly acted.', label: 'NEGATIVE' },
        { text: 'I loved every minute of it.', label: 'POSITIVE' },
        { text: 'A waste of an evening.', label: 'NEGATIVE' },
      ];
      fs.writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
      const result = await vscode.commands.executeCommand<{ examples: number; labels: string[]; misclassified: unknown[] }>(Commands.runDataset, { path: file, textColumn: 'text', labelColumn: 'label' });
      assert.ok(result, 'the dataset ran');
      assert.equal(result.examples, rows.length);
      const drawn = await panelOn(api, 'dataset', (d) => d.counts.examples === rows.length);
      assert.equal(drawn.counts.confusionCells, result.labels.length ** 2);
      assert.equal(drawn.counts.misclassified, result.misclassified.length);
      assert.ok((drawn.counts.renderedRows ?? 0) > 0, 'example rows are rendered');
      // The sidebar summarises every analysis run so far.
      const lines = api.sidebarState().inside ?? [];
      for (const tab of ['heads', 'robustness', 'dataset'] as const) assert.ok(lines.some((l) => l.tab === tab), tab);
      fs.rmSync(dir, { recursive: true, force: true });
    });

    test('every heatmap of the panel has its colour legend', async () => {
      await editorWith(SENTENCE);
      await vscode.commands.executeCommand(Commands.explainSelection);
      await vscode.commands.executeCommand(Commands.showAttention);
      await panelOn(api, 'attention', (d) => (d.counts.drawnThumbnails ?? 0) > 0);
      const expected: Partial<Record<PanelTab, RegExp>> = {
        attributions: /^Word colour: contribution to the logit of /,
        attention: /^Attention weight/,
        activations: /^Cell colour: ‖h‖/,
        heads: /^Change of the logit when the head is removed$/,
        compare: /^Mean \|attention of B − attention of A\|$/,
        dataset: /^Correct \(diagonal\)/,
      };
      for (const [tab, legend] of Object.entries(expected) as [PanelTab, RegExp][]) {
        await vscode.commands.executeCommand(Commands.showPanel, { tab });
        const drawn = await panelOn(api, tab, (d) => (d.legends?.length ?? 0) > 0);
        assert.ok(drawn.legends!.some((l) => legend.test(l)), `${tab}: ${drawn.legends!.join(' | ')}`);
      }
    });

    test('Show Logit Lens explains that a classifier has no next token', async () => {
      await editorWith(SENTENCE);
      const result = await vscode.commands.executeCommand(Commands.showLogitLens);
      assert.equal(result, undefined);
      assert.equal(api.sidebarState().decoder, false);
    });
  });

  suite('on a decoder', function () {
    suiteSetup(async function () {
      let gpt2: string;
      try {
        const { fixtureModel } = await import('../support/fixtureModels');
        gpt2 = fixtureModel('gpt2-op14');
      } catch (error) {
        console.log(`  skipped: the GPT-2 fixture is not available (${error instanceof Error ? error.message : String(error)})`);
        this.skip();
      }
      const card = await vscode.commands.executeCommand(Commands.openModel, gpt2);
      assert.ok(card, 'the decoder fixture opens');
      await editorWith('the film was');
    });

    test('Show Logit Lens draws one row per hidden state beside the activations', async () => {
      const result = await vscode.commands.executeCommand<{ layers: unknown[] }>(Commands.showLogitLens);
      assert.ok(result, 'the logit lens ran');
      assert.equal(api.sidebarState().decoder, true);
      const drawn = await panelOn(api, 'activations', (d) => (d.counts.logitLensLayers ?? 0) > 0);
      assert.equal(drawn.counts.logitLensLayers, result.layers.length);
    });

    suiteTeardown(async () => {
      const demo = demoModelPath();
      if (fs.existsSync(demo)) await vscode.commands.executeCommand(Commands.openModel, demo);
    });
  });
});
