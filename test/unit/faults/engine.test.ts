// The engine under stress, through the same client the editor and the command line use: a killed process,
// concurrent requests, an absurd budget cancelled, and requests too large for memory.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { EngineClient, EngineError } from '../../../src/engine/process/engineClient';
import type { ExplainParams, ExplanationResult, ProgressEvent } from '../../../src/protocol/engineApi';
import { DEMO_MODEL, REPO_ROOT } from '../../support/fixtureModels';
import { rejectionOf } from '../../support/rejection';

const ENTRY = path.join(REPO_ROOT, 'out', 'src', 'engine', 'process', 'engineMain.js');
const clients: EngineClient[] = [];
after(() => clients.forEach((c) => c.dispose()));

function client(options: Partial<ConstructorParameters<typeof EngineClient>[0]> = {}): EngineClient {
  const c = new EngineClient({ entry: ENTRY, ...options });
  clients.push(c);
  return c;
}

const rejection = (p: Promise<unknown>) => rejectionOf(p, EngineError);

/** A kilobyte figure of /proc/PID/status (VmRSS, VmHWM), or undefined where there is no /proc. */
function procKb(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Sets the process's peak resident size back to its current size (Linux), so VmHWM then measures one request. */
function resetPeak(pid: number): boolean {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

const SENTENCE = 'the plot was thin and slow, but the acting was superb and the music stayed with me for days';
const LONG = Array.from({ length: 5 }, () => SENTENCE).join(' ; ');

describe('the engine under stress', () => {
  test('SIGKILL of the engine mid-explanation: the caller gets one clear message, and the next request works', async () => {
    const logs: string[] = [];
    const states: string[] = [];
    const engine = client({ onLog: (m) => logs.push(m), onStateChange: (s) => states.push(s) });
    await engine.request('open', { modelPath: DEMO_MODEL });
    const pid = engine.pid!;
    let killed = false;
    const params: ExplainParams = { text: LONG, method: 'kernel-shap', budget: 20_000, seed: 2 };
    const err = await rejection(
      engine.request('explain', params, {
        onProgress: () => {
          if (!killed) process.kill(pid, 'SIGKILL');
          killed = true;
        },
      }),
    );
    assert.equal(err.code, 'crash');
    assert.match(err.message, /^The engine process was killed \(SIGKILL\) — often a native crash or running out of memory\. It restarts on the next request and reopens the model\./);
    assert.doesNotMatch(err.message, /\n|\bat .*\.js:\d+/, 'no stack trace');
    assert.equal(logs.filter((l) => /was killed/.test(l)).length, 1, 'said once');
    assert.equal(states.filter((s) => s === 'crashed').length, 1);
    const small = { ...params, budget: 300 };
    const again = await engine.request('explain', small);
    assert.notEqual(engine.pid, pid);
    assert.equal(engine.starts, 2);
    const fresh = client();
    await fresh.request('open', { modelPath: DEMO_MODEL });
    const reference = await fresh.request('explain', small);
    assert.deepEqual(again.features.map((f) => f.value), reference.features.map((f) => f.value));
  });

  test('four explanations at once on one engine: each completes with the values it has alone', async () => {
    const requests: ExplainParams[] = [
      { text: 'the plot was thin, but the acting was superb', method: 'kernel-shap', budget: 300, seed: 1 },
      // The same text as the first: rows it shares come from the cache, so the batches differ from a lone run.
      { text: 'the plot was thin, but the acting was superb', method: 'partition-shap', budget: 200 },
      { text: 'i would not watch it again', method: 'lime', budget: 400, seed: 5 },
      { text: 'not good at all', method: 'exact-shapley' },
    ];
    for (const variant of ['fp32', 'quantized']) {
      const alone: ExplanationResult[] = [];
      for (const p of requests) {
        const one = client();
        await one.request('open', { modelPath: DEMO_MODEL, variant });
        alone.push(await one.request('explain', p));
        one.dispose();
      }
      const engine = client();
      await engine.request('open', { modelPath: DEMO_MODEL, variant });
      const partials: ProgressEvent[][] = requests.map(() => []);
      const together = await Promise.all(requests.map((p, i) => engine.request('explain', p, { onProgress: (e) => partials[i].push(e) })));
      together.forEach((r, i) => {
        assert.equal(r.text, requests[i].text);
        // fp32 rows batched with other rows differ from a lone run by float round-off only; int8 rows run alone.
        const tolerance = variant === 'fp32' ? 1e-5 : 0;
        r.features.forEach((f, j) => assert.ok(Math.abs(f.value - alone[i].features[j].value) <= tolerance, `${variant} request ${i} ${f.text}: ${f.value} vs ${alone[i].features[j].value}`));
        const words = r.features.map((f) => f.text).join(' ');
        for (const e of partials[i]) {
          const partial = e.partial as { features: { text: string }[] } | undefined;
          if (partial) assert.equal(partial.features.map((f) => f.text).join(' '), words, 'progress goes to its own request');
        }
      });
      engine.dispose();
    }
  });

  test('a budget of 10,000,000, then cancel: it stops promptly, the engine stays up, memory stays bounded', async () => {
    const engine = client();
    await engine.request('open', { modelPath: DEMO_MODEL });
    await engine.request('predict', { text: LONG });
    const pid = engine.pid!;
    const before = procKb(pid, 'VmRSS');
    const peakReset = resetPeak(pid);
    const controller = new AbortController();
    let events = 0;
    let firstMessage = '';
    const err = await rejection(
      engine.request('explain', { text: LONG, method: 'kernel-shap', budget: 10_000_000, seed: 1 }, {
        signal: controller.signal,
        onProgress: (e) => {
          events++;
          firstMessage ||= e.message ?? '';
          if (e.done > 1) controller.abort();
        },
      }),
    );
    assert.equal(err.code, 'cancelled');
    assert.ok(events >= 2);
    // The budget was clamped, and the first event said what the run would cost.
    assert.match(firstMessage, /^kernel-shap: about .+ for up to 100,\d{3} model evaluations$/);
    // A soft cancel that did not stop within the grace period would have killed the process.
    assert.equal(engine.pid, pid, 'stopped between two batches, not killed');
    const peak = procKb(pid, 'VmHWM');
    if (before !== undefined && peak !== undefined && peakReset) {
      const grewMb = (peak - before) / 1024;
      console.log(`engine peak resident size during the cancelled 10,000,000 budget: +${grewMb.toFixed(0)} MB`);
      assert.ok(grewMb < 512, `grew by ${grewMb.toFixed(0)} MB`);
    }
    const p = await engine.request('predict', { text: 'still here' });
    assert.equal(p.candidates.length, 2);
  });

  test('an explanation that would exceed memory is refused before it allocates, with the estimate in the message', async () => {
    const engine = client();
    await engine.request('open', { modelPath: DEMO_MODEL, options: { memoryLimitMb: 64 } });
    await engine.request('predict', { text: LONG });
    const pid = engine.pid!;
    const before = procKb(pid, 'VmRSS');
    const peakReset = resetPeak(pid);
    const err = await rejection(engine.request('explain', { text: LONG, method: 'kernel-shap', budget: 100_000 }));
    assert.equal(err.code, 'bad-input');
    const m = /^kernel-shap with a budget of 100,000 over (\d+) words \((\d+) tokens\) would need about (\d+) MB of memory, more than the engine's limit of 64 MB\. Lower the budget or select a shorter passage\.$/.exec(err.message);
    assert.ok(m, err.message);
    assert.ok(Number(m[3]) > 64);
    const peak = procKb(pid, 'VmHWM');
    if (before !== undefined && peak !== undefined && peakReset) assert.ok((peak - before) / 1024 < 16, `grew by ${((peak - before) / 1024).toFixed(1)} MB before refusing`);
    assert.equal(engine.pid, pid);
    const fits = await engine.request('explain', { text: LONG, method: 'kernel-shap', budget: 500 });
    assert.equal(fits.features.length, Number(m[1]));
  });

  test('attention too large for memory is refused before the run, with the estimate in the message', async () => {
    const engine = client();
    await engine.request('open', { modelPath: DEMO_MODEL, options: { memoryLimitMb: 1 } });
    const err = await rejection(engine.request('attention', { text: `${LONG} ${LONG} ${LONG}` }));
    assert.equal(err.code, 'bad-input');
    assert.match(err.message, /^The attention and hidden states of \d+ tokens × 2 layers × 4 heads would need about \d+ MB of memory, more than the engine's limit of 1 MB\. Select a shorter passage, or lower the maxTokens setting\.$/);
    const short = await engine.request('attention', { text: 'good' });
    assert.equal(short.attentions.length, 2);
  });

  test('evaluating more variants than fit in memory is refused before the run, with the estimate in the message', async () => {
    const engine = client();
    await engine.request('open', { modelPath: DEMO_MODEL, options: { memoryLimitMb: 2 } });
    const tokens = (await engine.request('tokenize', { text: SENTENCE })).tokens.length;
    const keep = Array.from({ length: 20_000 }, (_, i) => Uint8Array.from({ length: tokens }, (_x, t) => ((i >> t % 14) & 1) | Number(t === 0 || t === tokens - 1)));
    const err = await rejection(engine.request('evaluate', { text: SENTENCE, keep, removal: 'mask' }));
    assert.equal(err.code, 'bad-input');
    assert.match(err.message, /^Evaluating 20,000 variants with 2 logits each would need about \d+ MB of memory, more than the engine's limit of 2 MB\. Send fewer variants per request\.$/);
    const few = await engine.request('evaluate', { text: SENTENCE, keep: keep.slice(0, 8), removal: 'mask' });
    assert.equal(few.logits.length, 8);
  });
});
