// Hostile input and faults at the command line: what a model's config, the text or the user's
// keyboard can do to the terminal, the files around it and the processes it starts.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fixtureModel, generationFixture, REPO_ROOT } from '../../support/fixtureModels';
import { classifierWithLabels } from '../../support/hostileModels';
import { tempDir } from '../../support/tempFolders';
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
const work = tempDir('cli-faults');

before(() => {
  hostile = classifierWithLabels(HOSTILE_LABELS);
  bert = fixtureModel('bert-cls-op14');
});

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

  test('generate: escape sequences in the prompt print as replacement characters in the echoed prompt, the continuation and the matrix', async () => {
    const prompt = 'i loved\x1b[2J\x1b]0;owned\x07 this\r\x9b1;1H place';
    const run = await runCli(['generate', '--model', generationFixture('llama-gen'), '--max-new-tokens', '3', '--explain', prompt]);
    assert.equal(run.code, 0, describeRun(run));
    assertTerminalSafe(run, 'generate --explain');
    assert.match(run.stdout, /i loved.*this.*place/);
  });

  test('generate: explanation options without --explain are bad input, not silently dropped', async () => {
    const run = await runCli(['generate', '--model', generationFixture('llama-gen'), '--max-new-tokens', '2', '--method', 'kernel-shap', '--budget', '64', 'i loved this place']);
    assert.equal(run.code, 1, describeRun(run));
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /--method, --budget shape the explanation: add --explain \(or --html\)/);
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

describe('requests the method cannot serve', () => {
  test('exact Shapley values over 16 words: bad input (exit 1) naming the limit and the methods that estimate them', async () => {
    const text = 'one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen';
    const run = await runCli(['explain', '--model', bert, '--method', 'exact-shapley', '-q', text]);
    assert.equal(run.code, 1, describeRun(run));
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /Exact Shapley values need all 2\^16 coalitions of the text's 16 words; they are limited to 14 words\. Use kernel-shap or partition-shap\./);
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

  test('--html naming a folder says it is a folder, even with --force', async () => {
    for (const force of [[], ['--force']]) {
      const run = await runCli(['explain', '--model', bert, '--method', 'occlusion', '--html', work, ...force, 'a fine movie']);
      assert.equal(run.code, 1, describeRun(run));
      assert.match(run.stderr, /is a folder; give the name of a file/);
    }
  });

  test('generate --html never overwrites a file of the model, even with --force', async () => {
    const model = path.join(work, 'decoder-to-keep');
    fs.cpSync(fixtureModel('gpt2-op14'), model, { recursive: true });
    const kept = [path.join(model, 'config.json'), path.join(model, 'tokenizer.json'), path.join(model, 'onnx', 'model.onnx')];
    const before = new Map(kept.map((f) => [f, sha(f)]));
    for (const target of kept) {
      for (const force of [[], ['--force']]) {
        const run = await runCli(['generate', '--model', model, '--max-new-tokens', '2', '--html', target, ...force, 'the story']);
        assert.equal(run.code, 1, describeRun(run));
        assert.match(run.stderr, /never overwrites/);
        assert.equal(run.stdout, '', 'refused before any work');
      }
    }
    for (const [f, h] of before) assert.equal(sha(f), h, `${f} is unchanged`);
  });

  test('generate --html over an existing file asks for --force; with it the file is replaced by the report', async () => {
    const file = path.join(work, 'old-generation.html');
    fs.writeFileSync(file, 'an earlier report');
    const refused = await runCli(['generate', '--model', fixtureModel('gpt2-op14'), '--max-new-tokens', '2', '--html', file, 'the story']);
    assert.equal(refused.code, 1, describeRun(refused));
    assert.match(refused.stderr, /already exists; pass --force/);
    assert.equal(fs.readFileSync(file, 'utf8'), 'an earlier report');
    const forced = await runCli(['generate', '--model', fixtureModel('gpt2-op14'), '--max-new-tokens', '2', '--html', file, '--force', 'the story']);
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

/** The processes whose parent is `pid` (Linux /proc). */
function childrenOf(pid: number): number[] {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return fs
      .readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .filter((d) => {
        try {
          const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
          return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
        } catch {
          return false;
        }
      })
      .map(Number);
  }
}

/** True while `pid` runs (a zombie waiting to be reaped has stopped running). */
function running(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

describe('Ctrl-C', { skip: process.platform !== 'linux' && 'reads /proc to find the engine process' }, () => {
  test('during an explanation: exit 130 within a second, nothing on standard output, the engine process gone', async () => {
    const long = Array.from({ length: 8 }, () => 'the actors were wonderful but the plot was thin and slow').join(' ');
    let sentAt = 0;
    let engines: number[] = [];
    const run = await runCli(['explain', '--model', bert, '--method', 'kernel-shap', '--budget', '100000', long], {
      onSpawn: (child) => {
        child.stderr!.on('data', (d: Buffer) => {
          if (sentAt || !/evaluations/.test(d.toString())) return;
          engines = childrenOf(child.pid!);
          sentAt = Date.now();
          child.kill('SIGINT');
        });
      },
    });
    const exitedAfter = Date.now() - sentAt;
    assert.ok(sentAt > 0, `the explanation was running when interrupted: ${describeRun(run)}`);
    assert.equal(run.code, 130, describeRun(run));
    assert.equal(run.stdout, '');
    assert.ok(exitedAfter < 1000, `exited ${exitedAfter} ms after Ctrl-C`);
    assert.equal(engines.length, 1, `one engine process ran: ${engines.join(', ')}`);
    for (let i = 0; i < 20 && engines.some(running); i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(engines.filter(running), [], 'the engine process is gone');
  });
});

describe('a dataset run interrupted half way', { skip: process.platform !== 'linux' && 'sends SIGINT' }, () => {
  /** A labelled file long enough (20,000 lines, explanations on) to be interrupted well before its end. */
  function bigDataset(): string {
    const file = path.join(work, 'big.tsv');
    if (fs.existsSync(file)) return file;
    const source = fs.readFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'data', 'uci-sentiment-labelled', 'yelp_labelled.txt'), 'utf8');
    const lines = source.split('\n').filter((l) => /\t[01]\s*$/.test(l));
    const rows = Array.from({ length: 20 }, () => lines).flat();
    fs.writeFileSync(file, `text\tlabel\n${rows.join('\n')}\n`);
    return file;
  }

  async function interrupted(extra: string[]): Promise<CliRun> {
    let sent = false;
    return runCli(['dataset', bigDataset(), '--model', bert, '--label-column', 'label', '--explain-method', 'occlusion', '--max-explained', '100000', '--batch-size', '32', ...extra], {
      onSpawn: (child) => {
        child.stderr!.on('data', (d: Buffer) => {
          // A progress line carries the figures so far: interrupt once the first one is out.
          if (!sent && /\d+ examples/.test(d.toString())) {
            sent = true;
            child.kill('SIGINT');
          }
        });
      },
    });
  }

  test('--json: a valid DatasetResult marked partial, its figures consistent with the examples read, exit 130', async () => {
    const run = await interrupted(['--json']);
    assert.equal(run.code, 130, describeRun(run));
    const r = jsonOf(run);
    assert.ok(r.partial, 'marked partial');
    assert.match(r.partial.reason, /Stopped after [\d,]+ examples/);
    assert.ok(r.examples > 0 && r.examples < 20000, `examples read: ${r.examples}`);
    const predicted = Object.values(r.predictedCounts as Record<string, number>).reduce((a, b) => a + b, 0);
    assert.equal(predicted, r.examples, 'every example read is counted once');
    const confusion = (r.confusion as number[][]).flat().reduce((a, b) => a + b, 0);
    assert.equal(confusion, r.labelled);
    assert.equal(r.accuracy, r.correct / r.labelled);
    assert.match(run.stderr, /interrupted; the results above are partial/);
  });

  test('text output says the figures are partial and over how many examples', async () => {
    const run = await interrupted([]);
    assert.equal(run.code, 130, describeRun(run));
    assert.match(run.stdout, /^Partial: Stopped after [\d,]+ examples/m);
    assert.match(run.stdout, /^Accuracy: /m);
  });
});

describe('commands given the wrong kind of model', () => {
  test('generate with a classifier: exit 1, nothing on standard output, pointed to onnx-lens explain', async () => {
    const run = await runCli(['generate', '--model', bert, 'a fine movie']);
    assert.equal(run.code, 1, describeRun(run));
    assert.equal(run.stdout, '', 'standard output stays empty on failure');
    assert.match(run.stderr, /needs a causal language model.*sequence-classification model/);
    assert.match(run.stderr, /onnx-lens explain/);
  });

  test('--position, --mask or --output-index for a model they say nothing about: exit 1 naming the flag', async () => {
    const cases: [string[], RegExp][] = [
      [['--position', '1'], /--position applies to causal LMs.* is a sequence-classification model\. Leave --position out/],
      [['--mask', '0'], /--mask applies to fill-mask models/],
      [['--output-index', '2'], /--output-index applies to text-to-text models/],
    ];
    for (const [flag, message] of cases) {
      const run = await runCli(['explain', '--model', bert, '--method', 'occlusion', ...flag, 'not good at all']);
      assert.equal(run.code, 1, describeRun(run));
      assert.match(run.stderr, message);
      assert.equal(run.stdout, '');
    }
    const lines = await runCli(['explain', '--model', bert, '--method', 'occlusion', '--lines', '--position', '1'], { input: 'not good\nfine\n' });
    assert.equal(lines.code, 1, describeRun(lines));
    assert.match(lines.stderr, /--position applies to causal LMs/);
  });
});
