// Fault campaign: damaged and hostile model files. Each case: the CLI exits 2 with a message naming the
// file and the problem, within a deadline; the engine process answers with a model error instead of dying
// or hanging, keeps serving the next request, and its peak memory stays bounded. One test per case.
import { after, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EngineClient, EngineError } from '../../../src/engine/process/engineClient';
import { parseOnnxModel } from '../../../src/engine/model/onnxProto';
import { seededBytes } from '../../support/fakeHub';
import { fixtureModel, REPO_ROOT } from '../../support/fixtureModels';
import { tempDir } from '../../support/tempFolders';
import { describeRun, runCli } from '../cli/cliProcess';
import { GRAPHS } from '../model/referenceFixtures';

const ENTRY = path.join(REPO_ROOT, 'out', 'src', 'engine', 'process', 'engineMain.js');
const TEXT = 'a good story';
/** Peak resident memory allowed to the engine process while it refuses a file; opening and running the fixture takes about 90 MiB. */
const PEAK_RSS_BOUND_MIB = 256;
/** No case may take longer: a hang fails here. */
const CASE = { timeout: 120_000 };

const engines: EngineClient[] = [];
after(() => engines.forEach((e) => e.dispose()));

/** A copy of a fixture model folder with its graph damaged by `damage` (given the graph's path and the folder). */
function damagedCopy(damage: (graph: string, dir: string) => void, base = 'bert-cls-op14'): { dir: string; graph: string } {
  const dir = path.join(tempDir('fault'), 'model');
  fs.cpSync(fixtureModel(base), dir, { recursive: true });
  const graph = path.join(dir, 'onnx', 'model.onnx');
  damage(graph, dir);
  return { dir, graph };
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Peak resident set size of a live process, in MiB (Linux: VmHWM). */
function peakRssMiB(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The whole check of one refused model: CLI exit 2 with `message`; the engine answers a model error with
 * `message` (at open, or at the first prediction), stays alive with bounded peak memory, and serves the
 * good fixture next.
 */
async function assertRefused(t: TestContext, dir: string, message: RegExp): Promise<void> {
  const run = await runCli(['predict', '--model', dir, TEXT], { timeoutMs: 60_000 });
  assert.equal(run.code, 2, describeRun(run));
  assert.match(run.stderr, message);
  assert.doesNotMatch(run.stderr, /Internal error|\n\s+at /, 'a message, not a stack trace');

  const engine = new EngineClient({ entry: ENTRY, requestTimeoutMs: 30_000 });
  engines.push(engine);
  let error: unknown;
  try {
    await engine.request('open', { modelPath: dir });
    await engine.request('predict', { text: TEXT });
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof EngineError, `the engine should refuse the model, got ${String(error)}`);
  assert.equal(error.code, 'model', error.message);
  assert.match(error.message, message);
  const pid = engine.pid;
  assert.ok(pid !== undefined, 'the engine process is still running');
  const peak = peakRssMiB(pid);
  if (peak !== undefined) {
    t.diagnostic(`engine peak RSS ${peak.toFixed(1)} MiB`);
    assert.ok(peak < PEAK_RSS_BOUND_MIB, `engine peak RSS ${peak.toFixed(1)} MiB`);
  }
  await engine.request('open', { modelPath: fixtureModel('bert-cls-op14') });
  const good = await engine.request('predict', { text: TEXT });
  assert.equal(good.candidates.length, 2);
  assert.equal(engine.pid, pid, 'the same engine process served the next request');
  assert.equal(engine.starts, 1);
  engine.dispose();
}

/** "<file> is not a valid ONNX model (truncated at byte …)", malformed, or holding no graph. */
function invalidOnnx(graph: string, how = '(truncated|malformed) at byte \\d+ of \\d+|no (graph|IR version) found in \\d+ bytes'): RegExp {
  return new RegExp(`${escape(graph)} is not a valid ONNX model \\(${how}\\); re-export or re-download it`);
}

function truncateAt(graph: string, at: (size: number) => number): void {
  const bytes = fs.readFileSync(graph);
  fs.writeFileSync(graph, bytes.subarray(0, at(bytes.length)));
}

describe('fault campaign: model files', () => {
  const points: [string, (n: number) => number][] = [
    ['1 byte', () => 1],
    ['2 bytes', () => 2],
    ['16 bytes', () => 16],
    ['100 bytes', () => 100],
    ['1,000 bytes', () => 1000],
    ['10 %', (n) => Math.floor(n * 0.1)],
    ['25 %', (n) => Math.floor(n * 0.25)],
    ['50 %', (n) => Math.floor(n * 0.5)],
    ['90 %', (n) => Math.floor(n * 0.9)],
    ['all but the last byte', (n) => n - 1],
  ];
  for (const [where, at] of points) {
    test(`truncated after ${where}`, CASE, async (t) => {
      const { dir, graph } = damagedCopy((g) => truncateAt(g, at));
      await assertRefused(t, dir, invalidOnnx(graph));
    });
  }

  test('random bytes of the same size', CASE, async (t) => {
    const { dir, graph } = damagedCopy((g) => fs.writeFileSync(g, seededBytes(7, fs.statSync(g).size)));
    await assertRefused(t, dir, invalidOnnx(graph));
  });

  test('1,000 random single-bit flips: each loads or is refused with a model error naming the file', { timeout: 600_000 }, async (t) => {
    const { dir, graph } = damagedCopy(() => undefined, 'and-bow');
    const original = fs.readFileSync(graph);
    const engine = new EngineClient({ entry: ENTRY, requestTimeoutMs: 30_000 });
    engines.push(engine);
    const outcomes = new Map<string, number>();
    const refusedSamples: number[] = [];
    const flips = seededBytes(11, 4 * 1000);
    const bits = original.length * 8;
    for (let i = 0; i < 1000; i++) {
      const bit = flips.readUInt32LE(i * 4) % bits;
      const flipped = Buffer.from(original);
      flipped[bit >> 3] ^= 1 << (bit & 7);
      fs.writeFileSync(graph, flipped);
      let outcome = 'ran';
      try {
        await engine.request('open', { modelPath: dir });
        await engine.request('predict', { text: 'not good' });
      } catch (e) {
        assert.ok(e instanceof EngineError, String(e));
        assert.equal(e.code, 'model', `flip of bit ${bit}: ${e.message}`);
        assert.ok(e.message.includes(dir), `flip of bit ${bit}: the message names the file: ${e.message}`);
        outcome = /not a valid ONNX model/.test(e.message) ? 'not valid ONNX' : /ONNX Runtime/.test(e.message) ? 'refused by ONNX Runtime' : 'refused by a model check';
        if (refusedSamples.length < 3 || (outcome !== 'not valid ONNX' && refusedSamples.length < 6)) refusedSamples.push(bit);
      }
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    t.diagnostic(`outcomes: ${[...outcomes].map(([k, v]) => `${k} ${v}`).join(', ')}`);
    assert.equal(engine.starts, 1, 'the engine never crashed');
    const peak = peakRssMiB(engine.pid!);
    if (peak !== undefined) {
      t.diagnostic(`engine peak RSS after 1,000 models ${peak.toFixed(1)} MiB`);
      assert.ok(peak < PEAK_RSS_BOUND_MIB, `engine peak RSS ${peak.toFixed(1)} MiB`);
    }
    engine.dispose();
    // The CLI exits 2 on a few of the refused ones.
    for (const bit of refusedSamples.slice(0, 3)) {
      const flipped = Buffer.from(original);
      flipped[bit >> 3] ^= 1 << (bit & 7);
      fs.writeFileSync(graph, flipped);
      const run = await runCli(['predict', '--model', dir, 'not good'], { timeoutMs: 60_000 });
      assert.equal(run.code, 2, describeRun(run));
      assert.ok(run.stderr.includes(dir), describeRun(run));
    }
  });

  test('a protobuf field claiming a length of 2^60 bytes', CASE, async (t) => {
    const { dir, graph } = damagedCopy((g) => {
      const bytes = new Uint8Array(fs.readFileSync(g));
      const { graphField } = parseOnnxModel(bytes);
      // The graph field's tag, then a ten-byte varint of 2^60 in place of its real length.
      const huge = [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10];
      fs.writeFileSync(g, Buffer.concat([bytes.subarray(0, graphField.start + 1), Buffer.from(huge), bytes.subarray(graphField.contentStart)]));
    });
    await assertRefused(t, dir, invalidOnnx(graph, 'truncated at byte \\d+ of \\d+'));
  });

  test('an initializer claiming 2^40 × 4 elements with data for 1,000 × 4', CASE, async (t) => {
    const { dir, graph } = damagedCopy((g) => fs.copyFileSync(path.join(GRAPHS, 'huge-dims', 'model.onnx'), g));
    await assertRefused(
      t,
      dir,
      new RegExp(`${escape(graph)} is damaged: its tensor "emb" declares 4,398,046,511,104 elements \\(\\[1099511627776, 4\\]\\) of float32, which take 17,592,186,044,416 bytes, but holds 16,000`),
    );
  });

  test('a zero-byte file', CASE, async (t) => {
    const { dir, graph } = damagedCopy((g) => fs.writeFileSync(g, Buffer.alloc(0)));
    await assertRefused(t, dir, invalidOnnx(graph, 'truncated at byte 0 of 0'));
  });

  test('a folder named model.onnx', CASE, async (t) => {
    const { dir, graph } = damagedCopy((g) => {
      fs.rmSync(g);
      fs.mkdirSync(g);
    });
    await assertRefused(t, dir, new RegExp(`${escape(graph)} is a folder, not a regular file`));
  });

  test('a symbolic link loop named model.onnx', CASE, async (t) => {
    const { dir, graph } = damagedCopy((g) => {
      fs.rmSync(g);
      fs.symlinkSync('model.onnx', g);
    });
    await assertRefused(t, dir, new RegExp(`${escape(graph)} is a symbolic link that leads back to itself \\(a link loop\\)`));
  });

  test('model.onnx as a link to /dev/zero: refused at once, memory stays bounded', CASE, async (t) => {
    const { dir, graph } = damagedCopy((g) => {
      fs.rmSync(g);
      fs.symlinkSync('/dev/zero', g);
    });
    await assertRefused(t, dir, new RegExp(`${escape(graph)} is a character device \\(like /dev/zero\\), not a regular file`));
  });

  test('model.onnx as a named pipe (FIFO): refused at once instead of waiting for a writer', CASE, async (t) => {
    const { dir, graph } = damagedCopy((g) => {
      fs.rmSync(g);
      execFileSync('mkfifo', [g]);
    });
    await assertRefused(t, dir, new RegExp(`${escape(graph)} is a named pipe \\(FIFO\\), not a regular file`));
  });

  test('the model path given is itself a named pipe', CASE, async (t) => {
    const pipe = path.join(tempDir('fault-pipe'), 'model.onnx');
    execFileSync('mkfifo', [pipe]);
    await assertRefused(t, pipe, new RegExp(`${escape(pipe)} is a named pipe \\(FIFO\\), not a model folder or an \\.onnx file`));
  });

  /** Rewrites the external-data location "model.onnx_data" (15 bytes) to another string of 15 bytes. */
  function relocateExternalData(graph: string, location: string): void {
    assert.equal(location.length, 'model.onnx_data'.length);
    const bytes = fs.readFileSync(graph);
    const at = bytes.indexOf('model.onnx_data');
    assert.ok(at > 0);
    bytes.write(location, at, 'latin1');
    fs.writeFileSync(graph, bytes);
  }

  test('external data pointing above the model folder (../../…) is refused', CASE, async (t) => {
    const { dir, graph } = damagedCopy((g, d) => {
      relocateExternalData(g, '../../secret.da'); // hostile-path
      fs.copyFileSync(path.join(d, 'onnx', 'model.onnx_data'), path.join(d, '..', 'secret.da'));
    }, 'additive-bow-external');
    await assertRefused(t, dir, new RegExp(`${escape(graph)} refers to external data "\\.\\./\\.\\./secret\\.da" outside the model folder`)); // hostile-path
  });

  test('external data at an absolute path (/proc/self/maps) is refused', CASE, async (t) => {
    const { dir, graph } = damagedCopy((g) => relocateExternalData(g, '/proc/self/maps'), 'additive-bow-external');
    await assertRefused(t, dir, new RegExp(`${escape(graph)} refers to external data "/proc/self/maps" by an absolute path`));
  });

  test('an external-data file that is a named pipe is refused instead of waited on', CASE, async (t) => {
    const { dir, graph } = damagedCopy((g) => {
      const data = path.join(path.dirname(g), 'model.onnx_data');
      fs.rmSync(data);
      execFileSync('mkfifo', [data]);
    }, 'additive-bow-external');
    const data = path.join(path.dirname(graph), 'model.onnx_data');
    await assertRefused(t, dir, new RegExp(`${escape(data)} is a named pipe \\(FIFO\\), not a regular file`));
  });

  test('an external-data file shorter than the weights it should hold', CASE, async (t) => {
    const { dir, graph } = damagedCopy((g) => truncateAt(path.join(path.dirname(g), 'model.onnx_data'), (n) => n - 100), 'additive-bow-external');
    await assertRefused(t, dir, new RegExp(`${escape(graph)} reads up to byte 3600 of its external data file "model\\.onnx_data", which has only 3500 bytes`));
  });

  test('a graph without input_ids', CASE, async (t) => {
    const { dir, graph } = damagedCopy((g) => fs.copyFileSync(path.join(GRAPHS, 'not-transformer', 'model.onnx'), g));
    await assertRefused(t, dir, new RegExp(`${escape(graph)} is not a transformer text model: it has no input_ids input \\(its inputs: features \\[batch, 4\\]\\)`));
  });

  test('token ids declared as strings', CASE, async (t) => {
    const { dir, graph } = damagedCopy((g) => fs.copyFileSync(path.join(GRAPHS, 'string-token-ids', 'model.onnx'), g));
    await assertRefused(t, dir, new RegExp(`${escape(graph)} declares its input input_ids as string; ONNX Lens feeds it as int64 or int32 or float32`));
  });

  test('token ids declared as float32 are fed as floats and give the closed-form logits', CASE, async () => {
    const { dir } = damagedCopy((g) => fs.copyFileSync(path.join(GRAPHS, 'float-token-ids', 'model.onnx'), g));
    const run = await runCli(['predict', '--model', dir, '--json', TEXT], { timeoutMs: 60_000 });
    assert.equal(run.code, 0, describeRun(run));
    const p = JSON.parse(run.stdout) as { candidates: { id: number; logit: number }[]; encoded: { tokens: { id: number }[] } };
    // The graph (scripts/fixtures/make_graph_cases.py, bag_classifier): emb[r][c] = ((4r + c) mod 7 − 3) / 10,
    // logits = mean over tokens of emb[id] · W.
    const w = [[0.5, -0.5], [0.25, 0], [-0.25, 0.5], [0, 1]];
    const ids = p.encoded.tokens.map((tok) => tok.id);
    const pooled = [0, 1, 2, 3].map((c) => ids.reduce((sum, id) => sum + ((((4 * id + c) % 7) - 3) / 10), 0) / ids.length);
    for (const k of [0, 1]) {
      const expected = pooled.reduce((sum, x, c) => sum + x * w[c][k], 0);
      const got = p.candidates.find((cand) => cand.id === k)!.logit;
      assert.ok(Math.abs(got - expected) < 1e-5, `logit ${k}: ${got} vs ${expected}`);
    }
  });

  test('logits declared as int64', CASE, async (t) => {
    const { dir, graph } = damagedCopy((g) => fs.copyFileSync(path.join(GRAPHS, 'integer-logits', 'model.onnx'), g));
    await assertRefused(t, dir, new RegExp(`${escape(graph)} declares its output logits as int64; ONNX Lens reads scores as float32, float16, float64`));
  });
});
