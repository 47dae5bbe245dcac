// Fault campaign: damaged tokenizer and config files beside a good graph. A broken tokenizer is a model
// error (exit 2) with a message naming the file; a config.json that is damaged or disagrees with the graph
// never beats the graph, and the model card says so. One test per case.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fixtureModel } from '../../support/fixtureModels';
import { tempDir } from '../../support/tempFolders';
import { describeRun, jsonOf, runCli, type CliRun } from '../cli/cliProcess';

const TEXT = 'a good story';
const CASE = { timeout: 120_000 };

/** A copy of the bert-cls-op14 fixture folder, changed by `change` (given the folder). */
function modelCopy(change: (dir: string) => void): string {
  const dir = path.join(tempDir('tokenizer-fault'), 'model');
  fs.cpSync(fixtureModel('bert-cls-op14'), dir, { recursive: true });
  change(dir);
  return dir;
}

function editJson(file: string, edit: (json: any) => unknown): void {
  const json = JSON.parse(fs.readFileSync(file, 'utf8'));
  const out = edit(json) ?? json;
  fs.writeFileSync(file, JSON.stringify(out));
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `onnx-lens predict` on the folder, with a deadline: a hang fails the case. */
function predict(dir: string, ...extra: string[]): Promise<CliRun> {
  return runCli(['predict', '--model', dir, ...extra, TEXT], { timeoutMs: 60_000 });
}

async function assertModelError(run: CliRun, message: RegExp): Promise<void> {
  assert.equal(run.code, 2, describeRun(run));
  assert.match(run.stderr, message);
  assert.doesNotMatch(run.stderr, /Internal error|\n\s+at /, 'a message, not a stack trace');
}

describe('fault campaign: tokenizer and config files', () => {
  test('tokenizer.json missing', CASE, async () => {
    const dir = modelCopy((d) => fs.rmSync(path.join(d, 'tokenizer.json')));
    await assertModelError(await predict(dir), new RegExp(`No tokenizer\\.json in ${escape(dir)}\\..*save_pretrained`));
  });

  test('tokenizer.json that is not JSON', CASE, async () => {
    const dir = modelCopy((d) => fs.writeFileSync(path.join(d, 'tokenizer.json'), '{"model": {"type": "WordPiece", "vocab": {'));
    await assertModelError(await predict(dir), new RegExp(`${escape(path.join(dir, 'tokenizer.json'))} is not valid JSON \\(.+\\)\\. Re-save or re-download it`));
  });

  test('tokenizer.json without a model (exit 2, not 1: the folder is at fault, not the text)', CASE, async () => {
    const dir = modelCopy((d) => fs.writeFileSync(path.join(d, 'tokenizer.json'), JSON.stringify({ version: '1.0', added_tokens: [] })));
    await assertModelError(await predict(dir), new RegExp(`${escape(path.join(dir, 'tokenizer.json'))} cannot be used: tokenizer\\.json has no "model" entry`));
  });

  test('tokenizer.json with a model kind ONNX Lens does not support (WordLevel)', CASE, async () => {
    const dir = modelCopy((d) => editJson(path.join(d, 'tokenizer.json'), (j) => ({ ...j, model: { type: 'WordLevel', vocab: j.model.vocab, unk_token: '[UNK]' } })));
    await assertModelError(await predict(dir), /tokenizer\.json cannot be used: This tokenizer uses a WordLevel model; ONNX Lens supports WordPiece, BPE and Unigram/);
  });

  test('a vocabulary without its unknown token [UNK]: refused instead of silently dropping words', CASE, async () => {
    const dir = modelCopy((d) =>
      editJson(path.join(d, 'tokenizer.json'), (j) => {
        delete j.model.vocab['[UNK]'];
        j.added_tokens = j.added_tokens.filter((t: { content: string }) => t.content !== '[UNK]');
      }),
    );
    await assertModelError(await predict(dir), /names "\[UNK\]" as its unknown token, but its vocabulary has no such entry, so text it cannot split would silently drop out/);
  });

  test('a vocabulary without [MASK]: explanations delete words instead, masking is refused with the alternatives', CASE, async () => {
    const dir = modelCopy((d) =>
      editJson(path.join(d, 'tokenizer.json'), (j) => {
        delete j.model.vocab['[MASK]'];
        j.added_tokens = j.added_tokens.filter((t: { content: string }) => t.content !== '[MASK]');
      }),
    );
    const explained = await runCli(['explain', '--model', dir, '--json', '--method', 'occlusion', TEXT], { timeoutMs: 60_000 });
    assert.equal(explained.code, 0, describeRun(explained));
    assert.equal(jsonOf(explained).provenance.removal, 'delete');
    const masked = await runCli(['explain', '--model', dir, '--removal', 'mask', TEXT], { timeoutMs: 60_000 });
    assert.equal(masked.code, 1, describeRun(masked));
    assert.match(masked.stderr, /no mask token, so words cannot be removed by masking\. Use the "delete" or "attention" removal strategy/);
  });

  test('tokenizer.json as a named pipe', CASE, async () => {
    const dir = modelCopy((d) => {
      fs.rmSync(path.join(d, 'tokenizer.json'));
      execFileSync('mkfifo', [path.join(d, 'tokenizer.json')]);
    });
    await assertModelError(await predict(dir), new RegExp(`${escape(path.join(dir, 'tokenizer.json'))} is a named pipe \\(FIFO\\), not a regular file`));
  });

  test('tokenizer_config.json as a named pipe: refused instead of waited on', CASE, async () => {
    const dir = modelCopy((d) => execFileSync('mkfifo', [path.join(d, 'tokenizer_config.json.new')]));
    fs.renameSync(path.join(dir, 'tokenizer_config.json.new'), path.join(dir, 'tokenizer_config.json'));
    await assertModelError(await predict(dir), new RegExp(`${escape(path.join(dir, 'tokenizer_config.json'))} is a named pipe \\(FIFO\\), not a regular file`));
  });

  test('tokenizer.json of 200 MB (sparse): refused by size without reading it', CASE, async () => {
    const dir = modelCopy((d) => fs.truncateSync(path.join(d, 'tokenizer.json'), 200 * 1024 * 1024));
    await assertModelError(await predict(dir), new RegExp(`${escape(path.join(dir, 'tokenizer.json'))} has 209,715,200 bytes, more than the 134,217,728 ONNX Lens reads`));
  });

  test('a tokenizer with more tokens than the model has embedding rows', CASE, async () => {
    const dir = modelCopy((d) =>
      editJson(path.join(d, 'tokenizer.json'), (j) => {
        for (let i = 0; i < 50; i++) j.model.vocab[`extra${i}`] = 900 + i;
      }),
    );
    await assertModelError(await predict(dir), /The tokenizer has 950 tokens but the model's embedding table has only 900 rows/);
  });

  test('special_tokens_map.json that is not JSON is ignored: tokenizer.json names the special tokens', CASE, async () => {
    const dir = modelCopy((d) => fs.writeFileSync(path.join(d, 'special_tokens_map.json'), '{"mask_token": '));
    const run = await predict(dir, '--json');
    assert.equal(run.code, 0, describeRun(run));
    assert.deepEqual(jsonOf(run).encoded.tokens.map((t: { text: string }) => t.text), ['[CLS]', 'a', 'good', 'story', '[SEP]']);
  });

  test('id2label of the wrong size: the scores are numbered, the card says why', CASE, async () => {
    const dir = modelCopy((d) => editJson(path.join(d, 'config.json'), (c) => void (c.id2label = { 0: 'BAD', 1: 'OK', 2: 'GREAT' })));
    const run = await predict(dir, '--json');
    assert.equal(run.code, 0, describeRun(run));
    assert.deepEqual(jsonOf(run).candidates.map((c: { label: string }) => c.label).sort(), ['LABEL_0', 'LABEL_1']);
    const inspect = await runCli(['inspect', '--model', dir], { timeoutMs: 60_000 });
    assert.equal(inspect.code, 0, describeRun(inspect));
    assert.match(inspect.stdout, /config\.json lists 3 labels, but the model outputs 2 scores; labels are numbered instead/);
  });

  test('a config.json that calls a BERT graph gpt2: the graph wins, removal stays mask, the card shows the conflict', CASE, async () => {
    const dir = modelCopy((d) =>
      editJson(path.join(d, 'config.json'), (c) => {
        c.model_type = 'gpt2';
      }),
    );
    const inspect = await runCli(['inspect', '--model', dir, '--json'], { timeoutMs: 60_000 });
    assert.equal(inspect.code, 0, describeRun(inspect));
    const card = jsonOf(inspect);
    assert.equal(card.family, 'bert');
    assert.ok(card.warnings.includes('config.json says the model is gpt2, but its graph is bert; using bert.'), card.warnings.join('\n'));
    const explained = await runCli(['explain', '--model', dir, '--json', '--method', 'occlusion', TEXT], { timeoutMs: 60_000 });
    assert.equal(explained.code, 0, describeRun(explained));
    assert.equal(jsonOf(explained).provenance.removal, 'mask');
  });

  test('config.json that is not JSON: the model opens from its graph and the card says so', CASE, async () => {
    const dir = modelCopy((d) => fs.writeFileSync(path.join(d, 'config.json'), '{"model_type": "bert", '));
    const run = await predict(dir, '--json');
    assert.equal(run.code, 0, describeRun(run));
    assert.equal(jsonOf(run).candidates.length, 2);
    const inspect = await runCli(['inspect', '--model', dir, '--json'], { timeoutMs: 60_000 });
    const card = jsonOf(inspect);
    assert.ok(card.warnings.some((w: string) => w.startsWith(`${path.join(dir, 'config.json')} is not valid JSON`) && w.endsWith('every field comes from the graph.')), card.warnings.join('\n'));
    assert.equal(card.family, 'bert');
  });

  test('config.json holding a list instead of an object: the graph gives every field', CASE, async () => {
    const dir = modelCopy((d) => fs.writeFileSync(path.join(d, 'config.json'), '[1, 2, 3]'));
    const inspect = await runCli(['inspect', '--model', dir, '--json'], { timeoutMs: 60_000 });
    assert.equal(inspect.code, 0, describeRun(inspect));
    const card = jsonOf(inspect);
    assert.ok(card.warnings.includes(`${path.join(dir, 'config.json')} does not hold a JSON object; every field comes from the graph.`), card.warnings.join('\n'));
    assert.equal(card.layers.source, 'graph');
    assert.equal(card.layers.value, 2);
  });

  test('config.json as a named pipe: refused instead of waited on', CASE, async () => {
    const dir = modelCopy((d) => {
      fs.rmSync(path.join(d, 'config.json'));
      execFileSync('mkfifo', [path.join(d, 'config.json')]);
    });
    await assertModelError(await predict(dir), new RegExp(`${escape(path.join(dir, 'config.json'))} is a named pipe \\(FIFO\\), not a regular file`));
  });
});
