// Hostile input and faults at the command line: what a model's config, the text or the user's
// keyboard can do to the terminal, the files around it and the processes it starts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fixtureModel } from '../../support/fixtureModels';
import { classifierWithLabels } from '../../support/hostileModels';
import { CliRun, describeRun, jsonOf, runCli } from '../cli/cliProcess';

/** What a terminal acts on instead of showing: C0 controls but line feed and tab, DEL, C1, bidi overrides. */
const TERMINAL_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u;

/** Labels that would retitle the window, clear the screen, recolour and reorder the line if printed raw. */
const HOSTILE_LABELS: [string, string] = ['\x1b]0;owned\x07NEG\x1b[2J\x1b[H', '\x9b31mPOS\u202egnp.exe'];

function controlsIn(text: string): string[] {
  return [...text].filter((c) => TERMINAL_CONTROL.test(c)).map((c) => `U+${c.codePointAt(0)!.toString(16).padStart(4, '0')}`);
}

function assertTerminalSafe(run: CliRun, what: string): void {
  assert.deepEqual(controlsIn(run.stdout), [], `${what}: standard output carries terminal controls\n${describeRun(run)}`);
  assert.deepEqual(controlsIn(run.stderr), [], `${what}: standard error carries terminal controls\n${describeRun(run)}`);
}

let hostile: string;
let bert: string;
let work: string;

before(() => {
  hostile = classifierWithLabels(HOSTILE_LABELS);
  bert = fixtureModel('bert-cls-op14');
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-lens-cli-faults-'));
});
after(() => fs.rmSync(work, { recursive: true, force: true }));

describe('terminal escape sequences', () => {
  test('labels from id2label with escape sequences print as replacement characters in explain, predict and inspect', async () => {
    for (const args of [
      ['explain', '--model', hostile, '--method', 'occlusion', 'a fine movie'],
      ['predict', '--model', hostile, 'a fine movie'],
      ['inspect', '--model', hostile],
    ]) {
      const run = await runCli(args);
      assert.equal(run.code, 0, describeRun(run));
      assertTerminalSafe(run, args[0]);
      // The rest of the label is still there to read.
      assert.match(run.stdout, /NEG/, `${args[0]} shows the label`);
    }
    const explained = await runCli(['explain', '--model', hostile, '--method', 'occlusion', 'a fine movie']);
    assert.match(explained.stdout, /^Explains: .*(NEG|POS)/m);
  });

  test('escape sequences in the input text print as replacement characters, the words around them intact', async () => {
    const text = 'a fine\x1b[2J\x1b]0;owned\x07 movie\r\x9b1;1H overwritten';
    const run = await runCli(['explain', '--model', bert, '--method', 'occlusion', text]);
    assert.equal(run.code, 0, describeRun(run));
    assertTerminalSafe(run, 'explain');
    assert.match(run.stdout, /a fine.*movie.*overwritten/);
  });

  test('with colour on, the only escape sequences are the colours onnx-lens writes itself', async () => {
    const run = await runCli(['explain', '--model', hostile, '--method', 'occlusion', 'a fine\x1b]0;owned\x07 movie'], { env: { FORCE_COLOR: '1' } });
    assert.equal(run.code, 0, describeRun(run));
    const ours = /\x1b\[(?:0|1|2|3[1-6]|48;5;\d+;38;5;\d+)m/g;
    assert.match(run.stdout, ours, 'the output is coloured');
    assert.deepEqual(controlsIn(run.stdout.replace(ours, '')), [], describeRun(run));
  });

  test('--json writes C1 controls and bidi overrides as \\u escapes and parses back to the same labels and text', async () => {
    const text = 'a fine\x9b2J movie\u202e';
    const run = await runCli(['explain', '--model', hostile, '--method', 'occlusion', '--json', text]);
    assert.equal(run.code, 0, describeRun(run));
    assertTerminalSafe(run, 'explain --json');
    const r = jsonOf(run);
    assert.equal(r.text, text);
    assert.ok(HOSTILE_LABELS.includes(r.target.label), r.target.label);
  });

  test('an error message that quotes a hostile target name carries no escape sequence', async () => {
    const run = await runCli(['explain', '--model', bert, '--target', '\x1b]0;owned\x07X\x1b[2J', 'a fine movie']);
    assert.equal(run.code, 1, describeRun(run));
    assertTerminalSafe(run, 'error');
    assert.match(run.stderr, /X/);
  });
});

describe('files the command line writes', () => {
  const sha = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

  test('--html never overwrites a file of the model, by its path, a path through .. or a symbolic link, even with --force', async () => {
    const model = classifierWithLabels(['NEGATIVE', 'POSITIVE'], 'model-to-keep');
    const graph = path.join(model, 'onnx', 'model.onnx');
    const link = path.join(work, 'innocent-looking.html');
    fs.symlinkSync(graph, link);
    const before = new Map([graph, path.join(model, 'tokenizer.json'), path.join(model, 'config.json')].map((f) => [f, sha(f)]));
    for (const target of [graph, path.join(model, 'onnx', '..', 'tokenizer.json'), path.join(model, 'config.json'), link]) {
      for (const force of [[], ['--force']]) {
        const run = await runCli(['explain', '--model', model, '--method', 'occlusion', '--html', target, ...force, 'a fine movie']);
        assert.equal(run.code, 1, describeRun(run));
        assert.match(run.stderr, /never overwrites/);
        assert.equal(run.stdout, '', 'refused before any work');
      }
    }
    for (const [f, h] of before) assert.equal(sha(f), h, `${f} is unchanged`);
    // The model still runs.
    assert.equal((await runCli(['predict', '--model', model, 'a fine movie'])).code, 0);
  });

  test('--html over an existing file asks for --force; with it the file is replaced by the report', async () => {
    const file = path.join(work, 'old-report.html');
    fs.writeFileSync(file, 'an earlier report');
    const refused = await runCli(['explain', '--model', bert, '--method', 'occlusion', '--html', file, 'a fine movie']);
    assert.equal(refused.code, 1, describeRun(refused));
    assert.match(refused.stderr, /already exists; pass --force/);
    assert.equal(fs.readFileSync(file, 'utf8'), 'an earlier report');
    const forced = await runCli(['explain', '--model', bert, '--method', 'occlusion', '--html', file, '--force', 'a fine movie']);
    assert.equal(forced.code, 0, describeRun(forced));
    assert.match(fs.readFileSync(file, 'utf8'), /^<!DOCTYPE html>/i);
  });

  test('dataset --csv never overwrites the dataset it reads', async () => {
    const data = path.join(work, 'reviews.csv');
    fs.writeFileSync(data, 'text,label\na fine movie,POSITIVE\na dull movie,NEGATIVE\n');
    const before = fs.readFileSync(data, 'utf8');
    const run = await runCli(['dataset', '--model', bert, data, '--csv', data, '--force']);
    assert.equal(run.code, 1, describeRun(run));
    assert.match(run.stderr, /never overwrites/);
    assert.equal(fs.readFileSync(data, 'utf8'), before);
  });
});
