import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ExplainParams, ExplanationResult } from '../../../src/protocol/engineApi';
import { EngineService } from '../../../src/engine/process/engineService';
import type { RequestContext } from '../../../src/engine/process/requestContext';
import { convergenceText, timingText, valueKindOf, valuesName } from '../../../src/render/explanationValues';
import { buildHtmlReport } from '../../../src/render/htmlReport';
import { attributionBarsScene, curveSvg } from '../../../src/render/svgCharts';
import { DEMO_MODEL } from '../../support/fixtureModels';

const ctx: RequestContext = { isCancelled: () => false, progress: () => undefined };
const TWELVE = 'The film was wonderful, but the ending felt rushed and oddly flat.';
const FIVE = 'a truly wonderful little film';

/** The x coordinates of each polyline of an SVG, in order. */
function polylineXs(svg: string): number[][] {
  return [...svg.matchAll(/<polyline[^>]*points="([^"]+)"/g)].map((m) => m[1].split(' ').map((p) => Number(p.split(',')[0])));
}

describe('what the values are, on the demo model', () => {
  let engine: EngineService;
  const explain = (params: ExplainParams) => engine.handle('explain', params, ctx) as Promise<ExplanationResult>;
  before(async () => {
    engine = new EngineService();
    await engine.handle('open', { modelPath: DEMO_MODEL }, ctx);
  });
  after(() => engine.dispose());

  test('the report names Owen values for Partition SHAP over a hierarchy, Shapley values when it is flat', async () => {
    const owen = await explain({ text: TWELVE, method: 'partition-shap', budget: 500 });
    const flat = await explain({ text: FIVE, method: 'partition-shap', budget: 500 });
    assert.equal(owen.valueKind, 'owen');
    assert.equal(flat.valueKind, 'shapley');
    const owenHtml = buildHtmlReport(owen);
    assert.match(owenHtml, /<h2>Attribution: Owen values by partition-shap<\/h2>/);
    assert.match(owenHtml, /<th>convergence<\/th><td>exact Owen values of the text’s hierarchy \(not Shapley values\)<\/td>/);
    assert.doesNotMatch(owenHtml, /Shapley values by|\(Shapley values\)"/);
    const flatHtml = buildHtmlReport(flat);
    assert.match(flatHtml, /<h2>Attribution: Shapley values by partition-shap<\/h2>/);
    assert.match(flatHtml, /<th>convergence<\/th><td>exact<\/td>/);
  });

  test('a result saved without its value kind is read from its method as the engine would name it', async () => {
    const results = await Promise.all([
      explain({ text: TWELVE, method: 'partition-shap', budget: 500 }),
      explain({ text: FIVE, method: 'partition-shap', budget: 500 }),
      explain({ text: FIVE, method: 'exact-shapley' }),
      explain({ text: TWELVE, method: 'kernel-shap', budget: 200, seed: 1 }),
      explain({ text: TWELVE, method: 'lime', budget: 200, seed: 1 }),
      explain({ text: TWELVE, method: 'occlusion' }),
      explain({ text: TWELVE, method: 'rollout' }),
    ]);
    for (const r of results) {
      const saved = { ...r, valueKind: undefined };
      assert.equal(valueKindOf(saved), r.valueKind, `${r.provenance.method} on "${r.text}"`);
    }
  });

  test('convergence and time in words, never the engine’s identifiers', async () => {
    const results = await Promise.all([
      explain({ text: TWELVE, method: 'partition-shap', budget: 500 }),
      explain({ text: TWELVE, method: 'partition-shap', budget: 20 }),
      explain({ text: TWELVE, method: 'kernel-shap', budget: 100, seed: 1 }),
      explain({ text: TWELVE, method: 'lime', budget: 100, seed: 1 }),
      explain({ text: TWELVE, method: 'occlusion' }),
    ]);
    const kinds = new Set(results.map((r) => r.convergence.kind));
    assert.ok(kinds.size >= 3, `several kinds of convergence: ${[...kinds].join(', ')}`);
    for (const r of results) {
      const words = convergenceText(r.convergence);
      assert.doesNotMatch(words, /exact-owen|std-error|change-between-rounds|not-estimated/, words);
      if (Number.isFinite(r.convergence.max) && r.convergence.max > 0) assert.match(words, /\d/, `${r.convergence.kind}: ${words} says how far`);
      if (!r.convergence.final) assert.match(words, /not final/);
      assert.ok(r.timing, 'the engine says how long it took');
      assert.match(timingText(r.timing!), /^\d+(\.\d)? (ms|s)( \(estimated [^)]+\))?, [\d,]+ model rows?$/);
    }
    assert.equal(valuesName(results[0], 'one'), 'Owen value');
    assert.equal(valuesName(results[3]), 'LIME weights');
  });

  test('the faithfulness curves of 103 words are drawn against the words removed, not the step number', async () => {
    const words = Array.from({ length: 103 }, (_, i) => ['good', 'film', 'but', 'slow', 'plot', 'and', 'fine', 'acting'][i % 8]);
    const r = await explain({ text: words.join(' '), method: 'occlusion' });
    const counts = Array.from(r.faithfulness!.deletion.counts!);
    assert.equal(counts[counts.length - 1], 103);
    assert.equal(counts[1], 2, 'steps of two words');
    const [deletion, insertion] = polylineXs(buildHtmlReport(r));
    for (const xs of [deletion, insertion]) {
      assert.equal(xs.length, counts.length);
      const perWord = (xs[xs.length - 1] - xs[0]) / 103;
      counts.forEach((c, i) => assert.ok(Math.abs(xs[i] - (xs[0] + c * perWord)) <= 0.15, `point ${i} (${c} words) at ${xs[i]}`));
    }
  });
});

describe('curve chart', () => {
  test('points sit at their counts, with round ticks of the count and the last count at the end', () => {
    const counts = [0, 1, 2, 10, 50, 100];
    const svg = curveSvg([{ name: 'deletion', values: [1, 0.9, 0.8, 0.5, 0.2, 0], counts, color: '#d00' }], { title: 'curves', xTitle: 'words removed' });
    const [xs] = polylineXs(svg);
    const perUnit = (xs[5] - xs[0]) / 100;
    counts.forEach((c, i) => assert.ok(Math.abs(xs[i] - (xs[0] + c * perUnit)) <= 0.1, `count ${c} at ${xs[i]}`));
    // Evenly spaced steps would put the fourth point at 3/5 of the width; its count puts it at a tenth.
    assert.ok(xs[3] - xs[0] < 0.11 * (xs[5] - xs[0]));
    const ticks = [...svg.matchAll(/class="x-tick">(\d+)</g)].map((m) => Number(m[1]));
    assert.equal(ticks[0], 0);
    assert.equal(ticks[ticks.length - 1], 100);
    assert.match(svg, />words removed</);
  });

  test('without counts, the points are the steps 0, 1, …', () => {
    const [xs] = polylineXs(curveSvg([{ name: 'c', values: [1, 0.5, 0.2, 0], color: '#00f' }], { title: 't' }));
    const step = xs[1] - xs[0];
    assert.ok(step > 0 && Math.abs(xs[3] - xs[0] - 3 * step) <= 0.15);
  });
});

describe('bar chart title', () => {
  test('a title longer than a narrow chart is wrapped at spaces onto two lines inside the chart', () => {
    const title = 'Attribution per word toward POSITIVE (Owen values, partition-shap)';
    const features = [{ text: 'good', value: 0.4 }, { text: 'film', value: -0.1 }];
    const narrow = attributionBarsScene(features, { title, axisTitle: 'contribution', width: 360 });
    const lines = narrow.items.filter((i) => i.kind === 'text' && i.weight === 'bold').map((i) => (i as { text: string }).text);
    assert.equal(lines.length, 2);
    assert.equal(lines.join(' '), title, 'nothing of the title is lost');
    for (const line of lines) assert.ok(8 + line.length * 7 <= 360, `"${line}" fits 360 px`);
    const wide = attributionBarsScene(features, { title, axisTitle: 'contribution', width: 640 });
    assert.deepEqual(wide.items.filter((i) => i.kind === 'text' && i.weight === 'bold').map((i) => (i as { text: string }).text), [title]);
    assert.equal(narrow.height - wide.height, 16, 'the second line takes its own room');
  });
});
