import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DownloadOptions, DownloadProgress, HubError, HubErrorCode, downloadModel } from '../../../src/engine/model/hubDownload';
import { COMPLETE_MANIFEST, cachedModelPath, listCachedModels } from '../../../src/engine/model/modelCache';
import { fakeHubPerTest, FakeHub, listTree, makeSourceModel, startFakeHub } from '../../support/fakeHub';
import { rejectionOf } from '../../support/rejection';

const REPO = 'test-org/tiny-bert';
const FP32_FILES = ['config.json', 'onnx/model.onnx', 'tokenizer.json', 'tokenizer_config.json'];
const QUANTIZED_FILES = ['config.json', 'onnx/model_quantized.onnx', 'tokenizer.json', 'tokenizer_config.json'];

let hub: FakeHub;
let cacheDir: string;
let sourceDir: string;
fakeHubPerTest(REPO, 'cache', (each) => {
  ({ hub, folder: cacheDir, sourceDir } = each);
});

function options(extra: Partial<DownloadOptions> = {}): DownloadOptions {
  return { repo: REPO, variant: 'fp32', endpoint: hub.endpoint, cacheDir, token: '', timeoutMs: 5000, ...extra };
}

const rejection = (promise: Promise<unknown>) => rejectionOf(promise, HubError);

function modelDir(): string {
  return cachedModelPath(cacheDir, REPO, 'main');
}

/** What a user would find in the cache after a failure: no partial file, nothing marked complete. */
async function assertNothingPartialMarkedComplete(): Promise<void> {
  const everything = listTree(cacheDir);
  assert.deepEqual(everything.filter((f) => f.includes('.part-')), [], 'no .part file remains');
  assert.ok(!everything.some((f) => f.endsWith(COMPLETE_MANIFEST)), 'no folder is marked complete');
  for (const m of await listCachedModels(cacheDir)) assert.equal(m.complete, false);
}

function sourceBytes(rel: string): Buffer {
  return fs.readFileSync(path.join(sourceDir, ...rel.split('/')));
}

describe('downloadModel: full downloads', () => {
  test('fp32 fetches exactly the needed files, byte for byte, and marks the folder complete', async () => {
    const events: DownloadProgress[] = [];
    const started = Date.now();
    const result = await downloadModel(options({ onProgress: (p) => events.push(p) }));
    const elapsed = Date.now() - started;

    assert.deepEqual(hub.requestedFiles().sort(), FP32_FILES);
    assert.equal(result.path, modelDir());
    assert.equal(result.fromCache, false);
    assert.equal(result.commit, hub.commit);
    assert.deepEqual(listTree(result.path), [COMPLETE_MANIFEST, ...FP32_FILES].sort());
    for (const f of FP32_FILES) assert.ok(fs.readFileSync(path.join(result.path, f)).equals(sourceBytes(f)), f);

    const total = FP32_FILES.reduce((n, f) => n + sourceBytes(f).length, 0);
    assert.equal(result.totalBytes, total);
    const last = events[events.length - 1];
    assert.equal(last.bytes, total);
    assert.equal(last.total, total);
    for (let i = 1; i < events.length; i++) assert.ok(events[i].bytes >= events[i - 1].bytes, 'progress never goes back');
    for (const f of FP32_FILES) {
      assert.ok(events.some((e) => e.file === f && e.fileBytes === sourceBytes(f).length), `an event at the end of ${f}`);
    }
    // Throttled to about five a second, besides one at the end of each file.
    assert.ok(events.length <= FP32_FILES.length + 2 + elapsed / 200, `${events.length} events in ${elapsed} ms`);

    const [cached] = await listCachedModels(cacheDir);
    assert.deepEqual(
      { repo: cached.repo, revision: cached.revision, variant: cached.variant, complete: cached.complete },
      { repo: REPO, revision: 'main', variant: 'fp32', complete: true },
    );
  });

  test('quantized fetches only model_quantized.onnx among the graphs', async () => {
    const result = await downloadModel(options({ variant: 'quantized' }));
    assert.deepEqual(hub.requestedFiles().sort(), QUANTIZED_FILES);
    assert.ok(!hub.requests.some((r) => /model\.onnx|model_fp16/.test(decodeURIComponent(r.url))));
    const onnx = path.join(result.path, 'onnx', 'model_quantized.onnx');
    assert.ok(fs.readFileSync(onnx).equals(sourceBytes('onnx/model_quantized.onnx')));
    assert.equal(result.variant, 'quantized');
  });

  test('LFS files follow the redirect to the CDN and still match the hub hash', async () => {
    hub.faults.redirectToCdn = true;
    hub.faults.relativeRedirect = true;
    const result = await downloadModel(options());
    assert.ok(hub.requests.some((r) => r.server === 'cdn'), 'the CDN served the graph');
    assert.ok(fs.readFileSync(path.join(result.path, 'onnx', 'model.onnx')).equals(sourceBytes('onnx/model.onnx')));
  });

  test('a mirror without the tree API still works through the model-info file list', async () => {
    hub.faults.treeUnavailable = true;
    const result = await downloadModel(options({ variant: 'quantized' }));
    assert.ok(hub.requests.some((r) => r.url.startsWith(`/api/models/${REPO}?`)));
    assert.deepEqual(hub.requestedFiles().sort(), QUANTIZED_FILES);
    assert.ok(fs.readFileSync(path.join(result.path, 'onnx', 'model_quantized.onnx')).equals(sourceBytes('onnx/model_quantized.onnx')));
  });

  test('asking again for a complete model answers from the cache without any request', async () => {
    await downloadModel(options());
    const before = hub.requests.length;
    const again = await downloadModel(options());
    assert.equal(again.fromCache, true);
    assert.equal(hub.requests.length, before);
  });

  test('external-data files of the chosen graph come along, those of other variants do not', async () => {
    const withData = await makeSourceModel({ externalData: true });
    const dataHub = await startFakeHub({ sourceDir: withData.dir, repo: REPO });
    try {
      const result = await downloadModel(options({ endpoint: dataHub.endpoint }));
      assert.deepEqual(dataHub.requestedFiles().sort(), [...FP32_FILES, 'onnx/model.onnx_data'].sort());
      assert.ok(
        fs.readFileSync(path.join(result.path, 'onnx', 'model.onnx_data')).equals(fs.readFileSync(path.join(withData.dir, 'onnx', 'model.onnx_data'))),
      );
    } finally {
      await dataHub.close();
      await withData.cleanup();
    }
  });
});

describe('downloadModel: failures leave nothing partial marked complete', () => {
  const cases: Array<{ name: string; code: HubErrorCode; setup: () => void; extra?: Partial<DownloadOptions> }> = [
    { name: 'a missing file (404)', code: 'not-found', setup: () => (hub.faults.notFound = ['onnx/model.onnx']) },
    { name: 'a dropped connection mid-file', code: 'network', setup: () => (hub.faults.dropAfterBytes = { 'onnx/model.onnx': 50_000 }) },
    {
      name: 'a server that trickles then stalls',
      code: 'timeout',
      setup: () => (hub.faults.stallAfterBytes = { 'onnx/model.onnx': 20_000 }),
      extra: { timeoutMs: 400 },
    },
    { name: 'a body shorter than the listed size', code: 'size-mismatch', setup: () => (hub.faults.truncatedBody = ['onnx/model.onnx']) },
    { name: 'a wrong size in the tree', code: 'size-mismatch', setup: () => (hub.faults.wrongTreeSize = ['onnx/model.onnx']) },
    { name: 'a wrong LFS sha256', code: 'hash-mismatch', setup: () => (hub.faults.wrongSha256 = ['onnx/model.onnx']) },
    { name: 'a gated repository (401)', code: 'unauthorized', setup: () => (hub.faults.requireToken = 'hf_right') },
    { name: 'endless redirects', code: 'network', setup: () => (hub.faults.redirectLoop = true) },
  ];
  for (const c of cases) {
    test(`${c.name} throws '${c.code}'`, async () => {
      c.setup();
      const err = await rejection(downloadModel(options(c.extra)));
      assert.equal(err.code, c.code, err.message);
      await assertNothingPartialMarkedComplete();
    });
  }

  test('a short body is caught by the hub X-Linked-Size when the listing gives no sizes', async () => {
    hub.faults.treeUnavailable = true;
    hub.faults.bareSiblings = true;
    hub.faults.redirectToCdn = true;
    hub.faults.truncatedBody = ['onnx/model.onnx'];
    const err = await rejection(downloadModel(options()));
    assert.equal(err.code, 'size-mismatch', err.message);
    assert.match(err.message, /onnx\/model\.onnx/);
    await assertNothingPartialMarkedComplete();
  });

  test('an unknown repository is not-found and says which one', async () => {
    const err = await rejection(downloadModel(options({ repo: 'test-org/nothing-here' })));
    assert.equal(err.code, 'not-found');
    assert.match(err.message, /test-org\/nothing-here/);
    assert.deepEqual(listTree(cacheDir), []);
  });

  test('an unreachable endpoint is a network error', async () => {
    const closed = await startFakeHub({ sourceDir: sourceDir, repo: REPO });
    const endpoint = closed.endpoint;
    await closed.close();
    const err = await rejection(downloadModel(options({ endpoint })));
    assert.equal(err.code, 'network');
  });

  test('after a failure, a second attempt completes and refetches only what was missing', async () => {
    const withData = await makeSourceModel({ externalData: true });
    const dataHub = await startFakeHub({ sourceDir: withData.dir, repo: REPO });
    try {
      dataHub.faults.notFound = ['onnx/model.onnx_data'];
      await rejection(downloadModel(options({ endpoint: dataHub.endpoint })));
      await assertNothingPartialMarkedComplete();
      dataHub.faults.notFound = [];
      const before = dataHub.requestedFiles().length;
      const result = await downloadModel(options({ endpoint: dataHub.endpoint }));
      const refetched = dataHub.requestedFiles().slice(before);
      assert.ok(!refetched.includes('onnx/model.onnx'), 'the verified graph was kept');
      assert.ok(refetched.includes('onnx/model.onnx_data'));
      for (const f of [...FP32_FILES, 'onnx/model.onnx_data']) {
        assert.ok(fs.readFileSync(path.join(result.path, f)).equals(fs.readFileSync(path.join(withData.dir, f))), f);
      }
      assert.equal((await listCachedModels(cacheDir))[0].complete, true);
    } finally {
      await dataHub.close();
      await withData.cleanup();
    }
  });

  test('switching variant after an interrupted download leaves no graph of the first variant', async () => {
    const controller = new AbortController();
    const first = downloadModel(
      options({
        variant: 'quantized',
        signal: controller.signal,
        onProgress: (p) => {
          if (p.file === 'onnx/model_quantized.onnx' && p.fileBytes === p.fileTotal) controller.abort();
        },
      }),
    );
    assert.equal((await rejection(first)).code, 'cancelled');
    assert.ok(listTree(modelDir()).includes('onnx/model_quantized.onnx'), 'the interrupted attempt left its verified graph');
    const result = await downloadModel(options({ variant: 'fp32' }));
    assert.deepEqual(listTree(result.path), [COMPLETE_MANIFEST, ...FP32_FILES].sort());
  });

  test('cancelling mid-file stops promptly and deletes the partial file', async () => {
    hub.faults.stallAfterBytes = { 'onnx/model.onnx': 200_000 };
    const controller = new AbortController();
    let abortedAt = 0;
    const pending = downloadModel(
      options({
        signal: controller.signal,
        timeoutMs: 30_000,
        onProgress: (p) => {
          if (p.file === 'onnx/model.onnx' && p.fileBytes > 0 && !abortedAt) {
            abortedAt = Date.now();
            controller.abort();
          }
        },
      }),
    );
    const err = await rejection(pending);
    assert.equal(err.code, 'cancelled');
    assert.ok(abortedAt > 0, 'the graph had started arriving');
    assert.ok(Date.now() - abortedAt < 1000, 'stopped within a second of cancel');
    await assertNothingPartialMarkedComplete();
    assert.ok(!fs.existsSync(path.join(modelDir(), 'onnx', 'model.onnx')));
  });

  test('a progress listener that throws ends the download cleanly instead of the process', async () => {
    await assert.rejects(
      downloadModel(
        options({
          onProgress: () => {
            throw new Error('listener broke');
          },
        }),
      ),
      /listener broke/,
    );
    await assertNothingPartialMarkedComplete();
  });

  test('a signal already aborted makes no request at all', async () => {
    const err = await rejection(downloadModel(options({ signal: AbortSignal.abort() })));
    assert.equal(err.code, 'cancelled');
    assert.equal(hub.requests.length, 0);
  });
});

describe('downloadModel: replacing a complete copy', () => {
  async function snapshot(dir: string): Promise<Map<string, Buffer>> {
    return new Map(listTree(dir).map((f) => [f, fs.readFileSync(path.join(dir, f))]));
  }

  for (const fault of ['stall', 'drop', 'hash'] as const) {
    test(`a failed re-download (${fault}) leaves the earlier copy byte-identical`, async () => {
      await downloadModel(options());
      const before = await snapshot(modelDir());
      if (fault === 'stall') hub.faults.stallAfterBytes = { 'onnx/model_quantized.onnx': 10_000 };
      if (fault === 'drop') hub.faults.dropAfterBytes = { 'onnx/model.onnx': 10_000 };
      if (fault === 'hash') hub.faults.wrongSha256 = ['onnx/model.onnx'];
      const variant = fault === 'stall' ? 'quantized' : 'fp32';
      const err = await rejection(downloadModel(options({ variant, force: true, timeoutMs: 400 })));
      assert.ok(['timeout', 'network', 'hash-mismatch'].includes(err.code), err.message);
      assert.deepEqual(await snapshot(modelDir()), before);
      const all = listTree(cacheDir);
      assert.deepEqual(all.filter((f) => f.includes('.part-') || f.includes('.staging-') || f.includes('.old-')), []);
      const [cached] = await listCachedModels(cacheDir);
      assert.equal(cached.complete, true);
      assert.equal(cached.variant, 'fp32');
    });
  }

  test('a successful re-download in the other variant replaces the copy as a whole', async () => {
    await downloadModel(options());
    const result = await downloadModel(options({ variant: 'quantized' }));
    assert.deepEqual(listTree(result.path), [COMPLETE_MANIFEST, ...QUANTIZED_FILES].sort());
    const [cached] = await listCachedModels(cacheDir);
    assert.equal(cached.variant, 'quantized');
    assert.equal(cached.complete, true);
    assert.deepEqual(fs.readdirSync(path.dirname(result.path)), ['main']);
  });
});

describe('downloadModel: repository ids', () => {
  for (const repo of ['../x', 'a/b/c', 'x', '/abs', 'a/..', 'a/b c', 'a--b/c', 'owner/name/../../etc', '']) {
    test(`refuses ${JSON.stringify(repo)} before any request`, async () => {
      const err = await rejection(downloadModel(options({ repo })));
      assert.equal(err.code, 'bad-repo-id');
      assert.equal(hub.requests.length, 0);
      assert.deepEqual(listTree(cacheDir), []);
    });
  }

  test('refuses a revision that would escape the cache folder', async () => {
    const err = await rejection(downloadModel(options({ revision: '../../etc' })));
    assert.equal(err.code, 'bad-repo-id');
    assert.equal(hub.requests.length, 0);
  });
});
