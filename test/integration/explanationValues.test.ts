/**
 * What an explanation's numbers are, as the views say it: Partition SHAP over a hierarchy gives Owen values and
 * the panel, the hover, the sidebar's recent list and the HTML report call them so (Shapley values only when the
 * hierarchy was flat); convergence in words; the faithfulness curves of a long text plotted against the words
 * removed; and a long run's notification saying the engine's time estimate.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ExplanationResult } from '../../src/protocol/engineApi';
import { Commands } from '../../src/ui/ids';
import type { LensApi } from '../../src/ui/lensApi';
import { activateLens, editorWith, hoverAt, panelOn, sidebarOn, waitFor } from './lensSupport';

/** Twelve words: 2^12 coalitions, more than the default budget of 500, so Partition SHAP keeps its hierarchy. */
const TWELVE = 'The film was wonderful, but the ending felt rushed and oddly flat.';
/** Five words: 32 coalitions, within the budget, so the hierarchy is flat and the values are Shapley values. */
const FIVE = 'a truly wonderful little film';
/** The engine's names of convergence kinds, which a reader should never have to decode. */
const RAW_KINDS = /\b(exact-owen|std-error|change-between-rounds|not-estimated)\b/;

/** The report's <svg> whose accessible name starts with `label`. */
function svgNamed(html: string, label: string): string {
  const start = html.indexOf(`aria-label="${label}`);
  assert.ok(start >= 0, `the report has a figure named "${label}…"`);
  return html.slice(html.lastIndexOf('<svg', start), html.indexOf('</svg>', start));
}

suite('What an explanation is, in the views', function () {
  this.timeout(240000);
  let api: LensApi;
  let demo: string;
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-lens-values-'));
  const config = () => vscode.workspace.getConfiguration('onnxLens');

  async function explain(text: string, accept: (r: ExplanationResult) => boolean = () => true): Promise<{ editor: vscode.TextEditor; result: ExplanationResult }> {
    const editor = await editorWith(text);
    await vscode.commands.executeCommand(Commands.explainSelection);
    const result = await waitFor(`the explanation of "${text.slice(0, 30)}…"`, () => (api.lastExplanation?.text === text && accept(api.lastExplanation) ? api.lastExplanation : undefined), 60000);
    return { editor, result };
  }

  async function report(name: string): Promise<string> {
    const file = path.join(scratch, name);
    const saved = await vscode.commands.executeCommand<vscode.Uri | undefined>(Commands.exportExplanation, 'html', vscode.Uri.file(file));
    assert.ok(saved, 'the report is saved');
    return fs.readFileSync(file, 'utf8');
  }

  suiteSetup(async () => {
    let extensionPath: string;
    ({ api, extensionPath } = await activateLens());
    demo = path.join(extensionPath, 'models', 'demo-sentiment');
    await vscode.commands.executeCommand(Commands.openModel, demo);
  });

  suiteTeardown(async () => {
    await config().update('method', undefined, vscode.ConfigurationTarget.Global);
    await config().update('budget', undefined, vscode.ConfigurationTarget.Global);
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  test('Partition SHAP over a hierarchy: the panel, the hover, the recent list and the report say Owen values, never Shapley values', async () => {
    await config().update('method', 'partition-shap', vscode.ConfigurationTarget.Global);
    const { editor, result } = await explain(TWELVE);
    assert.equal(result.valueKind, 'owen', 'the engine computed Owen values');
    assert.equal(result.convergence.kind, 'exact-owen');

    const panel = await panelOn(api, 'attributions', (d) => (d.axes?.length ?? 0) > 0 && /Owen values by partition-shap/.test(d.text ?? ''));
    const text = panel.text!;
    assert.match(text, /values\s+Owen values/, 'the Trust table names the values');
    assert.match(text, /convergence\s+exact Owen values of the text’s hierarchy \(not Shapley values\)/, 'convergence in words');
    assert.doesNotMatch(text, /Shapley values by|values\s+Shapley values/, 'never called Shapley values');
    assert.doesNotMatch(text, RAW_KINDS, 'no engine identifiers');

    const top = api.decorationsFor(editor).find((h) => h.rank === 1)!;
    const [hover] = await hoverAt(editor, top.start + 1);
    assert.match(hover.value, / Owen value — rank 1 of \d+ \(partition\\-shap\)/, hover.value);
    assert.doesNotMatch(hover.value, /Shapley/);

    const side = await sidebarOn(api, (d) => (d.counts.recent ?? 0) > 0 && /Owen values · partition-shap/.test(d.text ?? ''));
    // Headings may be drawn in capitals: innerText says them as shown.
    const recent = side.text!.slice(side.text!.search(/recent explanations/i));
    assert.match(recent.split('\n').slice(0, 6).join('\n'), /Owen values · partition-shap/, `the latest item says Owen values: ${JSON.stringify(recent.slice(0, 300))}`);

    const html = await report('owen.html');
    assert.match(html, /<h2>Attribution: Owen values by partition-shap<\/h2>/);
    assert.match(html, /aria-label="Attribution per word toward [^"]* \(Owen values\)"/);
    assert.match(html, /<th>convergence<\/th><td>exact Owen values of the text’s hierarchy \(not Shapley values\)<\/td>/);
    assert.doesNotMatch(html, /Attribution: Shapley|\(Shapley values\)"/);
  });

  test('Partition SHAP whose budget covers every coalition: Shapley values, exact', async () => {
    await config().update('method', 'partition-shap', vscode.ConfigurationTarget.Global);
    const { editor, result } = await explain(FIVE);
    assert.equal(result.valueKind, 'shapley', 'a flat hierarchy gives Shapley values');
    const panel = await panelOn(api, 'attributions', (d) => /Shapley values by partition-shap/.test(d.text ?? ''));
    assert.match(panel.text!, /convergence\s+exact\b/);
    assert.doesNotMatch(panel.text!, /Owen values by|values\s+Owen values/);
    const top = api.decorationsFor(editor).find((h) => h.rank === 1)!;
    const [hover] = await hoverAt(editor, top.start + 1);
    assert.match(hover.value, / Shapley value — rank 1 of \d+ \(partition\\-shap\)/, hover.value);
    const html = await report('flat.html');
    assert.match(html, /<h2>Attribution: Shapley values by partition-shap<\/h2>/);
  });

  test('LIME and occlusion are named for what they are, and their convergence is said in words', async () => {
    await config().update('method', 'lime', vscode.ConfigurationTarget.Global);
    const { result: lime } = await explain(TWELVE, (r) => r.provenance.method === 'lime');
    assert.equal(lime.valueKind, 'lime');
    const limePanel = await panelOn(api, 'attributions', (d) => /LIME weights by lime/.test(d.text ?? ''));
    assert.doesNotMatch(limePanel.text!, RAW_KINDS, 'no engine identifiers');
    assert.doesNotMatch(limePanel.text!, /Shapley values by|Owen values by/);
    await config().update('method', 'occlusion', vscode.ConfigurationTarget.Global);
    const { result: occlusion } = await explain(TWELVE, (r) => r.provenance.method === 'occlusion');
    assert.equal(occlusion.valueKind, 'occlusion');
    await panelOn(api, 'attributions', (d) => /Occlusion differences by occlusion/.test(d.text ?? ''));
    const side = await sidebarOn(api, (d) => /Occlusion differences · occlusion/i.test(d.text ?? '') && /LIME weights · lime/.test(d.text ?? ''));
    assert.ok(side, 'the recent list names both');
  });

  test('the faithfulness curves of a long text are drawn against the number of words removed', async () => {
    await config().update('method', 'occlusion', vscode.ConfigurationTarget.Global);
    // 103 words (punctuation included): past 100, a curve's step removes two words, and the last step one.
    const words = Array.from({ length: 103 }, (_, i) => ['good', 'film', 'but', 'slow', 'plot', 'and', 'fine', 'acting'][i % 8]);
    const { result } = await explain(words.join(' '), (r) => r.provenance.method === 'occlusion');
    const n = result.features.length;
    const counts = Array.from(result.faithfulness!.deletion.counts!);
    assert.ok(n > 100 && counts[1] > 1, `${n} words, steps of ${counts[1]}`);
    assert.equal(counts[counts.length - 1], n);

    const html = await report('long.html');
    const svg = svgNamed(html, 'Output as the most important words are removed / inserted');
    const [deletion] = [...svg.matchAll(/<polyline[^>]*points="([^"]+)"/g)].map((m) => m[1].split(' ').map((p) => Number(p.split(',')[0])));
    assert.equal(deletion.length, counts.length, 'one point per step');
    // Independent of the chart code: x must be an affine function of the count, pinned by the first and last points.
    const x0 = deletion[0];
    const perWord = (deletion[deletion.length - 1] - x0) / n;
    const off = counts.map((c, i) => Math.abs(deletion[i] - (x0 + c * perWord)));
    assert.ok(Math.max(...off) <= 0.15, `points off their word counts by up to ${Math.max(...off).toFixed(2)} px`);
    // The axis says what x is, with the count of words at its end.
    assert.match(svg, /words removed \(deletion\) or inserted \(insertion\)/);
    const ticks = [...svg.matchAll(/<text x="([\d.]+)"[^>]*class="x-tick">(\d+)<\/text>/g)].map((m) => ({ x: Number(m[1]), count: Number(m[2]) }));
    assert.ok(ticks.some((t) => t.count === n), `the last tick is ${n}: ${ticks.map((t) => t.count).join(', ')}`);
    for (const t of ticks) assert.ok(Math.abs(t.x - (x0 + t.count * perWord)) <= 0.15, `tick ${t.count} at ${t.x}`);
  });

  test('a long explanation’s notification says the engine’s time estimate, then the time left', async () => {
    await config().update('method', 'kernel-shap', vscode.ConfigurationTarget.Global);
    await config().update('budget', 100000, vscode.ConfigurationTarget.Global);
    const title = 'ONNX Lens: explaining with kernel-shap';
    const before = api.progressShown().length;
    try {
      await editorWith(`${TWELVE} ${TWELVE} ${TWELVE}`);
      const running = vscode.commands.executeCommand(Commands.explainSelection);
      const lines = await waitFor(
        'two progress lines with the time estimate',
        () => {
          const shown = api.progressShown().slice(before).filter((p) => p.title === title);
          return shown.filter((p) => /left of an estimated/.test(p.message)).length >= 2 ? shown : undefined;
        },
        60000,
      );
      api.cancelCurrent();
      assert.equal(await running, undefined, 'cancelled');
      for (const line of lines) {
        assert.match(line.message, /^\d+ \/ \d+ evaluations · (estimated .+|about .+ left of an estimated .+|taking longer than the estimated .+)$/, line.message);
        assert.ok((line.message.match(/left/g) ?? []).length <= 1, `the time left is said once: ${line.message}`);
      }
      const timed = lines.filter((l) => /left of an estimated/.test(l.message));
      const total = /^\d+ \/ (\d+) evaluations/.exec(timed[0].message)![1];
      assert.ok(Number(total) > 1000, `the planned rows of a 100,000 budget: ${total}`);
    } finally {
      await config().update('budget', undefined, vscode.ConfigurationTarget.Global);
      await config().update('method', undefined, vscode.ConfigurationTarget.Global);
    }
  });
});
