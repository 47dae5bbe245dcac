import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fakeHubPerTest, FakeHub, listTree } from '../../support/fakeHub';
import { describeRun, jsonOf, runCli } from './cliProcess';

const REPO = 'test-org/tiny-bert';
const TOKEN = 'hf_CliSecretToken0123456789';

let hub: FakeHub;
let cache: string;
let sourceDir: string;
fakeHubPerTest(REPO, 'cli-cache', (each) => {
  ({ hub, folder: cache, sourceDir } = each);
});

/** The environment of a user whose cache is `cache` and who has no token. */
function env(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return { XDG_CACHE_HOME: cache, HF_TOKEN: undefined, HUGGING_FACE_HUB_TOKEN: undefined, ...extra };
}

describe('onnx-lens download and models', () => {
  test('downloads into the default cache, prints the folder, reports progress on standard error', async () => {
    const run = await runCli(['download', REPO, '--endpoint', hub.endpoint], { env: env() });
    assert.equal(run.code, 0, describeRun(run));
    const folder = run.stdout.trim();
    assert.equal(folder, path.join(cache, 'onnx-lens', 'models', 'test-org--tiny-bert', 'main'));
    assert.deepEqual(
      listTree(folder).filter((f) => !f.startsWith('.')),
      ['config.json', 'onnx/model.onnx', 'tokenizer.json', 'tokenizer_config.json'],
    );
    assert.ok(fs.readFileSync(path.join(folder, 'onnx', 'model.onnx')).equals(fs.readFileSync(path.join(sourceDir, 'onnx', 'model.onnx'))));
    assert.match(run.stderr, /Downloading test-org\/tiny-bert \(fp32\)/);
    assert.match(run.stderr, /^Downloaded: test-org\/tiny-bert fp32 at main, 4 files/m);

    // The downloaded model is usable by its folder and by its repository id.
    const card = jsonOf(await runCli(['inspect', '--model', REPO, '--json'], { env: env() }));
    assert.equal(card.path, folder);

    const again = await runCli(['download', REPO, '--endpoint', hub.endpoint], { env: env() });
    assert.equal(again.code, 0);
    assert.match(again.stderr, /Already cached/);
  });

  test('--variant quantized and --cache DIR; models lists and removes', async () => {
    const dir = path.join(cache, 'elsewhere');
    const run = await runCli(['download', REPO, '--variant', 'quantized', '--endpoint', hub.endpoint, '--cache', dir, '--json'], { env: env() });
    assert.equal(run.code, 0, describeRun(run));
    const r = jsonOf(run);
    assert.equal(r.variant, 'quantized');
    assert.ok(r.files.some((f: { path: string }) => f.path === 'onnx/model_quantized.onnx'));
    assert.ok(fs.existsSync(path.join(dir, 'test-org--tiny-bert', 'main', 'onnx', 'model_quantized.onnx')));

    const list = await runCli(['models', '--cache', dir]);
    assert.equal(list.code, 0, describeRun(list));
    assert.match(list.stdout, /test-org\/tiny-bert +main +quantized +\S+ \S+ +complete/);
    const listed = jsonOf(await runCli(['models', '--cache', dir, '--json']));
    assert.deepEqual(listed.models.map((m: { repo: string; complete: boolean }) => [m.repo, m.complete]), [[REPO, true]]);

    const removed = await runCli(['models', '--cache', dir, '--remove', REPO]);
    assert.equal(removed.code, 0, describeRun(removed));
    assert.equal(fs.existsSync(path.join(dir, 'test-org--tiny-bert')), false);
    const empty = await runCli(['models', '--cache', dir]);
    assert.match(empty.stdout, /No models in/);
    const twice = await runCli(['models', '--cache', dir, '--remove', REPO]);
    assert.equal(twice.code, 1);
    assert.match(twice.stderr, /not in the cache/);
  });

  test('a missing repository or variant exits 2; a bad id exits 1', async () => {
    const missing = await runCli(['download', 'test-org/absent', '--endpoint', hub.endpoint], { env: env() });
    assert.equal(missing.code, 2, describeRun(missing));
    assert.match(missing.stderr, /onnx-lens: error: .*test-org\/absent/);
    const bad = await runCli(['download', '../../etc', '--endpoint', hub.endpoint], { env: env() });
    assert.equal(bad.code, 1);
    assert.equal(listTree(cache).length, 0, 'nothing was written');
  });

  test('the token comes from HF_TOKEN and never appears in the output', async () => {
    hub.faults.requireToken = TOKEN;
    const refused = await runCli(['download', REPO, '--endpoint', hub.endpoint], { env: env({ HF_TOKEN: 'hf_WrongToken999' }) });
    assert.equal(refused.code, 2, describeRun(refused));
    assert.match(refused.stderr, /refused access/);
    assert.ok(!refused.stderr.includes('hf_WrongToken999') && !refused.stdout.includes('hf_WrongToken999'));

    const ok = await runCli(['download', REPO, '--endpoint', hub.endpoint, '--verbose'], { env: env({ HF_TOKEN: TOKEN }) });
    assert.equal(ok.code, 0, describeRun(ok));
    assert.ok(!ok.stdout.includes(TOKEN) && !ok.stderr.includes(TOKEN));
    assert.ok(hub.requests.some((r) => r.headers.authorization === `Bearer ${TOKEN}`));
  });
});
