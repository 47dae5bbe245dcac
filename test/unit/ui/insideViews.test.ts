import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AttentionResult, DatasetResult, HeadImportanceResult, RobustnessResult, TokenView } from '../../../src/protocol/engineApi';
import { validHeadPairs } from '../../../src/protocol/webviewMessages';
import { activationGrid } from '../../../src/render/activationViews';
import { datasetColumns, datasetFormatOf, exampleSpan } from '../../../src/ui/commands/datasetColumns';
import { headsSummary, mostImportantHead, robustnessSummary } from '../../../src/render/insideSummary';
import { csvField, datasetCsv, DATASET_CSV_HEADER } from '../../../src/render/datasetCsv';

const tokens: TokenView[] = [
  { id: 1, text: 'a', start: 0, end: 1, special: false, wordIndex: 0 },
  { id: 2, text: 'b', start: 2, end: 3, special: false, wordIndex: 1 },
];

describe('layer updates beside the norms', () => {
  test('update i of a token is ‖h_{i+1} − h_i‖ for that token', () => {
    // Two tokens, hidden size 2, three hidden states.
    const states = [
      [3, 4, 0, 1],
      [3, 4, 1, 1],
      [0, 0, 1, 3],
    ];
    const result: AttentionResult = {
      encoded: { text: 'a b', tokens, words: [] },
      attentions: [],
      hiddenStates: states.map((d, index) => ({ index, stack: 'encoder' as const, shape: [1, 2, 2] as [number, number, number], data: new Float32Array(d) })),
    };
    const grid = activationGrid(result)!;
    // [token][layer]: token a: 5, 5, 0; token b: 1, √2, √10.
    assert.deepEqual(Array.from(grid.norms), [5, 5, 0, 1, Math.fround(Math.sqrt(2)), Math.fround(Math.sqrt(10))]);
    // [token][layer − 1]: token a: 0 then 5; token b: 1 then 2.
    assert.deepEqual(Array.from(grid.updates), [0, 5, 1, 2]);
  });

  test('one hidden state has no updates', () => {
    const result: AttentionResult = {
      encoded: { text: 'a b', tokens, words: [] },
      attentions: [],
      hiddenStates: [{ index: 0, stack: 'encoder', shape: [1, 2, 1], data: new Float32Array([1, 2]) }],
    };
    assert.equal(activationGrid(result)!.updates.length, 0);
  });
});

describe('dataset columns for the pickers', () => {
  test('formats from file names', () => {
    assert.equal(datasetFormatOf('reviews.JSONL'), 'jsonl');
    assert.equal(datasetFormatOf('data/x.csv'), 'csv');
    assert.equal(datasetFormatOf('x.tsv'), 'tsv');
    assert.equal(datasetFormatOf('notes.txt'), 'txt');
    assert.equal(datasetFormatOf('model.onnx'), undefined);
  });

  test('csv header with quoted names; text and label guessed by name', async () => {
    const c = await datasetColumns('id,"review, full",sentiment\n1,"great, really",pos\n', 'csv');
    assert.deepEqual(c.columns, ['id', 'review, full', 'sentiment']);
    // No column is called "text": the first column is offered first; "sentiment" looks like the label.
    assert.equal(c.text, 'id');
    assert.equal(c.label, 'sentiment');
    const named = await datasetColumns('\uFEFFlabel\tText\nneg\tawful\n', 'tsv');
    assert.deepEqual(named.columns, ['label', 'Text']);
    assert.equal(named.text, 'Text');
    assert.equal(named.label, 'label');
  });

  test('a header cut off by the end of the sample keeps only complete records', async () => {
    const c = await datasetColumns('text,label\nsome text,pos\nmore te', 'csv');
    assert.deepEqual(c.columns, ['text', 'label']);
  });

  test('jsonl: the scalar fields of the first object', async () => {
    const c = await datasetColumns('\n{"sentence":"ok","label":1,"meta":{"a":1},"tags":["x"]}\n{"sentence":"no"}', 'jsonl');
    assert.deepEqual(c.columns, ['sentence', 'label']);
    assert.equal(c.text, 'sentence');
    assert.equal(c.label, 'label');
    assert.deepEqual((await datasetColumns('not json', 'jsonl')).columns, []);
    assert.deepEqual((await datasetColumns('one example per line', 'txt')).columns, []);
  });

  test('an example is found on its line only verbatim', () => {
    assert.deepEqual(exampleSpan('{"text":"so good","label":1}', 'so good'), { start: 9, end: 16 });
    assert.equal(exampleSpan('"say ""hi""",pos', 'say "hi"'), undefined);
    assert.equal(exampleSpan('anything', ''), undefined);
  });
});

describe('dataset CSV export', () => {
  test('fields: quoting, numbers, and formulas kept as text', () => {
    assert.equal(csvField('plain'), 'plain');
    assert.equal(csvField('a,b'), '"a,b"');
    assert.equal(csvField('say "hi"'), '"say ""hi"""');
    assert.equal(csvField('line\nbreak'), '"line\nbreak"');
    assert.equal(csvField('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`);
    assert.equal(csvField('-1 star'), "'-1 star");
    assert.equal(csvField(-0.5), '-0.5');
    assert.equal(csvField(Number.NaN), '');
    assert.equal(csvField(undefined), '');
  });

  test('one row per listed example and per influential word', () => {
    const result = {
      misclassified: [{ line: 3, text: 'bad, "really"', label: 'NEG', predicted: 'POS', probability: 0.6 }],
      leastConfident: [{ line: 2, text: 'meh', predicted: 'POS', probability: 0.51 }],
      words: { POS: [{ word: 'good', meanAbs: 1.5, mean: 1.2, count: 4 }] },
    } as unknown as DatasetResult;
    const lines = datasetCsv(result).split('\r\n');
    assert.equal(lines[0], DATASET_CSV_HEADER.join(','));
    assert.equal(lines[1], 'misclassified,3,"bad, ""really""",NEG,POS,0.6,,,,,');
    assert.equal(lines[2], 'least-confident,2,meh,,POS,0.51,,,,,');
    assert.equal(lines[3], 'word,,,,,,POS,good,1.5,1.2,4');
    assert.equal(lines[4], '');
    for (const l of lines.slice(1, 4)) assert.equal(l.split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/).length, DATASET_CSV_HEADER.length);
  });
});

describe('sidebar summaries and panel messages', () => {
  test('the most important head is the largest |change|', () => {
    const result = {
      layers: 2,
      heads: 2,
      targets: [],
      grid: [
        [0.1, -0.9],
        [0.5, 0.2],
      ],
      evaluations: { masks: 5, rows: 5, batches: 5 },
      method: '',
    } as HeadImportanceResult;
    assert.deepEqual(mostImportantHead(result), { layer: 0, head: 1, change: -0.9 });
    assert.match(headsSummary(result).detail, /most important L0 H1 \(-0\.900\)/);
    assert.equal(mostImportantHead({ ...result, grid: undefined }), undefined);
  });

  test('robustness summary counts flips', () => {
    const variant = (flipped: boolean) => ({ flipped }) as RobustnessResult['variants'][number];
    const r = { variants: [variant(true), variant(false), variant(true)], summary: { variants: 3, flipRate: 2 / 3, meanTotalVariation: 0.25, byKind: {} } } as unknown as RobustnessResult;
    const line = robustnessSummary(r);
    assert.equal(line.tab, 'robustness');
    assert.match(line.detail, /3 variants · 2 flips \(66\.7%\)/);
  });

  test('head pairs from a webview are checked', () => {
    assert.deepEqual(validHeadPairs([[0, 1], [2, 3]]), [[0, 1], [2, 3]]);
    assert.deepEqual(validHeadPairs([[0, -1], [1.5, 2], 'x', [1], [4, 5]]), [[4, 5]]);
    assert.deepEqual(validHeadPairs('0:1'), []);
    assert.equal(validHeadPairs(Array.from({ length: 10 }, () => [0, 0]), 3).length, 3);
  });
});
