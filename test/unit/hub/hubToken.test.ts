import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DownloadOptions, HubError, downloadModel, tokenFromEnvironment } from '../../../src/engine/model/hubDownload';
import { fakeHubPerTest, FakeHub, listTree } from '../../support/fakeHub';
import { rejectionOf } from '../../support/rejection';

const REPO = 'gated-org/tiny-bert';
const TOKEN = 'hf_SecretToken0123456789abcdef';

let hub: FakeHub;
let cacheDir: string;
fakeHubPerTest(REPO, 'cache', (each) => {
  ({ hub, folder: cacheDir } = each);
});

function options(extra: Partial<DownloadOptions> = {}): DownloadOptions {
  return { repo: REPO, variant: 'quantized', endpoint: hub.endpoint, cacheDir, token: TOKEN, timeoutMs: 5000, ...extra };
}

const rejection = (promise: Promise<unknown>) => rejectionOf(promise, HubError);

function assertNoToken(err: Error): void {
  assert.ok(!err.message.includes(TOKEN), `token in message: ${err.message}`);
  assert.ok(!String(err.stack).includes(TOKEN), 'token in stack');
  assert.ok(!JSON.stringify(err).includes(TOKEN), 'token in serialised error');
}

describe('access token', () => {
  test('reaches every hub request, including its relative redirect, and never the CDN host', async () => {
    hub.faults.requireToken = TOKEN;
    hub.faults.relativeRedirect = true;
    hub.faults.redirectToCdn = true;
    const result = await downloadModel(options());
    assert.ok(fs.existsSync(path.join(result.path, 'onnx', 'model_quantized.onnx')));

    const hubRequests = hub.requests.filter((r) => r.server === 'hub');
    const cdnRequests = hub.requests.filter((r) => r.server === 'cdn');
    assert.ok(hubRequests.some((r) => r.url.startsWith('/api/resolve-cache/')), 'the relative redirect was followed');
    assert.ok(cdnRequests.length > 0, 'the graph came from the CDN');
    for (const r of hubRequests) assert.equal(r.headers.authorization, `Bearer ${TOKEN}`, r.url);
    for (const r of cdnRequests) {
      assert.equal(r.headers.authorization, undefined, r.url);
      assert.ok(!JSON.stringify(r).includes(TOKEN), 'no header or URL carries the token to the CDN');
    }
  });

  test('a gated repository without a token is unauthorized and says how to get access', async () => {
    hub.faults.requireToken = TOKEN;
    const err = await rejection(downloadModel(options({ token: '' })));
    assert.equal(err.code, 'unauthorized');
    assert.equal(err.status, 401);
    assert.match(err.message, /gated-org\/tiny-bert/);
    assert.match(err.message, /HF_TOKEN/);
    assert.ok(hub.requests.every((r) => r.headers.authorization === undefined));
    assert.deepEqual(listTree(cacheDir).filter((f) => f.includes('.part-') || f.endsWith('.complete.json')), []);
  });

  test('a refused token is unauthorized and the message does not contain it', async () => {
    hub.faults.requireToken = 'hf_another';
    const err = await rejection(downloadModel(options()));
    assert.equal(err.code, 'unauthorized');
    assert.match(err.message, /token was refused/);
    assertNoToken(err);
  });

  test('the token never appears in the error of any failure', async () => {
    const faults: Array<() => void> = [
      () => (hub.faults.notFound = ['onnx/model_quantized.onnx']),
      () => (hub.faults.dropAfterBytes = { 'onnx/model_quantized.onnx': 1000 }),
      () => (hub.faults.stallAfterBytes = { 'onnx/model_quantized.onnx': 1000 }),
      () => (hub.faults.wrongSha256 = ['onnx/model_quantized.onnx']),
      () => (hub.faults.redirectLoop = true),
    ];
    for (const setFault of faults) {
      for (const key of Object.keys(hub.faults)) delete (hub.faults as Record<string, unknown>)[key];
      setFault();
      const err = await rejection(downloadModel(options({ timeoutMs: 300 })));
      assertNoToken(err);
    }
  });

  test('without an explicit token, HF_TOKEN is used, then HUGGING_FACE_HUB_TOKEN', async () => {
    assert.equal(tokenFromEnvironment({ HF_TOKEN: 'a', HUGGING_FACE_HUB_TOKEN: 'b' }), 'a');
    assert.equal(tokenFromEnvironment({ HUGGING_FACE_HUB_TOKEN: 'b' }), 'b');
    assert.equal(tokenFromEnvironment({ HF_TOKEN: '  ' }), undefined);
    assert.equal(tokenFromEnvironment({}), undefined);

    const saved = { a: process.env.HF_TOKEN, b: process.env.HUGGING_FACE_HUB_TOKEN };
    try {
      delete process.env.HF_TOKEN;
      process.env.HUGGING_FACE_HUB_TOKEN = TOKEN;
      hub.faults.requireToken = TOKEN;
      const { token: _unused, ...noToken } = options();
      const result = await downloadModel(noToken);
      assert.equal(result.fromCache, false);
      assert.ok(hub.requests.every((r) => r.headers.authorization === `Bearer ${TOKEN}`));
    } finally {
      for (const [key, value] of [['HF_TOKEN', saved.a], ['HUGGING_FACE_HUB_TOKEN', saved.b]] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });
});
