import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { downloadModel, HubError } from '../../../src/engine/model/hubDownload';
import { cachedModelPath, listCachedModels, removeCachedModel } from '../../../src/engine/model/modelCache';
import { FakeHub, listTree, makeSourceModel, startFakeHub } from '../../support/fakeHub';

let source: { dir: string; cleanup(): Promise<void> };
let hubA: FakeHub;
let hubB: FakeHub;
let root: string;
let cacheDir: string;

before(async () => {
  source = await makeSourceModel();
});
after(async () => {
  await source.cleanup();
});
beforeEach(async () => {
  hubA = await startFakeHub({ sourceDir: source.dir, repo: 'org-a/model-one' });
  hubB = await startFakeHub({ sourceDir: source.dir, repo: 'org-b/model-two' });
  root = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'onnx-lens-cache-root-'));
  cacheDir = path.join(root, 'cache');
});
afterEach(async () => {
  await hubA.close();
  await hubB.close();
  await fs.promises.rm(root, { recursive: true, force: true });
});

async function download(hub: FakeHub, variant: 'fp32' | 'quantized'): Promise<string> {
  const result = await downloadModel({ repo: hub.repo, variant, endpoint: hub.endpoint, cacheDir, token: '', timeoutMs: 5000 });
  return result.path;
}

function bytesBelow(dir: string): number {
  return listTree(dir).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
}

describe('model cache', () => {
  test('an empty or missing cache lists nothing', async () => {
    assert.deepEqual(await listCachedModels(cacheDir), []);
  });

  test('lists complete and interrupted downloads with their variant, size and folder', async () => {
    const one = await download(hubA, 'quantized');
    hubB.faults.notFound = ['onnx/model.onnx'];
    await assert.rejects(download(hubB, 'fp32'), HubError);

    const models = await listCachedModels(cacheDir);
    assert.deepEqual(
      models.map((m) => [m.repo, m.revision, m.variant, m.complete]),
      [
        ['org-a/model-one', 'main', 'quantized', true],
        ['org-b/model-two', 'main', undefined, false],
      ],
    );
    assert.equal(models[0].path, one);
    assert.equal(models[0].path, cachedModelPath(cacheDir, 'org-a/model-one'));
    assert.equal(models[0].sizeBytes, bytesBelow(one));
    assert.ok(models[0].sizeBytes > fs.statSync(path.join(source.dir, 'onnx', 'model_quantized.onnx')).size);
    assert.ok(models[0].completedAt && !Number.isNaN(Date.parse(models[0].completedAt)));
  });

  test('a complete model whose graph was deleted or truncated is listed as incomplete', async () => {
    const dir = await download(hubA, 'fp32');
    fs.truncateSync(path.join(dir, 'onnx', 'model.onnx'), 10);
    const [m] = await listCachedModels(cacheDir);
    assert.equal(m.complete, false);
  });

  test('a damaged complete model is downloaded again instead of being answered from the cache', async () => {
    const dir = await download(hubA, 'fp32');
    fs.truncateSync(path.join(dir, 'onnx', 'model.onnx'), 10);
    await download(hubA, 'fp32');
    assert.ok(fs.readFileSync(path.join(dir, 'onnx', 'model.onnx')).equals(fs.readFileSync(path.join(source.dir, 'onnx', 'model.onnx'))));
    assert.equal((await listCachedModels(cacheDir))[0].complete, true);
  });

  test('removes one revision, then reports nothing left to remove', async () => {
    await download(hubA, 'quantized');
    await download(hubB, 'quantized');
    assert.equal(await removeCachedModel(cacheDir, 'org-a/model-one', 'main'), true);
    assert.deepEqual((await listCachedModels(cacheDir)).map((m) => m.repo), ['org-b/model-two']);
    assert.ok(!fs.existsSync(path.join(cacheDir, 'org-a--model-one')), 'the empty repository folder went too');
    assert.equal(await removeCachedModel(cacheDir, 'org-a/model-one', 'main'), false);
  });

  test('removes every revision of a repository when no revision is given', async () => {
    await download(hubA, 'quantized');
    fs.mkdirSync(path.join(cacheDir, 'org-a--model-one', 'v2'), { recursive: true });
    assert.equal(await removeCachedModel(cacheDir, 'org-a/model-one'), true);
    assert.deepEqual(await listCachedModels(cacheDir), []);
  });

  test('refuses ids and revisions that would reach outside the cache, and deletes nothing', async () => {
    await download(hubA, 'quantized');
    const outside = path.join(root, 'precious.txt');
    fs.writeFileSync(outside, 'keep me');
    for (const [repo, revision] of [
      ['../x', undefined],
      ['a/b/c', undefined],
      ['..', undefined],
      ['org-a/model-one', '..'],
      ['org-a/model-one', '../../precious.txt'],
      ['org-a/model-one', '/etc'],
    ] as Array<[string, string | undefined]>) {
      await assert.rejects(removeCachedModel(cacheDir, repo, revision), RangeError, `${repo} ${revision}`);
    }
    assert.equal(fs.readFileSync(outside, 'utf8'), 'keep me');
    assert.equal((await listCachedModels(cacheDir))[0].complete, true);
  });

  test('refuses to follow a repository folder that links outside the cache', async (t) => {
    const elsewhere = path.join(root, 'elsewhere');
    fs.mkdirSync(path.join(elsewhere, 'main'), { recursive: true });
    fs.writeFileSync(path.join(elsewhere, 'main', 'keep.txt'), 'keep me');
    fs.mkdirSync(cacheDir, { recursive: true });
    try {
      fs.symlinkSync(elsewhere, path.join(cacheDir, 'org-x--linked'), 'dir');
    } catch {
      t.skip('this file system cannot create links');
      return;
    }
    await assert.rejects(removeCachedModel(cacheDir, 'org-x/linked', 'main'), /outside the model cache/);
    assert.equal(fs.readFileSync(path.join(elsewhere, 'main', 'keep.txt'), 'utf8'), 'keep me');
  });
});
