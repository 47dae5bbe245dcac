import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { datasetRun, exportDatasetCsv, matchLabel } from '../../../src/engine/inspect/datasetRun';
import { delimitedRecords, readDataset } from '../../../src/engine/inspect/datasetReader';
import { predictPrepared } from '../../../src/engine/run/predict';
import { DEMO_MODEL, readReference, SENTIMENT_DATA } from '../../support/fixtureModels';
import { QUIET } from '../../support/engineService';
import { openFixture } from './inspectSupport';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-lens-dataset-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

async function* chunked(text: string, size: number): AsyncGenerator<string> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}

async function records(text: string, size: number, delimiter = ',', quoting = true) {
  const out: { line: number; fields: string[] }[] = [];
  for await (const r of delimitedRecords(chunked(text, size), delimiter, quoting)) out.push(r);
  return out;
}

function csvQuote(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Labelled sentences (UCI sentiment, Yelp part): text and 0/1 label. */
function yelp(count: number): { text: string; label: string }[] {
  const file = path.join(SENTIMENT_DATA, 'yelp_labelled.txt');
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.includes('\t')).slice(0, count).map((l) => {
    const [text, label] = l.split('\t');
    return { text: text.trim(), label: label.trim() };
  });
}

describe('reading dataset files', () => {
  test('CSV per RFC 4180: quoted commas, line breaks and doubled quotes, CRLF, any chunking', async () => {
    const text = 'text,label\r\n"a, b",1\r\n"line one\nline two",0\r\n"she said ""hi""",1\r\nplain,0\r\n"",1\r\nlast,0';
    for (const size of [1, 2, 3, 7, 1000]) {
      const r = await records(text, size);
      assert.deepEqual(r.map((x) => x.fields), [
        ['text', 'label'], ['a, b', '1'], ['line one\nline two', '0'], ['she said "hi"', '1'], ['plain', '0'], ['', '1'], ['last', '0'],
      ], `chunk size ${size}`);
      assert.deepEqual(r.map((x) => x.line), [1, 2, 3, 5, 6, 7, 8]);
    }
  });

  test('TSV has no quoting: quotes are text', async () => {
    const r = await records('"Great" food\t1\nok\t0\n', 4, '\t', false);
    assert.deepEqual(r.map((x) => x.fields), [['"Great" food', '1'], ['ok', '0']]);
  });

  test('an unclosed quote is reported with its line', async () => {
    await assert.rejects(() => records('a,b\n"open,1\n', 5), /line 2 is never closed/);
  });

  test('JSONL, CSV with a header and TXT give the same texts with their line numbers', async () => {
    const rows = [{ text: 'good, "really" good', label: 'POSITIVE' }, { text: 'bad\nvery bad', label: 'negative' }];
    fs.writeFileSync(path.join(tmp, 'a.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n\n{broken\n');
    fs.writeFileSync(path.join(tmp, 'a.csv'), 'label,text\n' + rows.map((r) => `${r.label},${csvQuote(r.text)}`).join('\n') + '\n');
    fs.writeFileSync(path.join(tmp, 'a.txt'), 'first line\n\nthird line\n');
    const read = async (f: string, o = {}) => {
      const out = [];
      for await (const r of readDataset(path.join(tmp, f), o)) out.push(r);
      return out;
    };
    assert.deepEqual(await read('a.jsonl'), [{ line: 1, text: rows[0].text, label: 'POSITIVE' }, { line: 2, text: rows[1].text, label: 'negative' }, { line: 4, skip: 'not valid JSON' }]);
    assert.deepEqual(await read('a.csv', { textColumn: 'text', labelColumn: 'label' }), [{ line: 2, text: rows[0].text, label: 'POSITIVE' }, { line: 3, text: rows[1].text, label: 'negative' }]);
    assert.deepEqual(await read('a.txt'), [{ line: 1, text: 'first line' }, { line: 3, text: 'third line' }]);
    await assert.rejects(() => read('a.csv', { textColumn: 'body' }), /no text column "body"; its columns are "label", "text"/);
  });

  test('labels match class names case-insensitively, or class indices', () => {
    assert.equal(matchLabel('positive', ['NEGATIVE', 'POSITIVE']), 1);
    assert.equal(matchLabel(' 0 ', ['NEGATIVE', 'POSITIVE']), 0);
    assert.equal(matchLabel('2', ['NEGATIVE', 'POSITIVE']), undefined);
    assert.equal(matchLabel('neutral', ['NEGATIVE', 'POSITIVE']), undefined);
  });
});

describe('dataset runs', () => {
  test('accuracy and confusion equal an independent count, one example at a time (CSV, JSONL, TSV)', async () => {
    const model = await openFixture('bert-cls-op14');
    const data = yelp(120);
    let correct = 0;
    const confusion = [[0, 0], [0, 0]];
    for (const d of data) {
      const p = await predictPrepared(model, await model.prepare(d.text), 2);
      const predicted = p.candidates[0].id;
      if (predicted === Number(d.label)) correct++;
      confusion[Number(d.label)][predicted]++;
    }
    fs.writeFileSync(path.join(tmp, 'yelp.csv'), 'text,label\r\n' + data.map((d) => `${csvQuote(d.text)},${d.label}`).join('\r\n') + '\r\n');
    fs.writeFileSync(path.join(tmp, 'yelp.jsonl'), data.map((d) => JSON.stringify({ sentence: d.text, gold: d.label === '1' ? 'positive' : 'negative' })).join('\n'));
    fs.writeFileSync(path.join(tmp, 'yelp.tsv'), data.map((d) => `${d.text}\t${d.label}`).join('\n'));
    const runs = [
      await datasetRun(model, { path: path.join(tmp, 'yelp.csv'), textColumn: 'text', labelColumn: 'label', batchSize: 16, method: 'none' }, QUIET),
      await datasetRun(model, { path: path.join(tmp, 'yelp.jsonl'), textColumn: 'sentence', labelColumn: 'gold', method: 'none' }, QUIET),
      await datasetRun(model, { path: path.join(tmp, 'yelp.tsv'), textColumn: 0, labelColumn: 1, method: 'none', batchSize: 7 }, QUIET),
    ];
    for (const r of runs) {
      assert.equal(r.examples, data.length);
      assert.equal(r.labelled, data.length);
      assert.equal(r.correct, correct);
      assert.equal(r.accuracy, correct / data.length);
      assert.deepEqual(r.confusion, confusion);
      assert.equal(r.misclassifiedTotal, data.length - correct);
    }
    // Line numbers lead back to the example (header is line 1 of the CSV).
    const csvLines = fs.readFileSync(path.join(tmp, 'yelp.csv'), 'utf8').split('\r\n');
    for (const e of runs[0].misclassified) assert.ok(csvLines[e.line - 1].includes(e.text.slice(0, 10)), `line ${e.line}`);
    // Least confident: sorted, and no example outside the list is less confident.
    const probs = runs[0].leastConfident.map((e) => e.probability);
    assert.deepEqual(probs, [...probs].sort((a, b) => a - b));
  });

  test('influential words of an additive model are its word weights (occlusion, in batches)', async () => {
    const model = await openFixture('additive-bow');
    const weights = (readReference('additive-bow') as unknown as { weights: number[] }).weights;
    const data = yelp(60);
    fs.writeFileSync(path.join(tmp, 'bow.txt'), data.map((d) => d.text).join('\n'));
    const r = await datasetRun(model, { path: path.join(tmp, 'bow.txt'), maxExplained: 40, batchSize: 8 }, QUIET);
    assert.equal(r.explained, 40);
    const positive = r.words!.POSITIVE;
    assert.ok(positive.length > 5);
    for (const w of positive) {
      const ids = model.tokenizer.encode(w.word, { addSpecialTokens: false }).ids;
      const want = ids.reduce((a, id) => a + weights[id], 0);
      assert.ok(Math.abs(w.meanAbs - Math.abs(want)) < 1e-4, `${w.word}: ${w.meanAbs} vs ${want}`);
    }
    // The NEGATIVE logit is 0 whatever the words: nothing influences it.
    for (const w of r.words!.NEGATIVE ?? []) assert.ok(w.meanAbs < 1e-6);
  });

  test('CSV export lists the same examples and parses back', async () => {
    const model = await openFixture('bert-cls-op14');
    const r = await datasetRun(model, { path: path.join(tmp, 'yelp.csv'), textColumn: 'text', labelColumn: 'label', method: 'occlusion', maxExplained: 10 }, QUIET);
    const parsed = await records(exportDatasetCsv(r), 64);
    assert.equal(parsed.length, 1 + r.misclassified.length + r.leastConfident.length);
    parsed.slice(1, 1 + r.misclassified.length).forEach((row, i) => {
      assert.equal(Number(row.fields[1]), r.misclassified[i].line);
      assert.equal(row.fields[2], r.misclassified[i].text);
    });
    const words = await records(exportDatasetCsv(r, 'words'), 64);
    assert.equal(words.length, 1 + Object.values(r.words!).reduce((a, w) => a + w.length, 0));
    const confusion = await records(exportDatasetCsv(r, 'confusion'), 64);
    assert.deepEqual(confusion.slice(1).map((x) => x.fields.slice(1).map(Number)), r.confusion);
  });

  test('cancel stops the run between batches', async () => {
    const model = await openFixture('bert-cls-op14');
    let calls = 0;
    const ctx = { isCancelled: () => ++calls > 3, progress: () => undefined };
    await assert.rejects(() => datasetRun(model, { path: path.join(tmp, 'yelp.tsv'), batchSize: 4, method: 'none' }, ctx), /cancelled/);
  });

  test('a 10,000-line file runs with bounded memory', async () => {
    const model = await openFixture('bert-cls-op14');
    const sentences = yelp(1000).map((d) => d.text);
    const file = path.join(tmp, 'big.txt');
    const out = fs.createWriteStream(file);
    for (let i = 0; i < 10_000; i++) out.write(`${sentences[i % sentences.length]} (${i})\n`);
    await new Promise((resolve) => out.end(resolve));
    global.gc?.();
    const before = process.memoryUsage();
    let peakRss = before.rss;
    let peakHeap = before.heapUsed;
    const sample = () => {
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss);
      peakHeap = Math.max(peakHeap, m.heapUsed);
    };
    const timer = setInterval(sample, 20);
    const ctx = { isCancelled: () => false, progress: sample };
    const r = await datasetRun(model, { path: file, maxExplained: 200 }, ctx);
    clearInterval(timer);
    sample();
    const rssGrowth = (peakRss - before.rss) / 2 ** 20;
    const heapGrowth = (peakHeap - before.heapUsed) / 2 ** 20;
    console.log(`10,000 lines: ${r.examples} examples in ${r.seconds.toFixed(2)} s (${r.examplesPerSecond.toFixed(0)}/s, 200 explained by occlusion); peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB (+${rssGrowth.toFixed(0)} MiB), peak heap +${heapGrowth.toFixed(0)} MiB`);
    assert.equal(r.examples, 10_000);
    assert.ok(heapGrowth < 128, `heap grew by ${heapGrowth} MiB`);
    assert.ok(rssGrowth < 256, `RSS grew by ${rssGrowth} MiB`);
  });

  test('the demo model on its held-out sentences (when the demo model is present)', async (t) => {
    const heldout = path.join(DEMO_MODEL, 'heldout.tsv');
    if (!fs.existsSync(heldout)) return t.skip('models/demo-sentiment is not built yet');
    const { LoadedModel } = await import('../../../src/engine/model/loadedModel');
    for (const variant of ['fp32', 'quantized']) {
      const model = await LoadedModel.open(DEMO_MODEL, variant, {});
      const plain = await datasetRun(model, { path: heldout, method: 'none' }, QUIET);
      const explained = await datasetRun(model, { path: heldout, maxExplained: 200 }, QUIET);
      console.log(`demo ${variant}: ${plain.examples} examples, accuracy ${plain.accuracy?.toFixed(4)}, ${plain.examplesPerSecond.toFixed(0)}/s predicting, ${explained.examplesPerSecond.toFixed(0)}/s with 200 occlusion explanations`);
      assert.equal(plain.examples, explained.examples);
      model.dispose();
    }
  });
});
