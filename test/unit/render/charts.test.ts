import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Candidate } from '../../../src/protocol/engineApi';
import { attributionDirections, explainedQuantity } from '../../../src/render/attributionScale';
import { candidateBars, formatProbability } from '../../../src/render/candidateBars';
import { niceTicks, tickLabels } from '../../../src/render/chartScene';
import { attentionLegend, attributionBarsScene, attributionBarsSvg, heatmapSvg } from '../../../src/render/svgCharts';
import { visibleToken } from '../../../src/render/tokenText';

/** Text of every <text> element of an SVG string, unescaped. */
function svgTexts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1].replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&'));
}

describe('axis ticks', () => {
  test('cover the range with round, evenly spaced steps', () => {
    const ranges: [number, number][] = [[-0.254, 0.302], [0, 1], [0, 0.0042], [-13.7, 2.1], [0.5, 0.5], [0, 0], [-3e-5, 7e-5], [0, 973]];
    for (const [lo, hi] of ranges) {
      const ticks = niceTicks(lo, hi, 5);
      assert.ok(ticks[0] <= lo && ticks[ticks.length - 1] >= hi, `${ticks} cover [${lo}, ${hi}]`);
      const step = ticks[1] - ticks[0];
      const mantissa = step / Math.pow(10, Math.floor(Math.log10(step)));
      assert.ok([1, 2, 2.5, 5].some((m) => Math.abs(m - mantissa) < 1e-9), `step ${step} of ${ticks}`);
      for (let i = 2; i < ticks.length; i++) assert.ok(Math.abs(ticks[i] - ticks[i - 1] - step) < step * 1e-9);
      assert.ok(ticks.length >= 2 && ticks.length <= 12, `${ticks.length} ticks for [${lo}, ${hi}]`);
    }
  });

  test('labels carry the decimals the step needs, the same for every tick, with a real minus sign', () => {
    assert.deepEqual(tickLabels([-0.3, -0.2, -0.1, 0, 0.1, 0.2, 0.3]), ['−0.3', '−0.2', '−0.1', '0', '0.1', '0.2', '0.3'].map((s) => (s === '0' ? '0.0' : s)));
    assert.deepEqual(tickLabels([0, 0.25, 0.5]), ['0.00', '0.25', '0.50']);
    assert.deepEqual(tickLabels([0, 200, 400]), ['0', '200', '400']);
  });
});

describe('the attribution bar chart', () => {
  const features = [
    { text: 'delight', value: 0.302 },
    { text: 'script', value: -0.254 },
    { text: '<img src=x onerror=alert(1)>', value: 0.05 },
  ];
  const options = {
    title: 'Attribution per word toward POSITIVE',
    axisTitle: 'contribution to the logit of POSITIVE',
    legend: { positive: 'toward POSITIVE', negative: 'away from POSITIVE (toward NEGATIVE)' },
  };

  test('has a titled value axis with its tick labels and says what red and blue mean', () => {
    const scene = attributionBarsScene(features, options);
    const texts = svgTexts(attributionBarsSvg(features, options));
    assert.ok(texts.includes('contribution to the logit of POSITIVE'));
    const ticks = scene.axis!.ticks;
    for (const t of ticks) assert.ok(texts.includes(t), `tick ${t} is drawn`);
    const values = ticks.map((t) => Number(t.replace('−', '-')));
    assert.ok(values.length >= 3 && values.length <= 8, `${ticks.length} ticks`);
    assert.ok(values[0] <= -0.254 && values[values.length - 1] >= 0.302, `${ticks} span the values`);
    assert.ok(values.includes(0), 'zero is a tick');
    assert.ok(texts.includes('toward POSITIVE') && texts.includes('away from POSITIVE (toward NEGATIVE)'));
    assert.ok(texts.includes('<img src=x onerror=alert(1)>'), 'the label is there as text');
  });

  test('bars start at zero: lengths proportional to the values, sides by sign', () => {
    const scene = attributionBarsScene(features, options);
    const bars = scene.items.filter((i) => i.kind === 'rect' && i.title !== undefined) as { x: number; width: number; fill: string }[];
    assert.equal(bars.length, 3);
    assert.ok(Math.abs(bars[0].width / bars[1].width - 0.302 / 0.254) < 1e-6);
    assert.ok(Math.abs(bars[0].x - (bars[1].x + bars[1].width)) < 1e-6, 'positive bars start where negative ones end');
    assert.notEqual(bars[0].fill, bars[1].fill);
  });

  test('markup in a label never becomes markup in the SVG', () => {
    const svg = attributionBarsSvg(features, options);
    assert.ok(!svg.includes('<img'));
    assert.ok(svg.includes('&lt;img src=x onerror=alert(1)&gt;'));
  });

  test('a heatmap carries its colour scale legend with the values it spans', () => {
    const svg = heatmapSvg({ title: 'Layer 2, mean of heads', rows: ['a', 'b'], cols: ['a', 'b'], values: [1, 0.5, 0.25, 0], legend: attentionLegend(0.84) });
    const texts = svgTexts(svg);
    assert.ok(texts.includes('Attention weight'));
    for (const t of ['0', '0.420', '0.840']) assert.ok(texts.includes(t), t);
  });
});

describe('red and blue in words', () => {
  test('toward the target, away from it (toward the other class), or between target and contrast', () => {
    assert.deepEqual(attributionDirections({ label: 'POSITIVE' }, 'NEGATIVE'), { positive: 'toward POSITIVE', negative: 'away from POSITIVE (toward NEGATIVE)' });
    assert.deepEqual(attributionDirections({ label: ' the' }), { positive: 'toward  the', negative: 'away from  the' });
    assert.deepEqual(attributionDirections({ label: 'A', contrastLabel: 'B' }), { positive: 'toward A rather than B', negative: 'toward B rather than A' });
    assert.equal(explainedQuantity({ label: 'A', contrastLabel: 'B' }), 'logit(A) − logit(B)');
  });
});

describe('prediction bars', () => {
  // A GPT-2-like next-token distribution: 50,257 tokens, the top ten hold 0.4 % between them.
  const gpt2: Candidate[] = [1.2e-3, 8e-4, 5e-4, 4e-4, 3e-4, 2.5e-4, 2e-4, 1.5e-4, 1.2e-4, 8e-5].map((p, i) => ({ label: [' the', ' a', ',', '\n', ' and', ' of', ' ', '', ' in', ' to'][i], id: i, probability: p, logit: Math.log(p) }));

  test('a language model’s top candidates are bars of their share among those shown, labelled as such', () => {
    const { bars, scale, caption } = candidateBars(gpt2);
    const total = gpt2.reduce((s, c) => s + c.probability, 0);
    assert.equal(scale, 'share of those shown');
    bars.forEach((b, i) => assert.ok(Math.abs(b.fraction - gpt2[i].probability / total) < 1e-12));
    assert.ok(bars[0].fraction > 0.25 && bars[9].fraction > 0.015, 'every bar is long enough to see');
    assert.match(caption, /share among these 10 candidates/);
    assert.match(caption, /0\.40%/);
    for (const b of bars) assert.notEqual(b.probabilityText, '0.0%', 'no probability reads as zero');
    assert.equal(bars[0].probabilityText, '0.12%');
    assert.equal(bars[9].probabilityText, '0.0080%');
  });

  test('a classifier’s classes are bars of their probability', () => {
    const { bars, scale } = candidateBars([{ label: 'POSITIVE', id: 1, probability: 0.93, logit: 2 }, { label: 'NEGATIVE', id: 0, probability: 0.07, logit: -0.5 }]);
    assert.equal(scale, 'probability');
    assert.deepEqual(bars.map((b) => [b.fraction, b.probabilityText]), [[0.93, '93.0%'], [0.07, '7.0%']]);
  });

  test('labels made of spaces, newlines or nothing stay visible', () => {
    assert.deepEqual(candidateBars(gpt2).bars.map((b) => b.shown), ['␣the', '␣a', ',', '⏎', '␣and', '␣of', '␣', '∅ (empty)', '␣in', '␣to']);
    assert.equal(visibleToken('a b'), 'a b');
    assert.equal(formatProbability(3.1e-9), '3.1e-7%');
  });
});
