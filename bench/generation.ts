/**
 * Generation benchmark: tokens per second of the engine's generation with and without the key/value cache
 * against a raw onnxruntime loop doing the same steps, and the cost of the prompt-attribution matrix against
 * its model rows × the model's per-row time.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { BatchedEvaluator } from '../src/engine/run/batchedEvaluator';
import { rowKey, type InputRow } from '../src/engine/run/inputVariants';
import type { GenerationResult, MethodName } from '../src/protocol/engineApi';
import { generationFixture } from '../test/support/fixtureModels';
import { backToBack, cpuNow, fmt, log, median, now, printTable, REPO_ROOT, textOfWords } from './common';
import { openService, QUIET } from '../test/support/engineService';

const DECODER_ENV = 'ONNX_LENS_BENCH_DECODER';

interface DecoderModel {
  name: string;
  folder: string;
  variant?: string;
  onnx: string;
}

/** The Llama-style benchmark decoder (bench/make_bench_decoder.py) in a temporary folder, or ONNX_LENS_BENCH_DECODER. */
function benchDecoder(): DecoderModel {
  let folder = process.env[DECODER_ENV];
  if (!folder) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-lens-bench-decoder-'));
    process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
    folder = path.join(dir, 'decoder');
    process.stderr.write('writing the benchmark decoder (4 × 256, GPT-2 vocabulary, ~115 MB)…\n');
    const r = spawnSync('/usr/bin/python3', [path.join(REPO_ROOT, 'bench', 'make_bench_decoder.py'), folder], { stdio: ['ignore', process.stderr, 'inherit'] });
    if (r.status !== 0) throw new Error(`make_bench_decoder.py failed (exit ${r.status})`);
  }
  return { name: 'Llama-style 4 × 256, vocabulary 50,257 (random weights)', folder, onnx: path.join(folder, 'onnx', 'model.onnx') };
}

/** Empty past key/values of a session's inputs, as a raw loop feeds them. */
function emptyPast(session: ort.InferenceSession, model: DecoderModel): Record<string, ort.Tensor> {
  const out: Record<string, ort.Tensor> = {};
  const meta = session.inputMetadata as unknown as { name: string; isTensor: boolean; type?: string; shape?: (number | string)[] }[];
  for (const m of meta) {
    if (!/^past_key_values\./.test(m.name)) continue;
    const shape = m.shape ?? [];
    const half = m.type === 'float16' || model.variant === 'fp16';
    out[m.name] = new ort.Tensor(half ? 'float16' : 'float32', half ? new Uint16Array(0) : new Float32Array(0), [1, Number(shape[1]), 0, Number(shape[3])]);
  }
  return out;
}

function argmaxLast(logits: ort.Tensor): number {
  const v = logits.dims[2];
  const s = logits.dims[1];
  const data = logits.data as Float32Array;
  const o = (s - 1) * v;
  let best = 0;
  for (let i = 1; i < v; i++) if (data[o + i] > data[o + best]) best = i;
  return best;
}

/** The raw onnxruntime loop: greedy steps, presents fed back as the next past (or the whole sequence each step). */
async function rawLoop(session: ort.InferenceSession, model: DecoderModel, prompt: number[], steps: number, cache: boolean): Promise<number[]> {
  const ids = [...prompt];
  let past = emptyPast(session, model);
  let fed = 0;
  const out: number[] = [];
  for (let step = 0; step < steps; step++) {
    const feed = cache ? ids.slice(fed) : ids;
    const total = ids.length;
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(feed.map(BigInt)), [1, feed.length]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(total).fill(1n), [1, total]),
      ...(cache ? past : emptyPast(session, model)),
    };
    if (session.inputNames.includes('position_ids')) feeds.position_ids = new ort.Tensor('int64', BigInt64Array.from(feed.map((_, i) => BigInt(total - feed.length + i))), [1, feed.length]);
    if (session.inputNames.includes('use_cache_branch')) feeds.use_cache_branch = new ort.Tensor('bool', Uint8Array.of(cache && fed > 0 ? 1 : 0), [1]);
    const result = await session.run(feeds);
    if (cache) {
      past = {};
      for (const name of session.inputNames) {
        const m = /^past_key_values\.(\d+)\.(key|value)$/.exec(name);
        if (m) past[name] = result[`present.${m[1]}.${m[2]}`];
      }
      fed = total;
    }
    const next = argmaxLast(result.logits);
    out.push(next);
    ids.push(next);
  }
  return out;
}

async function tokensPerSecond(model: DecoderModel, prompt: string, newTokens: number, repeats: number): Promise<(string | number)[]> {
  const service = await openService({ modelPath: model.folder, variant: model.variant });
  const session = await ort.InferenceSession.create(model.onnx, { graphOptimizationLevel: 'all' });
  const probe = await service.handle('generate', { prompt, maxNewTokens: newTokens }, QUIET);
  const promptIds = probe.promptTokens.map((t) => t.id);
  const steps = probe.tokens.length;
  const raw = await rawLoop(session, model, promptIds, steps, true);
  const same = raw.join() === probe.tokens.map((t) => t.id).join();
  const engine = (useCache: boolean) => async () => {
    const r: GenerationResult = await service.handle('generate', { prompt, maxNewTokens: steps, useCache }, QUIET);
    if (r.tokens.length !== steps) throw new Error('the engine stopped early');
  };
  const withCache = await backToBack(repeats, engine(true), () => rawLoop(session, model, promptIds, steps, true));
  const without = await backToBack(repeats, engine(false), () => rawLoop(session, model, promptIds, steps, false));
  const perSecond = (ms: number) => (steps / ms) * 1000;
  await session.release();
  service.dispose();
  return [
    model.name + (model.variant ? ` (${model.variant})` : ''),
    promptIds.length,
    steps,
    fmt(perSecond(withCache.a), 1),
    fmt(perSecond(withCache.b), 1),
    fmt(median(withCache.ratios.map((r) => 1 / r)), 2),
    fmt(median(withCache.cpuRatios.map((r) => 1 / r)), 2),
    fmt(perSecond(without.a), 1),
    fmt(perSecond(without.b), 1),
    fmt(median(without.ratios.map((r) => 1 / r)), 2),
    fmt(without.a / withCache.a, 2),
    same ? 'yes' : 'no',
  ];
}

/** Records the rows every BatchedEvaluator runs while `body` runs. */
async function recordingRows<T>(body: () => Promise<T>): Promise<{ value: T; rows: InputRow[] }> {
  const proto = BatchedEvaluator.prototype;
  const original = proto.evaluate;
  const rows = new Map<string, InputRow>();
  proto.evaluate = async function (this: BatchedEvaluator, r: InputRow[], extractor: never, control?: never) {
    for (const row of r) rows.set(rowKey(row), row);
    return original.call(this, r, extractor, control);
  } as typeof original;
  try {
    return { value: await body(), rows: [...rows.values()] };
  } finally {
    proto.evaluate = original;
  }
}

/** Per-row time of the plain session over these rows, longest first, in padded batches within a logits budget. */
async function floorPerRow(session: ort.InferenceSession, model: DecoderModel, rows: InputRow[], vocab: number): Promise<{ ms: number; cpu: number }> {
  const sorted = [...rows].sort((a, b) => b.ids.length - a.ids.length);
  const budget = Math.max(64, Math.min(8192, Math.floor((128 * 1024 * 1024) / (vocab * 4))));
  const batches: ort.InferenceSession.FeedsType[] = [];
  for (let i = 0; i < sorted.length; ) {
    const width = sorted[i].ids.length;
    const take = Math.max(1, Math.floor(budget / width));
    const slice = sorted.slice(i, i + take);
    i += slice.length;
    const n = slice.length;
    const ids = new BigInt64Array(n * width);
    const mask = new BigInt64Array(n * width);
    const pos = new BigInt64Array(n * width);
    slice.forEach((r, b) => {
      let p = 0;
      r.ids.forEach((id, t) => {
        ids[b * width + t] = BigInt(id);
        mask[b * width + t] = BigInt(r.attention[t]);
        pos[b * width + t] = BigInt(r.attention[t] ? p++ : 1);
      });
    });
    const past = emptyPast(session, model);
    for (const k of Object.keys(past)) past[k] = new ort.Tensor('float32', new Float32Array(0), [n, past[k].dims[1], 0, past[k].dims[3]]);
    batches.push({
      input_ids: new ort.Tensor('int64', ids, [n, width]),
      attention_mask: new ort.Tensor('int64', mask, [n, width]),
      ...(session.inputNames.includes('position_ids') ? { position_ids: new ort.Tensor('int64', pos, [n, width]) } : {}),
      ...past,
    });
  }
  const c = cpuNow();
  const t = now();
  for (const f of batches) await session.run(f);
  return { ms: (now() - t) / rows.length, cpu: (cpuNow() - c) / rows.length };
}

async function matrixCost(model: DecoderModel, prompt: string, newTokens: number, methods: { method: MethodName; budget?: number }[], repeats: number): Promise<(string | number)[][]> {
  const service = await openService({ modelPath: model.folder, variant: model.variant });
  const card = service.current!.card;
  const session = await ort.InferenceSession.create(model.onnx, { graphOptimizationLevel: 'all' });
  const gen = await service.handle('generate', { prompt, maxNewTokens: newTokens }, QUIET);
  const generated = gen.tokens.map((t) => t.id);
  const out: (string | number)[][] = [];
  for (const { method, budget } of methods) {
    const ratios: number[] = [];
    const cpuRatios: number[] = [];
    const walls: number[] = [];
    let rowsRun = 0;
    let words = 0;
    let floor = 0;
    for (let r = 0; r < repeats; r++) {
      const c = cpuNow();
      const t = now();
      const { value, rows } = await recordingRows(() => service.handle('explainGeneration', { prompt, generated, method, budget, inside: false }, QUIET));
      const ms = now() - t;
      const cpu = cpuNow() - c;
      const f = await floorPerRow(session, model, rows, card.vocabSize.value);
      rowsRun = rows.length;
      words = value.features.length;
      floor = f.ms;
      walls.push(ms);
      ratios.push(ms / (rows.length * f.ms));
      cpuRatios.push(cpu / (rows.length * f.cpu));
    }
    out.push([model.name, words, generated.length, method, budget ?? 'default', rowsRun, fmt(median(walls) / 1000, 2), fmt(floor, 2), fmt(median(ratios), 2), fmt(median(cpuRatios), 2)]);
    log(`${method}: ${rowsRun} rows, ${fmt(median(ratios), 2)} × floor`);
  }
  // Attention and the logit lens add one exposed run and the lens rows; their sessions are built on first use.
  await service.handle('explainGeneration', { prompt, generated, method: 'occlusion' }, QUIET);
  const inside = await backToBack(
    3,
    () => service.handle('explainGeneration', { prompt, generated, method: 'occlusion' }, QUIET),
    () => service.handle('explainGeneration', { prompt, generated, method: 'occlusion', inside: false }, QUIET),
    false,
  );
  log(`attention and logit lens at ${generated.length} positions: +${fmt(inside.a - inside.b, 0)} ms (${fmt(inside.a, 0)} ms with, ${fmt(inside.b, 0)} ms without)`);
  await session.release();
  service.dispose();
  return out;
}

export async function runGeneration(): Promise<void> {
  const decoder = benchDecoder();
  const llama = generationFixture('llama-gen');
  const models: DecoderModel[] = [
    decoder,
    { name: 'fixture llama-gen 2 × 64, vocabulary 693', folder: llama, onnx: path.join(llama, 'onnx', 'model.onnx') },
    { name: 'fixture llama-gen 2 × 64, vocabulary 693', folder: llama, variant: 'q4', onnx: path.join(llama, 'onnx', 'model_q4.onnx') },
  ];
  const rows: (string | number)[][] = [];
  for (const m of models) {
    const big = m === decoder;
    const prompt = big ? textOfWords(24, 1) : 'i loved this place and the food';
    rows.push(await tokensPerSecond(m, prompt, big ? 64 : 40, big ? 5 : 9));
    log(`tokens/s: ${m.name}${m.variant ? ` ${m.variant}` : ''} done`);
  }
  printTable(
    'Generation — tokens per second, the engine against a raw onnxruntime loop',
    ['model', 'prompt tokens', 'new tokens', 'engine tok/s (cache)', 'raw tok/s (cache)', 'engine ÷ raw (cache)', 'same in CPU time', 'engine tok/s (no cache)', 'raw tok/s (no cache)', 'engine ÷ raw (no cache)', 'cache speed-up (engine)', 'same tokens'],
    rows,
    [
      'Greedy generation of the same tokens. Engine: a `generate` request through the engine service in this process (tokenizing, the cache plumbing, log-probabilities and the 5 most likely alternatives per step, the streamed text). Raw: onnxruntime-node alone on the same graph, feeding presents back as past (or the whole sequence) and taking the argmax. Ratios are of tokens/s (1.0 = the raw loop; aim ≥ 0.9 with the cache), medians of alternating repeats.',
    ],
  );
  const matrix = await matrixCost(decoder, textOfWords(12, 2), 16, [{ method: 'occlusion' }, { method: 'kernel-shap', budget: 128 }, { method: 'partition-shap', budget: 128 }], 3);
  matrix.push(...(await matrixCost(models[1], 'the story is interesting and the characters are believable and funny', 10, [{ method: 'occlusion' }, { method: 'kernel-shap', budget: 128 }], 5)));
  printTable(
    'Generation — the prompt-attribution matrix against its model rows',
    ['model', 'prompt words', 'generated tokens', 'method', 'budget', 'rows run', 'wall s', 'floor ms/row', 'wall ÷ (rows × floor)', 'same in CPU time'],
    matrix,
    [
      'One `explainGeneration` request (every generated token, the whole sequence, no attention or lens), from a cold cache. `floor`: the same distinct rows (prompt with words deleted, then the continuation) through a plain onnxruntime session, longest first, in padded batches within the same 128 MB logits budget, per row. 1.0 = the model alone (aim ≤ 1.3).',
    ],
  );
}
