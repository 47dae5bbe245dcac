/**
 * Shared pieces of the benchmarks: the models they run, the sentences they read, a plain onnxruntime
 * session to compare against, timing and markdown tables.
 *
 * Absolute times depend on the machine and on what else it runs, so every figure the benchmarks report
 * is a ratio of two sides measured back to back in the same process (the sides alternate, medians over
 * repeats).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { padRows } from '../src/engine/run/batchedEvaluator';
import type { InputRow } from '../src/engine/run/inputVariants';
import { DEMO_MODEL, fixtureModel, REPO_ROOT, SENTIMENT_DATA } from '../test/support/fixtureModels';

export { REPO_ROOT };

export function now(): number {
  return performance.now();
}

export function median(xs: number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function mean(xs: number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN;
}

/** Process CPU time (user + system, every thread), in milliseconds. */
export function cpuNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * Wall time and process CPU time of `fn`, in milliseconds. CPU time counts only this process's threads, so
 * it moves far less than wall time when other processes compete for the cores.
 */
export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; cpu: number; value: T }> {
  const c = cpuNow();
  const t = now();
  const value = await fn();
  return { ms: now() - t, cpu: cpuNow() - c, value };
}

/**
 * Runs the two sides `repeats` times, alternating which goes first, and returns the median time of each.
 * `warm`: true runs both once before measuring, a function runs that instead.
 */
export async function backToBack(
  repeats: number,
  a: () => Promise<unknown>,
  b: () => Promise<unknown>,
  warm: boolean | (() => Promise<unknown>) = true,
): Promise<{ a: number; b: number; ratios: number[]; cpuA: number; cpuB: number; cpuRatios: number[] }> {
  if (typeof warm === 'function') {
    await warm();
  } else if (warm) {
    await a();
    await b();
  }
  const ta: number[] = [];
  const tb: number[] = [];
  const ca: number[] = [];
  const cb: number[] = [];
  for (let r = 0; r < repeats; r++) {
    let x: { ms: number; cpu: number };
    let y: { ms: number; cpu: number };
    if (r % 2 === 0) {
      x = await timed(a);
      y = await timed(b);
    } else {
      y = await timed(b);
      x = await timed(a);
    }
    ta.push(x.ms);
    tb.push(y.ms);
    ca.push(x.cpu);
    cb.push(y.cpu);
  }
  return {
    a: median(ta),
    b: median(tb),
    ratios: ta.map((x, i) => x / tb[i]),
    cpuA: median(ca),
    cpuB: median(cb),
    cpuRatios: ca.map((x, i) => x / cb[i]),
  };
}

/** A deterministic pseudo-random generator (mulberry32). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/* ---------------------------------------------------------------- models */

export interface BenchModel {
  /** What the tables call it. */
  name: string;
  folder: string;
  /** The fp32 graph file. */
  onnx: string;
}

const BENCH_MODEL_ENV = 'ONNX_LENS_BENCH_MODEL';
let bertBase: BenchModel | undefined;

/**
 * The BERT-base-sized classifier with random weights (bench/make_bench_model.py), written to a
 * temporary folder and removed when the process exits. ONNX_LENS_BENCH_MODEL=folder reuses an existing one.
 */
export function bertBaseModel(): BenchModel {
  if (bertBase) return bertBase;
  const given = process.env[BENCH_MODEL_ENV];
  let folder: string;
  if (given) {
    folder = path.resolve(given);
  } else {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-lens-bench-'));
    process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.on(signal, () => {
        fs.rmSync(dir, { recursive: true, force: true });
        process.exit(130);
      });
    }
    folder = path.join(dir, 'bert-base');
    process.stderr.write('writing the BERT-base-sized benchmark model (a minute or two, ~440 MB)…\n');
    const r = spawnSync('/usr/bin/python3', [path.join(REPO_ROOT, 'bench', 'make_bench_model.py'), folder], { stdio: ['ignore', process.stderr, 'inherit'] });
    if (r.status !== 0) throw new Error(`make_bench_model.py failed (exit ${r.status})`);
  }
  const onnx = path.join(folder, 'onnx', 'model.onnx');
  if (!fs.existsSync(onnx)) throw new Error(`no ${onnx}`);
  bertBase = { name: 'BERT-base size (12×768, random weights)', folder, onnx };
  return bertBase;
}

/** The demo model when it is there, else the small BERT fixture (2 layers, 32 wide, 64 positions). */
export function smallModel(): BenchModel & { isDemo: boolean } {
  const demo = path.join(DEMO_MODEL, 'onnx', 'model.onnx');
  if (fs.existsSync(demo)) return { name: 'demo-sentiment (fp32)', folder: DEMO_MODEL, onnx: demo, isDemo: true };
  const folder = fixtureModel('bert-cls-op14');
  return { name: 'fixture bert-cls-op14 (2×32)', folder, onnx: path.join(folder, 'onnx', 'model.onnx'), isDemo: false };
}

/** The model's hidden size and layers, from its config.json. */
export function describe(model: BenchModel): string {
  try {
    const c = JSON.parse(fs.readFileSync(path.join(model.folder, 'config.json'), 'utf8')) as Record<string, number>;
    return `${c.num_hidden_layers ?? c.n_layers ?? '?'} layers × ${c.hidden_size ?? c.dim ?? '?'} wide, ${c.num_attention_heads ?? c.n_heads ?? '?'} heads`;
  } catch {
    return '';
  }
}

/* ------------------------------------------------------- plain session */

/** A plain onnxruntime-node InferenceSession on the original file: the floor the engine is measured against. */
export class PlainSession {
  private constructor(readonly session: ort.InferenceSession) {}

  static async open(file: string | Uint8Array): Promise<PlainSession> {
    const s = typeof file === 'string' ? await ort.InferenceSession.create(file, { graphOptimizationLevel: 'all' }) : await ort.InferenceSession.create(file, { graphOptimizationLevel: 'all' });
    return new PlainSession(s);
  }

  feeds(rows: InputRow[], padId: number): Record<string, ort.Tensor> {
    const b = padRows(rows, padId);
    const dims = [b.batch, b.seqLen];
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', b.inputIds, dims),
      attention_mask: new ort.Tensor('int64', b.attentionMask, dims),
    };
    if (this.session.inputNames.includes('token_type_ids')) feeds.token_type_ids = new ort.Tensor('int64', b.tokenTypeIds, dims);
    return feeds;
  }

  async run(feeds: Record<string, ort.Tensor>): Promise<ort.InferenceSession.OnnxValueMapType> {
    return this.session.run(feeds);
  }

  /** Runs rows in padded batches of at most `maxRows` rows. */
  async runBatched(rows: InputRow[], padId: number, maxRows: number): Promise<void> {
    for (let i = 0; i < rows.length; i += maxRows) await this.session.run(this.feeds(rows.slice(i, i + maxRows), padId));
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/* ------------------------------------------------------------ sentences */

let sentenceCache: { text: string; label: number }[] | undefined;

/** The labelled review sentences (Amazon, IMDb, Yelp), in file order. */
export function sentences(): { text: string; label: number }[] {
  if (sentenceCache) return sentenceCache;
  const dir = SENTIMENT_DATA;
  const out: { text: string; label: number }[] = [];
  for (const file of ['amazon_cells_labelled.txt', 'imdb_labelled.txt', 'yelp_labelled.txt']) {
    for (const line of fs.readFileSync(path.join(dir, file), 'utf8').split('\n')) {
      const m = /^(.*)\t([01])\s*$/.exec(line);
      if (m && m[1].trim()) out.push({ text: m[1].trim(), label: Number(m[2]) });
    }
  }
  sentenceCache = out;
  return out;
}

/**
 * A text of exactly `words` words, made of consecutive review sentences from a seeded starting point,
 * with punctuation dropped so that every word is one feature for a BERT-style tokenizer.
 */
export function textOfWords(words: number, seed: number): string {
  const all = sentences();
  const random = rng(seed * 7919 + words);
  let i = Math.floor(random() * all.length);
  const out: string[] = [];
  while (out.length < words) {
    const ws = all[i % all.length].text
      .toLowerCase()
      .replace(/[^a-z0-9 ]+/g, ' ')
      .split(/\s+/)
      .filter((w) => w.length > 0);
    out.push(...ws);
    i++;
  }
  return out.slice(0, words).join(' ');
}

/* --------------------------------------------------------------- tables */

export function fmt(x: number, digits = 2): string {
  if (!Number.isFinite(x)) return '–';
  if (Number.isInteger(x)) return x.toLocaleString('en-US');
  if (Math.abs(x) >= 1000) return Math.round(x).toLocaleString('en-US');
  if (Math.abs(x) >= 100) return x.toFixed(0);
  if (Math.abs(x) >= 10) return x.toFixed(Math.min(1, digits));
  return x.toFixed(digits);
}

export function table(header: string[], rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)));
  const line = (r: string[]) => `| ${r.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...cells.map(line)].join('\n');
}

/** Prints a section heading, a table and optional notes. */
export function printTable(title: string, header: string[], rows: (string | number)[][], notes: string[] = []): void {
  const out = [`\n### ${title}\n`, table(header, rows)];
  if (notes.length) out.push('', ...notes.map((n) => `- ${n}`));
  process.stdout.write(out.join('\n') + '\n');
}

export function log(message: string): void {
  process.stderr.write(`  ${message}\n`);
}

/** Lets the garbage collector run between sections when node was started with --expose-gc. */
export function collect(): void {
  (globalThis as { gc?: () => void }).gc?.();
}
