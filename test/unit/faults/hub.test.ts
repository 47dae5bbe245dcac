// Fault campaign: Hub downloads against a misbehaving server on 127.0.0.1. Whatever the server does, no
// file lands outside the cache, no half file is taken as finished, the token only reaches the hub, and the
// failure says what happened. One test per case.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DownloadOptions, DownloadResult, HubError, HubErrorCode, downloadModel } from '../../../src/engine/model/hubDownload';
import { COMPLETE_MANIFEST, cachedModelPath, listCachedModels, modelLockFile } from '../../../src/engine/model/modelCache';
import { fakeHubPerTest, FakeHub, listTree } from '../../support/fakeHub';
import { rejectionOf } from '../../support/rejection';
import { describeRun, runCli } from '../cli/cliProcess';

const REPO = 'test-org/tiny-bert';
const FP32_FILES = ['config.json', 'onnx/model.onnx', 'tokenizer.json', 'tokenizer_config.json'];
const GRAPH = 'onnx/model.onnx';
const TOKEN = 'hf_FaultCampaignToken0123456789';
/** Each case's own limit: a case that never gives up fails here instead of hanging the run. */
const CASE = { timeout: 90_000 };

let hub: FakeHub;
/** A folder holding only the cache: anything else appearing in it was written outside the cache. */
let sandbox: string;
let cacheDir: string;
let sourceDir: string;
fakeHubPerTest(REPO, 'hub-faults', (each) => {
  ({ hub, folder: sandbox, sourceDir } = each);
  cacheDir = path.join(sandbox, 'cache');
});

function options(extra: Partial<DownloadOptions> = {}): DownloadOptions {
  return { repo: REPO, variant: 'fp32', endpoint: hub.endpoint, cacheDir, token: '', timeoutMs: 5000, ...extra };
}

async function failure(promise: Promise<unknown>, code: HubErrorCode): Promise<HubError> {
  const err = await rejectionOf(promise, HubError);
  assert.equal(err.code, code, err.message);
  return err;
}

function modelDir(): string {
  return cachedModelPath(cacheDir, REPO, 'main');
}

/** Nothing outside the cache; no partial, staging or lock file left; nothing marked complete. */
async function assertNothingKept(): Promise<void> {
  const all = listTree(sandbox);
  assert.deepEqual(all.filter((f) => !f.startsWith('cache/')), [], 'no file outside the cache');
  assert.deepEqual(all.filter((f) => /\.part-|\.staging-|\.old-|\/\.lock-/.test(f)), [], 'no partial, staging or lock file');
  assert.ok(!all.some((f) => f.endsWith(COMPLETE_MANIFEST)), 'nothing marked complete');
  for (const m of await listCachedModels(cacheDir)) assert.equal(m.complete, false);
}

/** One complete copy whose files are the repository's, byte for byte, and nothing else in the sandbox. */
async function assertOneGoodCopy(result: DownloadResult): Promise<void> {
  assert.equal(result.path, modelDir());
  assert.deepEqual(listTree(sandbox), [...FP32_FILES, COMPLETE_MANIFEST].map((f) => `cache/test-org--tiny-bert/main/${f}`).sort());
  for (const f of FP32_FILES) {
    assert.ok(fs.readFileSync(path.join(result.path, f)).equals(fs.readFileSync(path.join(sourceDir, f))), `${f} is byte-identical`);
  }
  const cached = await listCachedModels(cacheDir);
  assert.equal(cached.length, 1);
  assert.equal(cached[0].complete, true);
}

function untilFileAppears(dir: string, pattern: RegExp, then: () => void): () => void {
  const timer = setInterval(() => {
    if (listTree(dir).some((f) => pattern.test(f))) {
      clearInterval(timer);
      then();
    }
  }, 20);
  return () => clearInterval(timer);
}

describe('fault campaign: Hub downloads', () => {
  test('truncated body (Content-Length says so too): size mismatch, nothing kept', CASE, async () => {
    hub.faults.truncatedBody = [GRAPH];
    const err = await failure(downloadModel(options()), 'size-mismatch');
    assert.match(err.message, /onnx\/model\.onnx/);
    await assertNothingKept();
  });

  test('Content-Length smaller than the file: size mismatch before anything is saved', CASE, async () => {
    hub.faults.contentLengthDelta = { [GRAPH]: -1000 };
    const err = await failure(downloadModel(options()), 'size-mismatch');
    assert.match(err.message, /onnx\/model\.onnx.*announced/);
    await assertNothingKept();
  });

  test('Content-Length larger than the file, then the server hangs up: nothing kept', CASE, async () => {
    hub.faults.contentLengthDelta = { [GRAPH]: 5000 };
    // The listing's size disagrees with the announced length, or the connection drops short of it.
    const err = await downloadModel(options()).then(
      () => assert.fail('the download should have failed'),
      (e: unknown) => e as HubError,
    );
    assert.ok(err instanceof HubError && ['size-mismatch', 'network'].includes(err.code), String(err));
    assert.match(err.message, /onnx\/model\.onnx/);
    await assertNothingKept();
  });

  test('HTTP 500 on the file list: a server error, not a missing repository', CASE, async () => {
    hub.faults.treeStatus = 500;
    hub.faults.modelInfoStatus = 404;
    const err = await failure(downloadModel(options()), 'network');
    assert.equal(err.status, 500);
    assert.match(err.message, /HTTP 500, a server error.*test-org\/tiny-bert.*try again later/);
    assert.doesNotMatch(err.message, /has no/);
    await assertNothingKept();
  });

  test('HTTP 500 on one file: a server error naming the file, nothing kept', CASE, async () => {
    hub.faults.fileStatus = { [GRAPH]: 500 };
    const err = await failure(downloadModel(options()), 'network');
    assert.match(err.message, /HTTP 500, a server error, for onnx\/model\.onnx of test-org\/tiny-bert/);
    await assertNothingKept();
  });

  test('HTTP 404 on one file says which file is missing', CASE, async () => {
    hub.faults.notFound = [GRAPH];
    const err = await failure(downloadModel(options()), 'not-found');
    assert.match(err.message, /has no file onnx\/model\.onnx in test-org\/tiny-bert at revision main/);
    await assertNothingKept();
  });

  test('redirect loop: gives up after five redirects, nothing kept', CASE, async () => {
    hub.faults.redirectLoop = true;
    const err = await failure(downloadModel(options()), 'network');
    assert.match(err.message, /redirected more than 5 times/);
    await assertNothingKept();
  });

  test('redirect to another host: the files arrive, the token never goes there', CASE, async () => {
    hub.faults.requireToken = TOKEN;
    hub.faults.redirectAllTo = hub.cdnOrigin.replace('127.0.0.1', 'localhost');
    const result = await downloadModel(options({ token: TOKEN }));
    await assertOneGoodCopy(result);
    const elsewhere = hub.requests.filter((r) => r.server === 'cdn');
    assert.equal(elsewhere.length, FP32_FILES.length, 'every file came from the other host');
    for (const r of elsewhere) assert.ok(!JSON.stringify(r).includes(TOKEN), `no token sent to ${r.headers.host}${r.url}`);
    for (const r of hub.requests.filter((x) => x.server === 'hub')) assert.equal(r.headers.authorization, `Bearer ${TOKEN}`);
  });

  test('1 byte per second: stops below the minimum rate with a message, nothing kept', CASE, async () => {
    hub.faults.bytesPerSecond = { [GRAPH]: 1 };
    const err = await failure(downloadModel(options({ timeoutMs: 1500, minBytesPerSecond: 200 })), 'timeout');
    assert.match(err.message, /sent onnx\/model\.onnx at \d+ bytes per second over 1\.5 s, below the minimum of 200/);
    await assertNothingKept();
  });

  test('a steady server slower than the whole download may take: stops at the deadline, nothing kept', CASE, async () => {
    hub.faults.bytesPerSecond = { [GRAPH]: 20_000 };
    const err = await failure(downloadModel(options({ deadlineMs: 1500 })), 'timeout');
    assert.match(err.message, /took longer than the deadline of 1\.5 s; nothing partial was kept/);
    await assertNothingKept();
  });

  test('the CLI gives up on a 1 byte/s server with --timeout and --min-rate: exit 2, nothing kept', CASE, async () => {
    hub.faults.bytesPerSecond = { [GRAPH]: 1 };
    const run = await runCli(['download', REPO, '--endpoint', hub.endpoint, '--cache', cacheDir, '--timeout', '2', '--min-rate', '100'], {
      env: { HF_TOKEN: undefined, HUGGING_FACE_HUB_TOKEN: undefined },
    });
    assert.equal(run.code, 2, describeRun(run));
    assert.match(run.stderr, /onnx\/model\.onnx at \d+ bytes per second over 2 s, below the minimum of 100/);
    await assertNothingKept();
  });

  test('listing entries that climb out of the folder (../../evil.onnx) are never fetched or written', CASE, async () => {
    hub.faults.extraEntries = [
      { path: '../../evil.onnx' }, // hostile-path
      { path: 'onnx/../../../evil.onnx' }, // hostile-path
      { path: 'onnx/model.onnx_data/../../../../evil' }, // hostile-path
      { path: 'onnx\\..\\..\\evil.onnx' },
    ];
    const result = await downloadModel(options());
    await assertOneGoodCopy(result);
    assert.ok(!hub.requestedFiles().some((f) => f.includes('evil')));
    assert.ok(!fs.existsSync(path.join(os.tmpdir(), 'evil.onnx')));
  });

  test('listing entries with absolute paths are never fetched or written', CASE, async () => {
    const target = path.join(sandbox, 'evil.onnx');
    hub.faults.extraEntries = [{ path: target }, { path: `/onnx/model.onnx` }, { path: 'C:\\evil\\model.onnx' }, { path: '//evil/onnx/model.onnx' }];
    const result = await downloadModel(options());
    await assertOneGoodCopy(result);
    assert.ok(!fs.existsSync(target));
  });

  test('a repository id like ../../x is refused before any request; the CLI exits 1', CASE, async () => {
    const repo = '../../x'; // hostile-path
    const err = await failure(downloadModel(options({ repo })), 'bad-repo-id');
    assert.match(err.message, /not a model repository id/);
    const run = await runCli(['download', repo, '--endpoint', hub.endpoint, '--cache', cacheDir]);
    assert.equal(run.code, 1, describeRun(run));
    assert.match(run.stderr, /not a model repository id; expected owner\/name/);
    assert.equal(hub.requests.length, 0);
    assert.deepEqual(listTree(sandbox), []);
  });

  test('a revision like ../../x is refused before any request', CASE, async () => {
    const err = await failure(downloadModel(options({ revision: '../../x' })), 'bad-repo-id'); // hostile-path
    assert.match(err.message, /not a valid revision/);
    assert.equal(hub.requests.length, 0);
    assert.deepEqual(listTree(sandbox), []);
  });

  test('a cache folder that cannot be created (a file is in the way): exit 2 with the folder named', CASE, async () => {
    fs.mkdirSync(sandbox, { recursive: true });
    fs.writeFileSync(cacheDir, 'not a folder');
    const run = await runCli(['download', REPO, '--endpoint', hub.endpoint, '--cache', cacheDir]);
    assert.equal(run.code, 2, describeRun(run));
    assert.match(run.stderr, new RegExp(`Cannot write the model cache ${cacheDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*ENOTDIR.*--cache`));
    assert.doesNotMatch(run.stderr, /Internal error|\n\s+at /);
  });

  test('two downloads of the same model at once end with one good copy, fetched once', CASE, async () => {
    hub.faults.bytesPerSecond = { [GRAPH]: 150_000 };
    let second: Promise<DownloadResult> | undefined;
    const first = downloadModel(
      options({
        onProgress: (p) => {
          if (p.file === GRAPH && p.fileBytes > 0 && !second) second = downloadModel(options());
        },
      }),
    );
    const a = await first;
    assert.ok(second, 'the second download started while the first was fetching the graph');
    const b = await second;
    assert.equal(a.fromCache, false);
    assert.equal(b.fromCache, true, 'the second one waited and used the first one\'s copy');
    assert.equal(b.path, a.path);
    await assertOneGoodCopy(a);
    assert.equal(hub.requestedFiles().filter((f) => f === GRAPH).length, 1);
  });

  for (const [signal, what] of [['SIGTERM', 'SIGTERM'], ['SIGHUP', 'SIGHUP (the terminal closed)']] as const) {
    test(`${what} during a CLI download: exit 130, no partial file left`, CASE, async () => {
      hub.faults.bytesPerSecond = { [GRAPH]: 20_000 };
      let stopWatching = (): void => undefined;
      const run = await runCli(['download', REPO, '--endpoint', hub.endpoint, '--cache', cacheDir], {
        env: { HF_TOKEN: undefined, HUGGING_FACE_HUB_TOKEN: undefined },
        onSpawn: (child) => {
          stopWatching = untilFileAppears(sandbox, /model\.onnx\.part-/, () => child.kill(signal));
        },
      });
      stopWatching();
      assert.equal(run.code, 130, describeRun(run));
      assert.match(run.stderr, /interrupted/i);
      await assertNothingKept();
    });
  }

  test('a download killed outright (SIGKILL) leaves a stale lock; the next one takes over and finishes clean', CASE, async () => {
    hub.faults.bytesPerSecond = { [GRAPH]: 20_000 };
    let stopWatching = (): void => undefined;
    const run = await runCli(['download', REPO, '--endpoint', hub.endpoint, '--cache', cacheDir], {
      onSpawn: (child) => {
        stopWatching = untilFileAppears(sandbox, /model\.onnx\.part-/, () => child.kill('SIGKILL'));
      },
    });
    stopWatching();
    assert.equal(run.signal, 'SIGKILL', describeRun(run));
    assert.ok(fs.existsSync(modelLockFile(modelDir())), 'the killed download left its lock');
    assert.ok(listTree(sandbox).some((f) => f.includes('.part-')), 'and its partial file');
    hub.faults.bytesPerSecond = {};
    const result = await downloadModel(options());
    assert.equal(result.fromCache, false);
    await assertOneGoodCopy(result);
  });
});
