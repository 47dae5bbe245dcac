import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { EngineClient, EngineError } from '../../../src/engine/process/engineClient';
import { fixtureModel, REPO_ROOT } from '../../support/fixtureModels';

const ENTRY = path.join(REPO_ROOT, 'out', 'src', 'engine', 'process', 'engineMain.js');

function client(options: Partial<ConstructorParameters<typeof EngineClient>[0]> = {}): EngineClient {
  return new EngineClient({ entry: ENTRY, ...options });
}

const clients: EngineClient[] = [];
after(() => clients.forEach((c) => c.dispose()));

async function expectEngineError(p: Promise<unknown>, code: string, pattern: RegExp): Promise<EngineError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof EngineError, `expected an EngineError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, pattern);
    return e;
  }
  assert.fail('expected the request to fail');
}

describe('engine process', () => {
  test('runs requests in a separate process and answers with typed arrays', async () => {
    const engine = client();
    clients.push(engine);
    const card = await engine.request('open', { modelPath: fixtureModel('bert-cls-op14') });
    assert.equal(card.family, 'bert');
    assert.notEqual(engine.pid, process.pid);
    const result = await engine.request('attention', { text: 'a great story' });
    assert.ok(result.attentions[0].data instanceof Float32Array, 'attention crosses the process boundary as Float32Array');
    assert.deepEqual(result.attentions[0].shape, [1, 4, 5, 5]);
  });

  test('a killed engine is reported, and the next request starts a fresh one that reopens the model', async () => {
    const states: string[] = [];
    const engine = client({ onStateChange: (s) => states.push(s) });
    clients.push(engine);
    await engine.request('open', { modelPath: fixtureModel('bert-cls-op14') });
    const first = await engine.request('predict', { text: 'this film was not good' });
    const pid = engine.pid!;
    // A request long enough to be in flight when the process dies.
    const pending = engine.request('explain', { text: 'one two three four five six seven eight nine ten eleven twelve', method: 'kernel-shap', budget: 60000 }, { onProgress: () => process.kill(pid, 'SIGKILL') });
    await expectEngineError(pending, 'crash', /engine process was killed.*restarts on the next request/);
    assert.ok(states.includes('crashed'));
    const again = await engine.request('predict', { text: 'this film was not good' });
    assert.notEqual(engine.pid, pid);
    assert.equal(engine.starts, 2);
    assert.deepEqual(again.candidates.map((c) => c.label), first.candidates.map((c) => c.label));
    assert.ok(Math.abs(again.candidates[0].probability - first.candidates[0].probability) < 1e-6);
  });

  test('a crash inside the engine (native or out of memory) is reported the same way', async () => {
    const engine = client();
    clients.push(engine);
    await engine.request('open', { modelPath: fixtureModel('bert-cls-op14') });
    await expectEngineError(engine.request('crash', {}), 'crash', /killed \(SIGKILL\)/);
    const p = await engine.request('predict', { text: 'fine' });
    assert.equal(p.candidates.length, 2);
  });

  test('cancel stops a long explanation and the engine stays up', async () => {
    const engine = client();
    clients.push(engine);
    await engine.request('open', { modelPath: fixtureModel('bert-cls-op14') });
    const pid = engine.pid;
    const controller = new AbortController();
    let progressEvents = 0;
    let abortedAt = 0;
    const long = engine.request(
      'explain',
      { text: 'one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen', method: 'kernel-shap', budget: 60000, seed: 1 },
      {
        signal: controller.signal,
        onProgress: () => {
          progressEvents++;
          if (!abortedAt) abortedAt = Date.now();
          controller.abort();
        },
      },
    );
    await expectEngineError(long, 'cancelled', /Cancelled/);
    const stoppedAfter = Date.now() - abortedAt;
    assert.ok(progressEvents >= 1);
    assert.equal(engine.pid, pid, 'a soft cancel keeps the engine process');
    const p = await engine.request('predict', { text: 'still here' });
    assert.equal(p.candidates.length, 2);
    // The engine stops between two batches; the grace period before a hard kill is 5 s.
    assert.ok(stoppedAfter < 4000, `cancel took ${stoppedAfter} ms`);
  });

  test('a request past its timeout kills the engine, says so, and the next request works', async () => {
    const engine = client();
    clients.push(engine);
    await engine.request('open', { modelPath: fixtureModel('bert-cls-op14') });
    const text = Array.from({ length: 14 }, (_, i) => `word${i}`).join(' ');
    await expectEngineError(engine.request('explain', { text, method: 'exact-shapley' }, { timeoutMs: 50 }), 'timeout', /longer than .* and was stopped/);
    const p = await engine.request('predict', { text: 'after the timeout' });
    assert.equal(p.candidates.length, 2);
  });

  test('bad input gets a message that names the problem and the fix', async () => {
    const engine = client();
    clients.push(engine);
    await expectEngineError(engine.request('predict', { text: 'no model yet' }), 'bad-input', /No model is open.*Open a model/);
    await engine.request('open', { modelPath: fixtureModel('bert-cls-op14') });
    await expectEngineError(engine.request('predict', { text: '   \n\t' }), 'bad-input', /text is empty.*Select some text/);
    // A text far longer than the model reads is cut, and the result says where.
    const huge = await engine.request('predict', { text: 'good film '.repeat(10_000) });
    assert.match(huge.encoded.truncation?.message ?? '', /limit of 64 tokens: only its first \d+ characters are analysed; the last [\d,]+ characters/);
    const long = await engine.request('predict', { text: Array.from({ length: 200 }, () => 'good').join(' ') });
    assert.match(long.encoded.truncation?.message ?? '', /limit of 64 tokens: the last \d+ tokens/);

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-lens-bad-'));
    try {
      fs.copyFileSync(path.join(fixtureModel('bert-cls-op14'), 'tokenizer.json'), path.join(dir, 'tokenizer.json'));
      const good = fs.readFileSync(path.join(fixtureModel('bert-cls-op14'), 'onnx', 'model.onnx'));
      fs.writeFileSync(path.join(dir, 'model.onnx'), good.subarray(0, Math.floor(good.length / 2)));
      await expectEngineError(engine.request('open', { modelPath: dir }), 'model', /not a valid ONNX model.*re-export or re-download/i);
      fs.rmSync(path.join(dir, 'tokenizer.json'));
      fs.writeFileSync(path.join(dir, 'model.onnx'), good);
      await expectEngineError(engine.request('open', { modelPath: dir }), 'model', /tokenizer\.json/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
