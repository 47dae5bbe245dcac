/**
 * The attention views at the sizes people read: the model view's thumbnails grow with the panel and
 * keep every word of a 20–60 word selection at two pixels or more, and each view comes with a text
 * description of what it shows.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { DrawnSummary } from '../../src/protocol/webviewMessages';
import { Commands } from '../../src/ui/ids';
import type { LensApi } from '../../src/ui/lensApi';
import { activateLens, demoModelPath, editorWith, waitFor } from './lensSupport';

/** `count` words of review-like text. */
function words(count: number): string {
  const pool = 'the film was wonderful and the acting superb but the ending felt long and a little slow though the music carried every scene'.split(' ');
  return Array.from({ length: count }, (_, i) => pool[i % pool.length]).join(' ');
}

async function modelView(api: LensApi, units: number): Promise<DrawnSummary> {
  return waitFor(`the model view of ${units} units`, async () => {
    const d = await api.panelState().catch(() => undefined);
    return d?.tab === 'attention' && d.counts.units === units && (d.counts.drawnThumbnails ?? 0) > 0 ? d : undefined;
  });
}

suite('The attention views', function () {
  this.timeout(120000);
  let api: LensApi;

  suiteSetup(async () => {
    ({ api } = await activateLens());
    await vscode.commands.executeCommand(Commands.openModel, demoModelPath());
  });

  for (const count of [20, 60]) {
    test(`the model view of ${count} words: thumbnails sized to the panel, two pixels or more per word, described in text`, async () => {
      await editorWith(words(count));
      await vscode.commands.executeCommand(Commands.showAttention);
      // Words plus [CLS] and [SEP].
      const drawn = await modelView(api, count + 2);
      const perUnit = drawn.counts.thumbnailPx / (count + 2);
      assert.ok(perUnit >= 2, `${drawn.counts.thumbnailPx} px thumbnails for ${count + 2} units`);
      // The demo model's 4 heads fit side by side in the panel when two pixels per word allow it.
      const fits = 40 + 4 * (2 * (count + 2) + 8) <= (drawn.viewWidth ?? 0);
      if (fits) assert.ok(drawn.counts.gridWidth <= (drawn.viewWidth ?? 0), `a ${drawn.counts.gridWidth} px grid in a ${drawn.viewWidth} px panel`);
      assert.equal(drawn.counts.textRows, drawn.counts.thumbnails, 'one line of text per head');
      assert.deepEqual(drawn.unnamedControls, []);
      assert.ok((drawn.legends ?? []).some((l) => /^Attention weight/.test(l)));
    });
  }
});
