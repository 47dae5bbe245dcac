import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from '../../support/fixtureModels';
import { describeRun, runCli } from './cliProcess';

const COMMANDS = ['inspect', 'predict', 'explain', 'attention', 'compare', 'download', 'models'];

describe('onnx-lens: help, version and usage errors', () => {
  test('--version prints the package version', async () => {
    const run = await runCli(['--version']);
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.equal(run.code, 0, describeRun(run));
    assert.equal(run.stdout.trim(), pkg.version);
  });

  test('--help lists every command and the exit codes', async () => {
    const run = await runCli(['--help']);
    assert.equal(run.code, 0, describeRun(run));
    for (const c of COMMANDS) assert.match(run.stdout, new RegExp(`^  ${c} `, 'm'), `help lists ${c}`);
    assert.match(run.stdout, /130 interrupted/);
  });

  test('every command has its own --help with its flags', async () => {
    const flags: Record<string, string[]> = {
      inspect: ['--model', '--variant', '--json'],
      predict: ['--model', '--file', '--top'],
      explain: ['--method', '--budget', '--seed', '--target', '--contrast', '--level', '--removal', '--html', '--file'],
      attention: ['--layer', '--head', '--ids', '--no-hidden'],
      compare: ['--model', '--method', '--budget', '--seed'],
      download: ['--variant', '--endpoint', '--cache'],
      models: ['--remove', '--cache'],
    };
    for (const c of COMMANDS) {
      const run = await runCli([c, '--help']);
      assert.equal(run.code, 0, describeRun(run));
      assert.match(run.stdout, new RegExp(`^onnx-lens ${c} — `));
      for (const f of flags[c]) assert.ok(run.stdout.includes(f), `${c} --help mentions ${f}`);
      const viaHelp = await runCli(['help', c]);
      assert.equal(viaHelp.stdout, run.stdout);
    }
  });

  test('no command is a usage error: help on standard error, exit 1', async () => {
    const run = await runCli([]);
    assert.equal(run.code, 1);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /Commands:/);
  });

  test('an unknown command or flag exits 1 with a message and a hint', async () => {
    const unknown = await runCli(['explian', 'text']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /Unknown command "explian"/);

    const flag = await runCli(['explain', '--methd', 'lime', 'some text']);
    assert.equal(flag.code, 1);
    assert.match(flag.stderr, /Unknown option --methd\. Did you mean --method\?/);
    assert.match(flag.stderr, /onnx-lens explain --help/);
    assert.equal(flag.stdout, '');
  });

  test('bad flag values exit 1 before any model is opened', async () => {
    const cases: [string[], RegExp][] = [
      [['explain', '--method', 'magic', 'text'], /--method must be one of/],
      [['explain', '--budget', 'lots', 'text'], /--budget must be a whole number/],
      [['explain', '--level', 'sentence', 'text'], /--level must be one of word, token/],
      [['attention', '--head', '-1', 'text'], /--head must be a whole number ≥ 0/],
      [['inspect', '--variant', 'fp8'], /--variant must be one of fp32, quantized/],
      [['explain', '--seed'], /--seed needs a value/],
      [['compare', '--model', 'a', 'text'], /exactly two models/],
      [['download'], /Missing REPO_ID/],
      [['download', 'not a repo'], /not a model repository id/],
    ];
    for (const [args, message] of cases) {
      const run = await runCli(args);
      assert.equal(run.code, 1, `${args.join(' ')}: ${describeRun(run)}`);
      assert.match(run.stderr, message, args.join(' '));
    }
  });
});
