import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { ExplanationResult } from '../../../src/protocol/engineApi';
import { buildHtmlReport } from '../../../src/render/htmlReport';
import { jsonForScriptTag } from '../../../src/render/reportDocument';
import { attributionBarsSvg, coloredTextHtml, heatmapSvg } from '../../../src/render/svgCharts';
import { Commands, Settings, attributionColorId } from '../../../src/ui/ids';

const TEXT = 'A <b>great</b> movie';
const result: ExplanationResult = {
  kind: 'explanation',
  text: TEXT,
  target: { kind: 'class', id: 1, label: 'POSITIVE', description: 'class POSITIVE' },
  features: [
    { text: 'A', start: 0, end: 1, value: 0.01, tokenIndices: [1] },
    { text: '<b>great</b>', start: 2, end: 14, value: 0.8, tokenIndices: [2] },
    { text: 'movie', start: 15, end: 20, value: -0.2, tokenIndices: [3] },
  ],
  baseValue: 0.1,
  outputValue: 0.71,
  fullOutput: {
    task: 'sequence-classification',
    candidates: [
      { label: 'POSITIVE', id: 1, probability: 0.9, logit: 2 },
      { label: 'NEGATIVE', id: 0, probability: 0.1, logit: -0.2 },
    ],
    encoded: { text: TEXT, tokens: [], words: [] },
  },
  evaluations: 64,
  convergence: { max: 0.004, kind: 'standard error', final: true },
  faithfulness: {
    comprehensiveness: 0.4,
    sufficiency: 0.05,
    bins: [],
    deletion: { values: [0.9, 0.3, 0.1], area: 0.3, normalizedArea: 0.2 },
    insertion: { values: [0.1, 0.8, 0.9], area: 0.7, normalizedArea: 0.8 },
    evaluations: 6,
  },
  provenance: {
    modelSha256: 'ab'.repeat(32),
    tokenizerSha256: 'cd'.repeat(32),
    modelPath: '/models/demo-sentiment',
    variant: 'fp32',
    method: 'partition-shap',
    budget: 64,
    seed: 7,
    removal: 'mask',
    level: 'word',
    version: '0.1.0',
    createdAt: '2025-01-01T00:00:00.000Z',
  },
  encoded: { text: TEXT, tokens: [], words: [] },
  notes: ['a note </script><script>alert(1)</script>'],
};

describe('HTML report', () => {
  const html = buildHtmlReport(result, undefined, { generator: '0.1.0' });
  test('self-contained: no remote resources, no executable script', () => {
    assert.ok(!/\b(src|href)\s*=\s*["']?(https?:)?\/\//i.test(html), 'no remote src/href');
    assert.ok(!/<link\b/i.test(html));
    const scripts = html.match(/<script\b[^>]*>/g) ?? [];
    assert.deepEqual(scripts, ['<script type="application/json" id="onnx-lens-result">']);
    assert.match(html, /default-src 'none'/);
  });
  test('text from the model and the document is escaped everywhere', () => {
    assert.ok(!html.includes('<b>great</b>'));
    assert.ok(html.includes('&lt;b&gt;great&lt;/b&gt;'));
    assert.ok(!html.includes('</script><script>alert(1)'));
  });
  test('has the prediction, the figures, the trust numbers and the provenance', () => {
    assert.match(html, /POSITIVE/);
    assert.match(html, /<svg[^>]*aria-label="Attribution per word toward POSITIVE \(Owen values\)"/);
    assert.match(html, /comprehensiveness/);
    assert.match(html, /0\.400/);
    assert.ok(html.includes('ab'.repeat(32)));
    assert.match(html, /seed<\/th><td>7</);
  });
  test('the embedded JSON round-trips', () => {
    const m = /<script type="application\/json" id="onnx-lens-result">([\s\S]*?)<\/script>/.exec(html)!;
    const parsed = JSON.parse(m[1]);
    assert.equal(parsed.result.features[1].text, '<b>great</b>');
    assert.equal(JSON.parse(jsonForScriptTag({ a: new Float32Array([1, 2]) })).a[1], 2);
  });
});

describe('SVG charts', () => {
  test('one bar per feature, labels escaped', () => {
    const svg = attributionBarsSvg(result.features, { title: 'bars', axisTitle: 'contribution to the logit of POSITIVE' });
    assert.equal((svg.match(/<rect x=/g) ?? []).length, 3);
    assert.ok(svg.includes('&lt;b&gt;great&lt;/b&gt;'));
  });
  test('heatmap has rows × cols cells; coloured text keeps the text', () => {
    const svg = heatmapSvg({ title: 'h', rows: ['a', 'b'], cols: ['x', 'y', 'z'], values: [0, 0.5, 1, 1, 0.5, 0] });
    assert.equal((svg.match(/<rect x=/g) ?? []).length, 6);
    const colored = coloredTextHtml(TEXT, result.features);
    assert.equal(colored.replace(/<[^>]+>/g, '').replace(/&lt;/g, '<').replace(/&gt;/g, '>'), TEXT);
  });
});

describe('package.json contributions match the ids', () => {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
  test('every command id is contributed with the ONNX Lens category', () => {
    const contributed = new Map<string, { category: string }>(pkg.contributes.commands.map((c: { command: string; category: string }) => [c.command, c]));
    for (const id of Object.values(Commands)) {
      assert.ok(contributed.has(id), `${id} is contributed`);
      assert.equal(contributed.get(id)!.category, 'ONNX Lens');
    }
  });
  test('every setting is described; every bucket colour has light, dark and high-contrast defaults', () => {
    const props = pkg.contributes.configuration.properties;
    for (const key of Object.values(Settings)) if (key !== 'onnxLens') assert.ok(props[`onnxLens.${key}`]?.description || props[`onnxLens.${key}`]?.markdownDescription, key);
    assert.equal(props['onnxLens.budget'].default, 500);
    assert.equal(props['onnxLens.method'].default, 'partition-shap');
    assert.deepEqual(props['onnxLens.executionProviders'].default, ['cpu']);
    const colors = new Map<string, { defaults: Record<string, string> }>(pkg.contributes.colors.map((c: { id: string }) => [c.id, c]));
    for (const sign of ['positive', 'negative'] as const) {
      for (let b = 1; b <= 5; b++) {
        const c = colors.get(attributionColorId(sign, b));
        assert.ok(c, attributionColorId(sign, b));
        assert.ok(c.defaults.light && c.defaults.dark && c.defaults.highContrast);
      }
    }
    assert.deepEqual(pkg.capabilities.untrustedWorkspaces.supported, 'limited');
  });
});
