import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fixtureModel } from '../../support/fixtureModels';
import { tempDir } from '../../support/tempFolders';
import { describeRun, jsonOf, runCli } from './cliProcess';

const TEXT = 'this movie was great fun';
const WORDS = ['this', 'movie', 'was', 'great', 'fun'];
let bert: string;
const work = tempDir('cli');

before(() => {
  bert = fixtureModel('bert-cls-op14');
});

/** Every http(s) resource the page would load: src/href attributes, CSS url() and @import. */
function remoteReferences(html: string): string[] {
  const found: string[] = [];
  for (const m of html.matchAll(/\b(?:src|href|action|poster|data)\s*=\s*["']?\s*((?:https?:)?\/\/[^"'\s>]+)/gi)) found.push(m[1]);
  for (const m of html.matchAll(/url\(\s*["']?\s*((?:https?:)?\/\/[^)"']+)/gi)) found.push(m[1]);
  for (const m of html.matchAll(/@import\s+["']?((?:https?:)?\/\/[^"';]+)/gi)) found.push(m[1]);
  return found;
}

describe('onnx-lens explain', () => {
  test('prints the predicted label, the target and every word with a value', async () => {
    const run = await runCli(['explain', '--model', bert, '--method', 'exact-shapley', TEXT]);
    assert.equal(run.code, 0, describeRun(run));
    const predict = jsonOf(await runCli(['predict', '--model', bert, '--json', TEXT]));
    const top = predict.candidates[0].label as string;
    assert.match(run.stdout, new RegExp(`^Prediction: ${top} `, 'm'));
    assert.match(run.stdout, new RegExp(`^Explains: ${top} `, 'm'));
    for (const w of WORDS) assert.match(run.stdout, new RegExp(`^  ${w} +[+-]\\d+\\.\\d{3} `, 'm'), `row for "${w}"`);
    assert.match(run.stdout, /Faithfulness: comprehensiveness -?\d/);
    assert.match(run.stdout, /Convergence: exact/);
    // Piped output is plain text.
    assert.doesNotMatch(run.stdout, /\x1b\[/);
  });

  test('--json: exact Shapley values add up to output − base value, per word with offsets', async () => {
    const run = await runCli(['explain', '--model', bert, '--method', 'exact-shapley', '--json', TEXT]);
    assert.equal(run.code, 0, describeRun(run));
    const r = jsonOf(run);
    assert.equal(r.kind, 'explanation');
    assert.deepEqual(r.features.map((f: { text: string }) => f.text), WORDS);
    for (const f of r.features) assert.equal(TEXT.slice(f.start, f.end), f.text);
    const sum = r.features.reduce((s: number, f: { value: number }) => s + f.value, 0);
    assert.ok(Math.abs(sum - (r.outputValue - r.baseValue)) < 1e-4, `sum ${sum} vs ${r.outputValue - r.baseValue}`);
    assert.equal(r.provenance.method, 'exact-shapley');
    assert.match(r.provenance.modelSha256, /^[0-9a-f]{64}$/);
    assert.equal(typeof r.faithfulness.comprehensiveness, 'number');
    assert.ok(Array.isArray(r.faithfulness.deletion.values));
    assert.equal(r.target.label, r.fullOutput.candidates[0].label);
    // The text output shows the same numbers.
    const text = await runCli(['explain', '--model', bert, '--method', 'exact-shapley', TEXT]);
    for (const f of r.features) {
      const shown = (f.value >= 0 ? '+' : '-') + Math.abs(f.value).toFixed(3);
      assert.ok(text.stdout.includes(`${f.text}`) && text.stdout.includes(shown), `${f.text} ${shown}`);
    }
  });

  test('--target, --contrast, --seed and --level reach the engine', async () => {
    const neg = jsonOf(await runCli(['explain', '--model', bert, '--json', '--method', 'kernel-shap', '--budget', '64', '--seed', '7', '--target', 'NEGATIVE', '--contrast', 'POSITIVE', TEXT]));
    assert.equal(neg.target.label, 'NEGATIVE');
    assert.equal(neg.target.contrastLabel, 'POSITIVE');
    assert.equal(neg.provenance.seed, 7);
    assert.equal(neg.provenance.method, 'kernel-shap');
    const again = jsonOf(await runCli(['explain', '--model', bert, '--json', '--method', 'kernel-shap', '--budget', '64', '--seed', '7', '--target', 'NEGATIVE', '--contrast', 'POSITIVE', TEXT]));
    assert.deepEqual(again.features.map((f: { value: number }) => f.value), neg.features.map((f: { value: number }) => f.value), 'same seed, same numbers');
    const tokens = jsonOf(await runCli(['explain', '--model', bert, '--json', '--level', 'token', '--method', 'occlusion', 'moviegoers']));
    assert.equal(tokens.provenance.level, 'token');
    assert.ok(tokens.features.length > 1, 'a word split into several tokens gives several features');
  });

  test('a target the model does not have exits 1 and names the classes', async () => {
    const run = await runCli(['explain', '--model', bert, '--target', 'MAYBE', TEXT]);
    assert.equal(run.code, 1, describeRun(run));
    assert.match(run.stderr, /MAYBE/);
    assert.match(run.stderr, /NEGATIVE/);
    assert.equal(run.stdout, '');
  });

  test('text from --file and from standard input gives the same result as the argument', async () => {
    const file = path.join(work, 'input.txt');
    fs.writeFileSync(file, `${TEXT}\n`);
    const args = ['explain', '--model', bert, '--method', 'occlusion', '--json'];
    const fromArg = jsonOf(await runCli([...args, TEXT]));
    const fromFile = jsonOf(await runCli([...args, '--file', file]));
    const fromStdin = jsonOf(await runCli(args, { input: `${TEXT}\n` }));
    for (const r of [fromFile, fromStdin]) {
      assert.equal(r.text, TEXT);
      assert.deepEqual(r.features.map((f: { value: number }) => f.value), fromArg.features.map((f: { value: number }) => f.value));
    }
  });

  test('missing, empty or unreadable text exits 1', async () => {
    const none = await runCli(['explain', '--model', bert]);
    assert.equal(none.code, 1, describeRun(none));
    assert.match(none.stderr, /empty|Missing TEXT/);
    const blank = await runCli(['predict', '--model', bert, '   ']);
    assert.equal(blank.code, 1);
    assert.match(blank.stderr, /empty/);
    const nofile = await runCli(['predict', '--model', bert, '--file', path.join(work, 'absent.txt')]);
    assert.equal(nofile.code, 1);
    assert.match(nofile.stderr, /Cannot read --file/);
  });

  test('--html writes a self-contained report with every word and the same numbers', async () => {
    const file = path.join(work, 'report.html');
    const run = await runCli(['explain', '--model', bert, '--method', 'exact-shapley', '--json', '--html', file, TEXT]);
    assert.equal(run.code, 0, describeRun(run));
    const html = fs.readFileSync(file, 'utf8');
    assert.match(html, /^<!DOCTYPE html>/i);
    assert.match(html, /<\/html>\s*$/);
    assert.deepEqual(remoteReferences(html), []);
    assert.doesNotMatch(html, /<script[^>]*\bsrc\s*=/i);
    for (const w of WORDS) assert.ok(html.includes(w), `report contains "${w}"`);
    const embedded = /<script type="application\/json" id="onnx-lens-result">([\s\S]*?)<\/script>/.exec(html);
    assert.ok(embedded, 'report embeds the result');
    const data = JSON.parse(embedded[1]);
    const result = jsonOf(run);
    assert.deepEqual(data.result.features.map((f: { value: number }) => f.value), result.features.map((f: { value: number }) => f.value));
  });

  test('colour: FORCE_COLOR colours words and bars, NO_COLOR turns it off', async () => {
    const coloured = await runCli(['explain', '--model', bert, '--method', 'occlusion', TEXT], { env: { FORCE_COLOR: '1' } });
    assert.equal(coloured.code, 0, describeRun(coloured));
    assert.match(coloured.stdout, /\x1b\[48;5;\d+;38;5;\d+m(this|movie|was|great|fun)\x1b\[0m/);
    const plain = await runCli(['explain', '--model', bert, '--method', 'occlusion', TEXT], { env: { FORCE_COLOR: '1', NO_COLOR: '1' } });
    assert.doesNotMatch(plain.stdout, /\x1b\[/);
    const flag = await runCli(['explain', '--model', bert, '--method', 'occlusion', '--no-color', TEXT], { env: { FORCE_COLOR: '1' } });
    assert.doesNotMatch(flag.stdout, /\x1b\[/);
  });

  test('progress goes to standard error as plain lines when it is not a terminal; --quiet silences it', async () => {
    const run = await runCli(['explain', '--model', bert, '--method', 'kernel-shap', '--budget', '256', TEXT]);
    assert.equal(run.code, 0, describeRun(run));
    assert.match(run.stderr, /Explaining/);
    assert.doesNotMatch(run.stderr, /\r/);
    assert.doesNotMatch(run.stdout, /Explaining/);
    const quiet = await runCli(['explain', '--model', bert, '--method', 'kernel-shap', '--budget', '256', '-q', TEXT]);
    assert.equal(quiet.stderr, '');
  });

  test('Ctrl-C stops a long explanation and exits 130', async () => {
    const long = Array.from({ length: 8 }, () => 'the actors were wonderful but the plot was thin and slow').join(' ');
    const started = Date.now();
    let sentAt = 0;
    const run = await runCli(['explain', '--model', bert, '--method', 'kernel-shap', '--budget', '100000', long], {
      onSpawn: (child) => {
        // Interrupt once the engine reports progress, i.e. the explanation is running.
        child.stderr!.on('data', (d: Buffer) => {
          if (!sentAt && /evaluations/.test(d.toString())) {
            sentAt = Date.now();
            child.kill('SIGINT');
          }
        });
      },
    });
    assert.ok(sentAt > 0, `the run reported progress before finishing: ${describeRun(run)}`);
    assert.equal(run.code, 130, describeRun(run));
    assert.equal(run.stdout, '');
    assert.ok(Date.now() - sentAt < 5000, `stopped ${Date.now() - sentAt} ms after Ctrl-C (run took ${Date.now() - started} ms)`);
  });
});

describe('onnx-lens explain: words and punctuation', () => {
  test('contractions are one word; --no-punctuation leaves the marks out and says so', async () => {
    const text = "it isn't good, really!";
    const words = jsonOf(await runCli(['explain', '--model', bert, '--method', 'occlusion', '--json', text]));
    assert.deepEqual(words.features.map((f: { text: string }) => f.text), ['it', "isn't", 'good', ',', 'really', '!']);
    const run = await runCli(['explain', '--model', bert, '--method', 'occlusion', '--json', '--no-punctuation', text]);
    assert.equal(run.code, 0, describeRun(run));
    const r = jsonOf(run);
    assert.deepEqual(r.features.map((f: { text: string }) => f.text), ['it', "isn't", 'good', 'really']);
    assert.equal(r.provenance.punctuation, 'omit');
    const plain = await runCli(['explain', '--model', bert, '--method', 'occlusion', '--no-punctuation', text]);
    assert.match(plain.stdout, /per word, punctuation left out/);
  });
});

describe('onnx-lens explain --lines and --jsonl', () => {
  const texts = ['this movie was great fun', 'not good at all', 'a thin plot but superb acting'];

  test('--lines --json: one JSON line per text, each the same as explaining that text alone, from one engine', async () => {
    const file = path.join(work, 'texts.txt');
    fs.writeFileSync(file, `${texts[0]}\n\n${texts[1]}\r\n${texts[2]}\n`);
    const run = await runCli(['explain', '--model', bert, '--method', 'kernel-shap', '--budget', '64', '--seed', '3', '--lines', '--json', '--verbose', '--file', file]);
    assert.equal(run.code, 0, describeRun(run));
    const records = run.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(records.map((r) => r.line), [1, 3, 4], 'line numbers of the file, empty lines skipped');
    assert.deepEqual(records.map((r) => r.text), texts);
    for (const [i, r] of records.entries()) {
      const alone = jsonOf(await runCli(['explain', '--model', bert, '--method', 'kernel-shap', '--budget', '64', '--seed', '3', '--json', texts[i]]));
      assert.deepEqual(r.features.map((f: { value: number }) => f.value), alone.features.map((f: { value: number }) => f.value), texts[i]);
    }
    assert.equal(run.stderr.match(/engine: opened /g)?.length, 1, `the model is opened once:\n${run.stderr}`);
  });

  test('--jsonl: ids and per-line targets; a bad line is reported with its number, the others still explained, exit 1', async () => {
    const input = [
      JSON.stringify({ id: 'a', text: texts[0], target: 'NEGATIVE' }),
      '{"text": ',
      JSON.stringify({ id: 7, text: texts[1] }),
      JSON.stringify({ text: texts[2], target: 'MAYBE' }),
    ].join('\n');
    const run = await runCli(['explain', '--model', bert, '--method', 'occlusion', '--jsonl'], { input });
    assert.equal(run.code, 1, describeRun(run));
    const records = run.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    assert.equal(records.length, 4);
    assert.equal(records[0].id, 'a');
    assert.equal(records[0].target.label, 'NEGATIVE');
    assert.match(records[1].error, /not JSON/);
    assert.equal(records[1].line, 2);
    assert.equal(records[2].id, 7);
    assert.equal(records[2].kind, 'explanation');
    assert.match(records[3].error, /class "MAYBE" does not exist/);
    assert.match(run.stderr, /2 of 4 lines could not be explained/);
  });

  test('--lines refuses a TEXT argument and --html, saying where the texts come from', async () => {
    const withText = await runCli(['explain', '--model', bert, '--lines', 'some text']);
    assert.equal(withText.code, 1);
    assert.match(withText.stderr, /texts come from --file F or standard input/);
    const withHtml = await runCli(['explain', '--model', bert, '--lines', '--html', path.join(work, 'r.html')], { input: 'a\nb\n' });
    assert.equal(withHtml.code, 1);
    assert.match(withHtml.stderr, /--html writes one report/);
  });
});
