import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureModel } from '../../support/fixtureModels';
import { describeRun, jsonOf, runCli } from './cliProcess';

let t5: string;
let gpt2: string;
let mlm: string;

before(() => {
  t5 = fixtureModel('t5-op14');
  gpt2 = fixtureModel('gpt2-op14');
  mlm = fixtureModel('bert-mlm-op14');
});

describe('onnx-lens explain: targets', () => {
  test('the token named " g" is explained and shown quoted with its id; "g" says which other token " g" is', async () => {
    const spaced = await runCli(['explain', '--model', t5, '--method', 'occlusion', '--target', ' g', 'the cat sat']);
    assert.equal(spaced.code, 0, describeRun(spaced));
    assert.match(spaced.stdout, /^Explains: " g" — output token 0 " g" \(id \d+\)/m);
    const plain = await runCli(['explain', '--model', t5, '--method', 'occlusion', '--target', 'g', 'the cat sat']);
    assert.match(plain.stdout, /^Explains: "g" /m);
    assert.match(plain.stdout, /^note: "g" \(id \d+\) is explained; " g" \(id \d+\) is another token/m);
  });

  test('--target id:N, --position P and --mask K reach the engine', async () => {
    const byId = jsonOf(await runCli(['explain', '--model', gpt2, '--method', 'occlusion', '--json', '--target', 'id:42', '--position', '2', 'the story of a man']));
    assert.equal(byId.target.id, 42);
    assert.equal(byId.target.position, 2);
    assert.deepEqual(byId.features.map((f: { text: string }) => f.text), ['the', 'story', 'of']);
    const second = jsonOf(await runCli(['explain', '--model', mlm, '--method', 'occlusion', '--json', '--mask', '1', 'the [MASK] went to the [MASK]']));
    assert.equal(second.target.position, second.fullOutput.masks[1].tokenIndex);
  });

  test('a word of several tokens: the output lists its tokens; a mask or position that does not exist exits 1', async () => {
    const run = await runCli(['explain', '--model', gpt2, '--method', 'occlusion', '--target', ' moviegoers', 'the story of a man']);
    assert.equal(run.code, 0, describeRun(run));
    assert.match(run.stdout, /next tokens " moviegoers" \(sum of the log-probabilities of its \d tokens, teacher-forced\)/);
    assert.match(run.stdout, /^note: " moviegoers" is \d tokens: /m);
    const mask = await runCli(['explain', '--model', mlm, '--mask', '2', 'the [MASK] went to the [MASK]']);
    assert.equal(mask.code, 1, describeRun(mask));
    assert.match(mask.stderr, /Mask 2 does not exist: the text has 2 \[MASK\]s/);
    const position = await runCli(['explain', '--model', gpt2, '--position', '40', 'the story of a man']);
    assert.equal(position.code, 1, describeRun(position));
    assert.match(position.stderr, /Position 40 does not exist/);
  });
});

describe('onnx-lens predict: token names', () => {
  test('token candidates print in quotes, and every name printed, given back to --target, is that very token', async () => {
    for (const [model, text] of [
      [t5, 'the cat sat on the mat'],
      [gpt2, 'the story of a man who went to the'],
      [mlm, 'the man went to the [MASK] to buy milk'],
    ]) {
      const shown = await runCli(['predict', '--model', model, text]);
      assert.equal(shown.code, 0, describeRun(shown));
      const names = shown.stdout.split('\n').flatMap((l) => {
        const m = /^ {2}("(?:[^"\\]|\\.)*")\s+\d+\.\d%/.exec(l);
        return m ? [JSON.parse(m[1]) as string] : [];
      });
      const ids = jsonOf(await runCli(['predict', '--model', model, '--json', text])).candidates.map((c: { id: number }) => c.id);
      assert.equal(names.length, ids.length, shown.stdout);
      // All names in one engine: one JSON line per target.
      const input = names.map((target) => JSON.stringify({ text, target })).join('\n');
      const run = await runCli(['explain', '--model', model, '--method', 'occlusion', '--jsonl'], { input });
      assert.equal(run.code, 0, describeRun(run));
      const explained = run.stdout.trimEnd().split('\n').map((l) => JSON.parse(l).target.id);
      assert.deepEqual(explained, ids, `names ${JSON.stringify(names)}`);
    }
  });
});
