import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { generationSummary, renderGeneration } from '../../../src/cli/renderGeneration';
import { Style } from '../../../src/cli/terminalOutput';
import type { GenerationResult } from '../../../src/protocol/engineApi';
import { generationFixture, readGenerationReference } from '../../support/fixtureModels';
import { tempDir } from '../../support/tempFolders';
import { describeRun, jsonOf, runCli } from './cliProcess';

const ref = readGenerationReference('llama-gen');
const PROMPT = ref.cases[1].prompt; // runs the full 10 tokens
let llama: string;
const work = tempDir('cli-gen');

before(() => {
  llama = generationFixture('llama-gen');
});

describe('onnx-lens generate', () => {
  test('writes the prompt and the continuation the model generates, and how it stopped', async () => {
    const run = await runCli(['generate', '--model', llama, '--max-new-tokens', '10', PROMPT]);
    assert.equal(run.code, 0, describeRun(run));
    const json = jsonOf(await runCli(['generate', '--model', llama, '--max-new-tokens', '10', '--json', PROMPT]));
    assert.deepEqual(json.generation.tokens.map((t: { id: number }) => t.id), ref.cases[1].generated);
    assert.equal(run.stdout, `${PROMPT}${json.generation.text}\n`);
    assert.match(run.stderr, /10 tokens, stopped at the token limit; [\d.]+ tokens\/s with KV cache/);
  });

  test('--json with --explain holds the generation and a matrix whose rows add up', async () => {
    const run = await runCli(['generate', '--model', llama, '--max-new-tokens', '4', '--explain', '--method', 'kernel-shap', '--json', PROMPT]);
    assert.equal(run.code, 0, describeRun(run));
    const { generation, explanation } = jsonOf(run);
    assert.equal(explanation.kind, 'generation-explanation');
    assert.deepEqual(explanation.features.map((f: { text: string }) => f.text), PROMPT.split(' '));
    assert.equal(explanation.targets.length, generation.tokens.length);
    for (const t of explanation.targets) {
      const sum = t.values.reduce((a: number, b: number) => a + b, 0);
      assert.ok(Math.abs(sum - (t.outputValue - t.baseValue)) < 1e-5);
    }
    assert.equal(explanation.positions.length, 4);
  });

  test('--explain prints a row per generated token with a value per prompt word, and the logit lens', async () => {
    const run = await runCli(['generate', '--model', llama, '--max-new-tokens', '3', '--explain', '--contrast-step', '0', PROMPT]);
    assert.equal(run.code, 0, describeRun(run));
    const lines = run.stdout.split('\n');
    const header = lines.find((l) => /^\s+token\s+log p\s+i\s+loved\s+this\s+place\s+and\s+the\s+food$/.test(l));
    assert.ok(header, describeRun(run));
    const rows = lines.filter((l) => /^\s+(?!\(all\))\S+\s+-\d+\.\d{3}(\s+[+-]\d+\.\d{3}){7}$/.test(l));
    assert.equal(rows.length, 3, describeRun(run));
    assert.match(run.stdout, /Why ".*" and not ".*" \(step 0;/);
    assert.match(run.stdout, /Logit lens at each generated position/);
    // Ranks count from 1 as in `logit-lens`: greedy decoding chose each token as the top one of the last state.
    const lens = lines.slice(lines.findIndex((l) => /Logit lens at each generated position/.test(l)) + 1, -1).filter((l) => /#\d+/.test(l));
    assert.equal(lens.length, 3, describeRun(run));
    for (const l of lens) {
      assert.match(l, /#1$/, l);
      assert.doesNotMatch(l, /#0\b/, l);
    }
  });

  test('--explain says what a cell is for the method: LIME weights and occlusion differences need not add up', async () => {
    const lime = await runCli(['generate', '--model', llama, '--max-new-tokens', '2', '--explain', '--method', 'lime', PROMPT]);
    assert.equal(lime.code, 0, describeRun(lime));
    assert.match(lime.stdout, /the LIME weight of the prompt word/);
    assert.match(lime.stdout, /need not add up/);
    const occlusion = await runCli(['generate', '--model', llama, '--max-new-tokens', '2', '--explain', PROMPT]);
    assert.match(occlusion.stdout, /without that word alone \(occlusion\)/);
    const shap = await runCli(['generate', '--model', llama, '--max-new-tokens', '2', '--explain', '--method', 'kernel-shap', PROMPT]);
    assert.match(shap.stdout, /Per row the values add up to log p with the whole prompt minus log p with none of it/);
  });

  test('--help says how the budget is spent across the tokens, and the matrix spends it so', async () => {
    const help = await runCli(['generate', '--help']);
    assert.equal(help.code, 0, describeRun(help));
    const line = help.stdout.split('\n').find((l) => /^\s+--budget N/.test(l)) ?? '';
    assert.match(line, /exact Shapley and kernel-shap run at most N in all, partition-shap .* up to N per token/);
    // Exact Shapley over the 7 prompt words: 2^7 rows in all for 2 tokens, not 2^7 per token.
    const exact = jsonOf(await runCli(['generate', '--model', llama, '--max-new-tokens', '2', '--explain', '--method', 'exact-shapley', '--json', PROMPT]));
    assert.equal(exact.explanation.evaluations, 2 ** 7);
    const kernel = jsonOf(await runCli(['generate', '--model', llama, '--max-new-tokens', '2', '--explain', '--method', 'kernel-shap', '--budget', '40', '--json', PROMPT]));
    assert.ok(kernel.explanation.evaluations <= 40, `kernel-shap ran ${kernel.explanation.evaluations} rows`);
    const partition = jsonOf(await runCli(['generate', '--model', llama, '--max-new-tokens', '2', '--explain', '--method', 'partition-shap', '--budget', '20', '--json', PROMPT]));
    assert.ok(partition.explanation.evaluations <= 20 * 3, `partition-shap ran ${partition.explanation.evaluations} rows`);
  });

  test('--html writes a self-contained report of the generation and its matrix', async () => {
    const file = path.join(work, 'generation.html');
    const run = await runCli(['generate', '--model', llama, '--max-new-tokens', '3', '--html', file, PROMPT]);
    assert.equal(run.code, 0, describeRun(run));
    const html = fs.readFileSync(file, 'utf8');
    assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'/);
    assert.doesNotMatch(html, /<script(?![^>]*type="application\/json")/);
    assert.doesNotMatch(html, /https?:\/\//);
    for (const w of PROMPT.split(' ')) assert.match(html, new RegExp(`<th>${w}</th>`));
    const data = JSON.parse(html.match(/<script type="application\/json" id="onnx-lens-result">([\s\S]*?)<\/script>/)![1]);
    assert.equal(data.explanation.targets.length, 3);
    // The lens table's ranks count from 1: each greedy token is rank 1 at the last hidden state.
    const lensRows = [...html.matchAll(/<tr><th>[^<]*<\/th>(<td>[\s\S]*?)<\/tr>/g)].map((m) => m[1]).filter((r) => /rank \d+/.test(r));
    assert.equal(lensRows.length, 3);
    for (const r of lensRows) {
      assert.match(r, /rank 1, p [\d.]+<\/span><\/td>$/, r);
      assert.doesNotMatch(r, /rank 0\b/, r);
    }
  });

  test('--stop ends at a stop string; --chat on a tokenizer without a template says it used plain text', async () => {
    const full = jsonOf(await runCli(['generate', '--model', llama, '--max-new-tokens', '10', '--json', PROMPT])).generation;
    const stop = full.text.slice(full.tokens[4].start, full.tokens[4].end);
    const run = await runCli(['generate', '--model', llama, '--max-new-tokens', '10', '--stop', stop, PROMPT]);
    assert.equal(run.code, 0, describeRun(run));
    assert.match(run.stderr, /stopped at the stop string/);
    const gqa = await runCli(['generate', '--model', generationFixture('llama-gqa'), '--max-new-tokens', '2', '--chat', PROMPT]);
    assert.equal(gqa.code, 0, describeRun(gqa));
    assert.match(gqa.stderr, /has no chat template, so the prompt was fed as plain text/);
  });

  test('mistakes exit 1 with a message: sampling flags without --sample, a contrast without its step, a classifier', async () => {
    const temp = await runCli(['generate', '--model', llama, '--temperature', '0.7', PROMPT]);
    assert.equal(temp.code, 1, describeRun(temp));
    assert.match(temp.stderr, /add --sample/);
    const contrast = await runCli(['generate', '--model', llama, '--explain', '--contrast', 'the', PROMPT]);
    assert.equal(contrast.code, 1);
    assert.match(contrast.stderr, /--contrast needs --contrast-step K/);
    const demo = await runCli(['generate', 'the movie was']);
    assert.equal(demo.code, 1, describeRun(demo));
    assert.match(demo.stderr, /Generation needs a causal language model/);
    const long = await runCli(['generate', '--model', llama, Array.from({ length: 20 }, () => 'the movie was good').join(' ')]);
    assert.equal(long.code, 1);
    assert.match(long.stderr, /context window is 64 tokens/);
  });

  // Where the interrupt lands depends on timing, so this checks what holds wherever it lands; the engine's
  // fault tests stop a generation at a chosen token.
  test('Ctrl-C while tokens stream exits 130 with a prefix of the continuation kept on standard output', async () => {
    const full = jsonOf(await runCli(['generate', '--model', llama, '--max-new-tokens', '40', '--json', '--sample', '--seed', '2', PROMPT])).generation;
    let sent = false;
    const run = await runCli(['generate', '--model', llama, '--max-new-tokens', '40', '--sample', '--seed', '2', PROMPT], {
      onSpawn: (child) => {
        child.stdout!.on('data', (d: Buffer) => {
          if (!sent && d.toString().length > 0) {
            sent = true;
            child.kill('SIGINT');
          }
        });
      },
    });
    assert.ok(sent);
    assert.equal(run.code, 130, describeRun(run));
    assert.ok(run.stdout.startsWith(PROMPT));
    const kept = run.stdout.slice(PROMPT.length).replace(/\n$/, '');
    assert.ok(full.text.startsWith(kept), `kept ${JSON.stringify(kept)} is how the full run began: ${JSON.stringify(full.text)}`);
  });

  test('an interrupted generation is shown with what it generated and why it stopped', () => {
    const g = {
      prompt: 'the movie',
      text: ' was great',
      tokens: [{}, {}],
      stopReason: 'cancelled',
      cache: 'kv',
      timing: { tokensPerSecond: 12.5 },
      sequenceLogprob: -3.25,
      notes: ['Generation was stopped after 2 tokens; what was generated is kept.'],
    } as unknown as GenerationResult;
    const style = new Style(false);
    assert.equal(renderGeneration(g, style).split('\n')[0], 'the movie was great');
    assert.equal(
      generationSummary(g, style),
      '2 tokens, interrupted; 12.5 tokens/s with KV cache; log p -3.250\nGeneration was stopped after 2 tokens; what was generated is kept.',
    );
  });
});
