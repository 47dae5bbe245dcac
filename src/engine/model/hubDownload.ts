import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';
import {
  COMPLETE_MANIFEST,
  CompleteManifest,
  ManifestFile,
  ModelVariant,
  cachedModelPath,
  isInside,
  isValidRepoId,
  isValidRevision,
  lockModelFolder,
  manifestFilesPresent,
  readCompleteManifest,
  writeCompleteManifest,
} from './modelCache';

/** Default hub; mirrors are given as another endpoint. */
export const DEFAULT_HUB_ENDPOINT = 'https://huggingface.co';

/** What went wrong with a download, for callers that react differently to each. */
export type HubErrorCode =
  | 'cancelled'
  | 'not-found'
  | 'unauthorized'
  | 'network'
  | 'timeout'
  | 'size-mismatch'
  | 'hash-mismatch'
  | 'no-onnx'
  | 'bad-repo-id';

/** A download failure with a message meant for the user. Never contains the access token. */
export class HubError extends Error {
  override readonly name = 'HubError';
  constructor(
    readonly code: HubErrorCode,
    message: string,
    /** HTTP status, when the failure was an HTTP answer. */
    readonly status?: number,
    /** For a missing variant: the variants the repository does publish. */
    readonly availableVariants?: string[],
  ) {
    super(message);
  }
}

/** A model known to work, offered first in the download picker. */
export interface CuratedModel {
  repo: string;
  task: 'sentiment' | 'fill-mask' | 'next-token' | 'text-to-text';
  description: string;
}

/** Small transformers.js exports covering each kind of model the extension explains. */
export const CURATED_MODELS: readonly CuratedModel[] = [
  {
    repo: 'Xenova/distilbert-base-uncased-finetuned-sst-2-english',
    task: 'sentiment',
    description: 'DistilBERT fine-tuned on SST-2: positive or negative sentiment of English text.',
  },
  {
    repo: 'Xenova/bert-base-multilingual-uncased-sentiment',
    task: 'sentiment',
    description: 'Multilingual BERT rating product reviews from 1 to 5 stars in six languages.',
  },
  {
    repo: 'Xenova/bert-base-uncased',
    task: 'fill-mask',
    description: 'BERT base (uncased): predicts the word hidden behind [MASK].',
  },
  {
    repo: 'Xenova/distilgpt2',
    task: 'next-token',
    description: 'DistilGPT-2: a small GPT-2 that predicts the next token.',
  },
  {
    repo: 'Xenova/gpt2',
    task: 'next-token',
    description: 'GPT-2 (124M): the original autoregressive next-token model.',
  },
  {
    repo: 'Xenova/t5-small',
    task: 'text-to-text',
    description: 'T5 small: encoder-decoder for translation and summarisation prompts.',
  },
];

/** A file of a hub repository as the hub lists it. */
export interface HubFileEntry {
  /** Path inside the repository, with `/` separators. */
  path: string;
  /** Size in bytes, when the listing gave it. */
  size?: number;
  /** SHA-256 of the content (hex), known for files stored with Git LFS. */
  sha256?: string;
}

/** The files to fetch for one variant of a model. */
export interface DownloadPlan {
  variant: ModelVariant;
  files: HubFileEntry[];
  /** The chosen ONNX graphs (without their external-data files). */
  onnxFiles: string[];
  /** Metadata files a working model needs but the repository lacks (config.json, tokenizer.json). */
  missing: string[];
  /** Sum of the file sizes, when every size is known. */
  totalBytes?: number;
}

/** One progress report; `bytes`/`total` count the whole model, `fileBytes`/`fileTotal` the current file. */
export interface DownloadProgress {
  file: string;
  fileBytes: number;
  fileTotal?: number;
  bytes: number;
  total?: number;
}

/** What to download, where to, and how to report and stop it. */
export interface DownloadOptions {
  /** Hub repository id, `owner/name`. */
  repo: string;
  /** Branch, tag or commit; default `main`. */
  revision?: string;
  variant: ModelVariant;
  /** Hub or mirror base URL; default https://huggingface.co. */
  endpoint?: string;
  /** Root of the model cache; the model lands in `<cacheDir>/<owner>--<name>/<revision>/`. */
  cacheDir: string;
  /**
   * Access token for gated or private repositories, sent only to the endpoint's own origin.
   * Default: HF_TOKEN, then HUGGING_FACE_HUB_TOKEN; an empty string sends none.
   */
  token?: string;
  onProgress?: (progress: DownloadProgress) => void;
  signal?: AbortSignal;
  /**
   * A request that delivers no byte for this long fails with code 'timeout'; so does a file transfer that
   * delivers fewer than `minBytesPerSecond` × this many bytes in any such period. Default 30 s.
   */
  timeoutMs?: number;
  /** The slowest transfer accepted, in bytes per second, measured over each `timeoutMs`. Default 1024; 0 turns it off. */
  minBytesPerSecond?: number;
  /** The whole download (listing, waiting for another download of the model, every file) fails with 'timeout' after this long. Default 6 hours. */
  deadlineMs?: number;
  /** Fetch again even when a complete copy of the same variant is cached. */
  force?: boolean;
}

/** Defaults of the transfer limits in {@link DownloadOptions}. */
export const DOWNLOAD_LIMITS = { timeoutMs: 30_000, minBytesPerSecond: 1024, deadlineMs: 6 * 3600_000 } as const;

/** A model folder ready to load, and what it holds. */
export interface DownloadResult {
  repo: string;
  revision: string;
  variant: ModelVariant;
  /** Folder holding the model files. */
  path: string;
  files: ManifestFile[];
  totalBytes: number;
  /** True when a complete cached copy was returned without any network request. */
  fromCache: boolean;
  commit?: string;
}

/** Reads the access token the Hugging Face tools use: HF_TOKEN, then HUGGING_FACE_HUB_TOKEN. */
export function tokenFromEnvironment(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const token = env.HF_TOKEN?.trim() || env.HUGGING_FACE_HUB_TOKEN?.trim();
  return token ? token : undefined;
}

const METADATA_FILES = [
  'config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'generation_config.json',
];
const REQUIRED_METADATA = ['config.json', 'tokenizer.json'];
const GRAPH_NAME = /^onnx\/(decoder_model_merged|decoder_with_past_model|encoder_model|decoder_model|model)(?:_([A-Za-z0-9]+))?\.onnx$/;

/**
 * Chooses the files to fetch for one variant of a transformers.js export: the tokenizer and
 * config files that exist, the variant's ONNX graphs and their external-data files, nothing else.
 * Throws HubError 'no-onnx' when the repository has no ONNX export or lacks the variant.
 */
export function planDownload(
  fileList: ReadonlyArray<HubFileEntry | string>,
  variant: ModelVariant,
  repo = 'This repository',
): DownloadPlan {
  const entries = fileList.map((f) => (typeof f === 'string' ? { path: f } : f));
  const byPath = new Map(entries.map((e) => [e.path, e]));
  const onnxInFolder = entries.filter((e) => GRAPH_NAME.test(e.path) || /^onnx\/.+\.onnx$/.test(e.path));
  if (onnxInFolder.length === 0) {
    throw new HubError(
      'no-onnx',
      `${repo} publishes no ONNX export; pick a repository with an onnx/ folder, e.g. ${CURATED_MODELS[0].repo}.`,
    );
  }
  const graphs = chooseGraphs(byPath, variant);
  if (!graphs) {
    const available = availableVariants(entries.map((e) => e.path));
    throw new HubError(
      'no-onnx',
      `${repo} has no ${variant} ONNX export` +
        (available.length ? `; it publishes: ${available.join(', ')}.` : '; its onnx/ folder holds no graph this extension recognises.'),
      undefined,
      available,
    );
  }
  const files: HubFileEntry[] = [];
  for (const name of METADATA_FILES) {
    const e = byPath.get(name);
    if (e) files.push(e);
  }
  for (const g of graphs) {
    files.push(byPath.get(g)!);
    // External data sits beside its graph: model.onnx_data, model.onnx_data_1, model.onnx.data.
    for (const e of entries) {
      if (e.path.startsWith(`${g}_data`) || e.path.startsWith(`${g}.data`)) {
        const rest = e.path.slice(g.length + 5);
        if (rest === '' || /^_\d+$/.test(rest)) files.push(e);
      }
    }
  }
  let totalBytes: number | undefined = 0;
  for (const f of files) totalBytes = f.size === undefined || totalBytes === undefined ? undefined : totalBytes + f.size;
  return {
    variant,
    files,
    onnxFiles: graphs,
    missing: REQUIRED_METADATA.filter((m) => !byPath.has(m)),
    totalBytes,
  };
}

function chooseGraphs(byPath: Map<string, HubFileEntry>, variant: ModelVariant): string[] | undefined {
  const s = variant === 'quantized' ? '_quantized' : '';
  const has = (p: string): boolean => byPath.has(p);
  const single = `onnx/model${s}.onnx`;
  if (has(single)) return [single];
  const decoder = [`onnx/decoder_model${s}.onnx`, `onnx/decoder_model_merged${s}.onnx`].find(has);
  const encoder = `onnx/encoder_model${s}.onnx`;
  if (has(encoder)) return decoder ? [encoder, decoder] : undefined;
  return decoder ? [decoder] : undefined;
}

function availableVariants(paths: string[]): string[] {
  const found = new Set<string>();
  for (const p of paths) {
    const m = GRAPH_NAME.exec(p);
    if (!m) continue;
    found.add(m[2] === undefined ? 'fp32' : m[2]);
  }
  return [...found].sort((a, b) => (a === 'fp32' ? -1 : b === 'fp32' ? 1 : a.localeCompare(b)));
}

/** Per-download connection state: endpoint, token scope, agents, abort signal and transfer limits. */
interface HubContext {
  endpoint: URL;
  repo: string;
  revision: string;
  token?: string;
  /** Aborted when the caller cancels or the deadline passes (then `expired` is set). */
  signal: AbortSignal;
  timeoutMs: number;
  minBytesPerSecond: number;
  deadlineMs: number;
  /** Set when the deadline has passed. */
  expired: boolean;
  httpAgent: http.Agent;
  httpsAgent: https.Agent;
  /** Stops the deadline timer and the link to the caller's signal. */
  dispose(): void;
}

const MAX_REDIRECTS = 5;
const TREE_API_MISSING = [400, 404, 405, 501];
const MAX_JSON_BYTES = 32 * 1024 * 1024;
const MAX_TREE_PAGES = 100;
const PROGRESS_INTERVAL_MS = 200;
const USER_AGENT = 'onnx-lens/0.1';

/**
 * Lists a repository's files: the recursive tree API first (it gives sizes and LFS hashes), the
 * model-info API's `siblings` when a mirror lacks the tree API.
 */
export async function listHubFiles(options: {
  repo: string;
  revision?: string;
  endpoint?: string;
  token?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
}): Promise<HubFileEntry[]> {
  const ctx = makeContext(options.repo, options.revision ?? 'main', options);
  try {
    return await listFiles(ctx);
  } catch (err) {
    throw redact(err, ctx.token);
  } finally {
    ctx.dispose();
  }
}

/**
 * Downloads one variant of a transformers.js ONNX export into the cache. Each file is written to a
 * temporary `.part-*` name and renamed once its size and hash check out; the folder gets its
 * `.complete.json` only when every file is in place. Replacing a complete copy happens in a staging
 * folder that is swapped in at the end, so a failure leaves the earlier copy untouched. One download of
 * a model runs at a time, across processes: a second one waits for the first's lock, then answers from
 * the copy it left. Transfers slower than the minimum rate, and downloads past the deadline, stop with
 * 'timeout'. No retries.
 */
export async function downloadModel(options: DownloadOptions): Promise<DownloadResult> {
  const revision = options.revision ?? 'main';
  const ctx = makeContext(options.repo, revision, options);
  try {
    return await downloadWithContext(ctx, options);
  } catch (err) {
    throw redact(err, ctx.token);
  } finally {
    ctx.dispose();
  }
}

function makeContext(
  repo: string,
  revision: string,
  options: { endpoint?: string; token?: string; signal?: AbortSignal; timeoutMs?: number; minBytesPerSecond?: number; deadlineMs?: number },
): HubContext {
  if (!isValidRepoId(repo)) {
    throw new HubError(
      'bad-repo-id',
      `"${String(repo)}" is not a model repository id; expected owner/name using letters, digits, '-', '_' and '.', e.g. ${CURATED_MODELS[0].repo}.`,
    );
  }
  if (!isValidRevision(revision)) {
    throw new HubError('bad-repo-id', `"${String(revision)}" is not a valid revision (branch, tag or commit) name.`);
  }
  let endpoint: URL;
  try {
    endpoint = new URL(options.endpoint ?? DEFAULT_HUB_ENDPOINT);
  } catch {
    throw new HubError('network', 'The hub endpoint is not a valid URL.');
  }
  if (endpoint.protocol !== 'https:' && endpoint.protocol !== 'http:') {
    throw new HubError('network', 'The hub endpoint must be an http:// or https:// URL.');
  }
  endpoint.search = '';
  endpoint.hash = '';
  if (!endpoint.pathname.endsWith('/')) endpoint.pathname += '/';
  const limit = (value: number | undefined, fallback: number, name: string, min: number): number => {
    const v = value ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min) throw new RangeError(`${name} must be a number of at least ${min}, not ${String(value)}`);
    return v;
  };
  const timeoutMs = limit(options.timeoutMs, DOWNLOAD_LIMITS.timeoutMs, 'timeoutMs', 1);
  const minBytesPerSecond = limit(options.minBytesPerSecond, DOWNLOAD_LIMITS.minBytesPerSecond, 'minBytesPerSecond', 0);
  const deadlineMs = limit(options.deadlineMs, DOWNLOAD_LIMITS.deadlineMs, 'deadlineMs', 1);
  const controller = new AbortController();
  const onCallerAbort = (): void => controller.abort();
  const caller = options.signal;
  if (caller?.aborted) controller.abort();
  else caller?.addEventListener('abort', onCallerAbort, { once: true });
  const httpAgent = new http.Agent({ keepAlive: true });
  const httpsAgent = new https.Agent({ keepAlive: true });
  const ctx: HubContext = {
    endpoint,
    repo,
    revision,
    token: options.token ?? tokenFromEnvironment(),
    signal: controller.signal,
    timeoutMs,
    minBytesPerSecond,
    deadlineMs,
    expired: false,
    httpAgent,
    httpsAgent,
    dispose: () => {
      clearTimeout(deadline);
      caller?.removeEventListener('abort', onCallerAbort);
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
  // Timers of more than 2^31 - 1 ms fire at once; a deadline that long is no deadline.
  const deadline = setTimeout(() => {
    if (controller.signal.aborted) return;
    ctx.expired = true;
    controller.abort();
  }, Math.min(deadlineMs, 2 ** 31 - 1));
  if (deadlineMs > 2 ** 31 - 1) clearTimeout(deadline);
  return ctx;
}

/** Why the download stopped when its signal fired: the caller cancelled, or the deadline passed. */
function stopReason(ctx: HubContext): HubError {
  if (ctx.expired) {
    return new HubError('timeout', `Download of ${ctx.repo} stopped: it took longer than the deadline of ${formatDuration(ctx.deadlineMs)}; nothing partial was kept.`);
  }
  return new HubError('cancelled', `Download of ${ctx.repo} cancelled; nothing partial was kept.`);
}

function formatDuration(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 100) / 10} s`;
  if (ms < 3600_000) return `${Math.round(ms / 6000) / 10} min`;
  return `${Math.round(ms / 360_000) / 10} h`;
}

async function downloadWithContext(ctx: HubContext, options: DownloadOptions): Promise<DownloadResult> {
  throwIfCancelled(ctx);
  const modelDir = cachedModelPath(options.cacheDir, ctx.repo, ctx.revision);
  const cached = await cachedCopy(ctx, modelDir, options);
  if (cached.result) return cached.result;
  let release: () => Promise<void>;
  try {
    release = await lockModelFolder(modelDir, { signal: ctx.signal });
  } catch (err) {
    if (ctx.signal.aborted) throw stopReason(ctx);
    throw err;
  }
  try {
    // Another download of this model may have finished while this one waited for the lock.
    const now = await cachedCopy(ctx, modelDir, options);
    if (now.result) return now.result;
    return await downloadLocked(ctx, options, modelDir, now.existing, now.existingComplete);
  } finally {
    await release();
  }
}

/** The complete cached copy of the requested variant, when there is one (and no forced refetch). */
async function cachedCopy(
  ctx: HubContext,
  modelDir: string,
  options: DownloadOptions,
): Promise<{ result?: DownloadResult; existing?: CompleteManifest; existingComplete: boolean }> {
  const existing = await readCompleteManifest(modelDir);
  const existingComplete = existing !== undefined && (await manifestFilesPresent(modelDir, existing));
  if (existing && existingComplete && existing.variant === options.variant && !options.force) {
    return {
      existing,
      existingComplete,
      result: {
        repo: ctx.repo,
        revision: ctx.revision,
        variant: existing.variant,
        path: modelDir,
        files: existing.files,
        totalBytes: existing.totalBytes,
        fromCache: true,
        commit: existing.commit,
      },
    };
  }
  return { existing, existingComplete };
}

/** The download itself, with the model folder's lock held. */
async function downloadLocked(
  ctx: HubContext,
  options: DownloadOptions,
  modelDir: string,
  existing: CompleteManifest | undefined,
  existingComplete: boolean,
): Promise<DownloadResult> {
  const plan = planDownload(await listFiles(ctx), options.variant, ctx.repo);
  throwIfCancelled(ctx);

  const repoDir = path.dirname(modelDir);
  await fs.promises.mkdir(repoDir, { recursive: true });
  let targetDir = modelDir;
  if (existingComplete) {
    targetDir = path.join(repoDir, `.staging-${ctx.revision}-${randomTag()}`);
  } else if (existing) {
    // A manifest whose files are gone or damaged must not keep marking the folder complete.
    await fs.promises.rm(path.join(modelDir, COMPLETE_MANIFEST), { force: true });
  }
  await fs.promises.mkdir(targetDir, { recursive: true });
  // Leftovers of an interrupted attempt (partial files, another variant's graphs) would otherwise
  // sit in a folder about to be marked complete.
  if (targetDir === modelDir) await pruneFolder(modelDir, new Set(plan.files.map((f) => f.path)));

  try {
    const recorded: ManifestFile[] = [];
    let doneBytes = 0;
    let commit: string | undefined;
    let lastReport = 0;
    const report = (p: DownloadProgress, force: boolean): void => {
      const now = Date.now();
      if (!options.onProgress || (!force && now - lastReport < PROGRESS_INTERVAL_MS)) return;
      lastReport = now;
      options.onProgress(p);
    };

    for (const file of plan.files) {
      throwIfCancelled(ctx);
      const dest = path.resolve(targetDir, ...file.path.split('/'));
      if (!isInside(targetDir, dest) || file.path.split('/').some((s) => s === '' || s === '.' || s === '..')) {
        throw new HubError('network', `The hub listed an unsafe file path (${JSON.stringify(file.path)}).`);
      }
      await fs.promises.mkdir(path.dirname(dest), { recursive: true });

      // A previous, interrupted download into this folder may already have verified this file.
      const reused = targetDir === modelDir ? await verifiedExistingFile(dest, file) : undefined;
      let done: { size: number; sha256: string };
      if (reused) {
        done = reused;
      } else {
        const got = await fetchFile(ctx, file, dest, (fileBytes, fileTotal, force) =>
          report({ file: file.path, fileBytes, fileTotal, bytes: doneBytes + fileBytes, total: plan.totalBytes }, force),
        );
        commit = commit ?? got.commit;
        done = got;
      }
      doneBytes += done.size;
      recorded.push({ path: file.path, size: done.size, sha256: done.sha256 });
      report({ file: file.path, fileBytes: done.size, fileTotal: done.size, bytes: doneBytes, total: plan.totalBytes }, true);
    }

    throwIfCancelled(ctx);
    const manifest: CompleteManifest = {
      format: 1,
      repo: ctx.repo,
      revision: ctx.revision,
      commit,
      variant: options.variant,
      endpoint: publicEndpoint(ctx.endpoint),
      files: recorded,
      totalBytes: doneBytes,
      completedAt: new Date().toISOString(),
    };
    await writeCompleteManifest(targetDir, manifest);
    if (targetDir !== modelDir) await swapIn(targetDir, modelDir, repoDir, ctx.revision);
    return {
      repo: ctx.repo,
      revision: ctx.revision,
      variant: options.variant,
      path: modelDir,
      files: recorded,
      totalBytes: doneBytes,
      fromCache: false,
      commit,
    };
  } catch (err) {
    if (targetDir !== modelDir) await fs.promises.rm(targetDir, { recursive: true, force: true });
    throw err;
  }
}

/** Replaces a complete model folder by a fully downloaded staging folder, restoring it on failure. */
async function swapIn(staging: string, modelDir: string, repoDir: string, revision: string): Promise<void> {
  const retired = path.join(repoDir, `.old-${revision}-${randomTag()}`);
  await fs.promises.rename(modelDir, retired);
  try {
    await fs.promises.rename(staging, modelDir);
  } catch (err) {
    await fs.promises.rename(retired, modelDir);
    throw err;
  }
  await fs.promises.rm(retired, { recursive: true, force: true });
}

async function verifiedExistingFile(dest: string, file: HubFileEntry): Promise<{ size: number; sha256: string } | undefined> {
  if (file.size === undefined) return undefined;
  const st = await fs.promises.stat(dest).catch(() => undefined);
  if (!st || !st.isFile() || st.size !== file.size) return undefined;
  const sha256 = await sha256OfFile(dest);
  // Without a hash from the hub a same-size file could be stale content; fetch it again.
  if (file.sha256 === undefined || sha256 !== file.sha256.toLowerCase()) return undefined;
  return { size: st.size, sha256 };
}

async function sha256OfFile(file: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Deletes every file below `dir` whose path is not in `keep`, and the folders left empty. */
async function pruneFolder(dir: string, keep: Set<string>, prefix = ''): Promise<void> {
  for (const e of await fs.promises.readdir(path.join(dir, prefix), { withFileTypes: true }).catch(() => [])) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    const full = path.join(dir, ...rel.split('/'));
    if (e.isDirectory()) {
      await pruneFolder(dir, keep, rel);
      if ((await fs.promises.readdir(full)).length === 0) await fs.promises.rmdir(full);
    } else if (!keep.has(rel)) {
      await fs.promises.rm(full, { force: true });
    }
  }
}

async function listFiles(ctx: HubContext): Promise<HubFileEntry[]> {
  const repoPath = `api/models/${ctx.repo}`;
  const treeUrl = new URL(`${repoPath}/tree/${encodeURIComponent(ctx.revision)}?recursive=true`, ctx.endpoint);
  const entries: HubFileEntry[] = [];
  let url: URL | undefined = treeUrl;
  for (let page = 0; url && page < MAX_TREE_PAGES; page++) {
    const answer = await getJson(ctx, url);
    if (answer.status !== 200) {
      // Mirrors without the tree API answer 404 (or 400, 405, 501); any other failure is the answer.
      if (page === 0 && TREE_API_MISSING.includes(answer.status)) return listFilesFromModelInfo(ctx);
      throw statusError(ctx, answer.status, null, answer.hubMessage);
    }
    if (!Array.isArray(answer.body)) throw new HubError('network', `${hostOf(ctx)} answered the file list with something that is not a list.`);
    for (const raw of answer.body as unknown[]) {
      const e = raw as { type?: unknown; path?: unknown; size?: unknown; lfs?: { oid?: unknown; size?: unknown } };
      if (e?.type !== 'file' || typeof e.path !== 'string') continue;
      const lfsSize = typeof e.lfs?.size === 'number' ? e.lfs.size : undefined;
      entries.push({
        path: e.path,
        size: lfsSize ?? (typeof e.size === 'number' ? e.size : undefined),
        sha256: typeof e.lfs?.oid === 'string' && /^[0-9a-f]{64}$/i.test(e.lfs.oid) ? e.lfs.oid.toLowerCase() : undefined,
      });
    }
    url = nextPage(ctx, answer.link);
  }
  return entries;
}

async function listFilesFromModelInfo(ctx: HubContext): Promise<HubFileEntry[]> {
  const rev = ctx.revision === 'main' ? '' : `/revision/${encodeURIComponent(ctx.revision)}`;
  const answer = await getJson(ctx, new URL(`api/models/${ctx.repo}${rev}?blobs=true`, ctx.endpoint));
  if (answer.status !== 200) throw statusError(ctx, answer.status, null, answer.hubMessage);
  const siblings = (answer.body as { siblings?: unknown })?.siblings;
  if (!Array.isArray(siblings)) throw new HubError('network', `${hostOf(ctx)} answered the model information without a file list.`);
  const entries: HubFileEntry[] = [];
  for (const raw of siblings as unknown[]) {
    const s = raw as { rfilename?: unknown; size?: unknown; lfs?: { sha256?: unknown; size?: unknown } };
    if (typeof s?.rfilename !== 'string') continue;
    const lfsSize = typeof s.lfs?.size === 'number' ? s.lfs.size : undefined;
    entries.push({
      path: s.rfilename,
      size: lfsSize ?? (typeof s.size === 'number' ? s.size : undefined),
      sha256: typeof s.lfs?.sha256 === 'string' && /^[0-9a-f]{64}$/i.test(s.lfs.sha256) ? s.lfs.sha256.toLowerCase() : undefined,
    });
  }
  return entries;
}

function nextPage(ctx: HubContext, link: string | undefined): URL | undefined {
  const m = link ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(link) : null;
  if (!m) return undefined;
  const next = new URL(m[1], ctx.endpoint);
  // Pagination stays on the hub; a link elsewhere would receive the token.
  return next.origin === ctx.endpoint.origin ? next : undefined;
}

interface JsonAnswer {
  status: number;
  body?: unknown;
  link?: string;
  hubMessage?: string;
}

async function getJson(ctx: HubContext, url: URL): Promise<JsonAnswer> {
  const guard = new StallGuard(ctx);
  try {
    const { res } = await openFollowingRedirects(ctx, url, guard);
    const status = res.statusCode ?? 0;
    const hubMessage = headerString(res.headers['x-error-message']);
    if (status !== 200) {
      res.resume();
      return { status, hubMessage };
    }
    const chunks: Buffer[] = [];
    let size = 0;
    await new Promise<void>((resolve, reject) => {
      res.on('data', (c: Buffer) => {
        guard.activity();
        size += c.length;
        if (size > MAX_JSON_BYTES) {
          res.destroy(new HubError('network', `${hostOf(ctx)} sent a file list larger than ${MAX_JSON_BYTES} bytes.`));
          return;
        }
        chunks.push(c);
      });
      res.on('end', resolve);
      res.on('error', (e) => reject(guard.reason ?? networkError(ctx, e)));
      res.on('close', () => {
        if (!res.complete) reject(guard.reason ?? new HubError('network', `The connection to ${hostOf(ctx)} closed before the file list was complete.`));
      });
    });
    try {
      return { status, body: JSON.parse(Buffer.concat(chunks).toString('utf8')), link: headerString(res.headers.link) };
    } catch {
      throw new HubError('network', `${hostOf(ctx)} answered the file list with invalid JSON.`);
    }
  } finally {
    guard.dispose();
  }
}

async function fetchFile(
  ctx: HubContext,
  file: HubFileEntry,
  dest: string,
  progress: (fileBytes: number, fileTotal: number | undefined, force: boolean) => void,
): Promise<{ size: number; sha256: string; commit?: string }> {
  const url = new URL(
    `${ctx.repo}/resolve/${encodeURIComponent(ctx.revision)}/${file.path.split('/').map(encodeURIComponent).join('/')}`,
    ctx.endpoint,
  );
  const guard = new StallGuard(ctx);
  const part = path.join(path.dirname(dest), `${path.basename(dest)}.part-${randomTag()}`);
  let out: fs.WriteStream | undefined;
  let outClosed: Promise<void> | undefined;
  try {
    const { res, linkedSize, linkedEtag, commit } = await openFollowingRedirects(ctx, url, guard);
    const status = res.statusCode ?? 0;
    if (status !== 200) {
      const hubMessage = headerString(res.headers['x-error-message']);
      res.resume();
      throw statusError(ctx, status, file.path, hubMessage);
    }
    const contentLength = parseSize(res.headers['content-length']);
    const expectedSize = file.size ?? linkedSize ?? contentLength;
    for (const [what, announced] of [
      ['Content-Length', contentLength],
      ['X-Linked-Size', linkedSize],
    ] as const) {
      if (announced !== undefined && expectedSize !== undefined && announced !== expectedSize) {
        res.destroy();
        throw new HubError(
          'size-mismatch',
          `${file.path}: the server announced ${announced} bytes (${what}) but the file should have ${expectedSize}; nothing was saved.`,
        );
      }
    }
    const etagHash = linkedEtag && /^[0-9a-f]{64}$/i.test(linkedEtag) ? linkedEtag.toLowerCase() : undefined;
    const expectedSha = file.sha256 ?? etagHash;

    const hash = crypto.createHash('sha256');
    let bytes = 0;
    const stream = fs.createWriteStream(part, { flags: 'wx' });
    out = stream;
    outClosed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (e: unknown): void => {
        if (settled) return;
        settled = true;
        res.destroy();
        stream.destroy();
        reject(e);
      };
      stream.on('error', fail);
      stream.on('drain', () => res.resume());
      stream.on('finish', () => {
        if (!settled) {
          settled = true;
          resolve();
        }
      });
      guard.measureRate(file.path);
      res.on('data', (chunk: Buffer) => {
        if (settled) return;
        guard.activity(chunk.length);
        bytes += chunk.length;
        if (expectedSize !== undefined && bytes > expectedSize) {
          fail(new HubError('size-mismatch', `${file.path}: the server sent more than the expected ${expectedSize} bytes; nothing was saved.`));
          return;
        }
        hash.update(chunk);
        if (!stream.write(chunk)) res.pause();
        try {
          progress(bytes, expectedSize, false);
        } catch (err) {
          // A failing progress listener must end this download, not the process.
          fail(err);
        }
      });
      res.on('end', () => {
        if (!settled) stream.end();
      });
      res.on('error', (e) => fail(guard.reason ?? networkError(ctx, e)));
      res.on('close', () => {
        if (!res.complete) {
          fail(guard.reason ?? new HubError('network', `The connection dropped while downloading ${file.path} (${bytes} bytes received); nothing was saved.`));
        }
      });
    });
    await outClosed;
    if (expectedSize !== undefined && bytes !== expectedSize) {
      throw new HubError('size-mismatch', `${file.path}: received ${bytes} bytes but expected ${expectedSize}; nothing was saved.`);
    }
    const sha256 = hash.digest('hex');
    if (expectedSha !== undefined && sha256 !== expectedSha) {
      throw new HubError('hash-mismatch', `${file.path}: the SHA-256 of the received bytes does not match the hub's; nothing was saved.`);
    }
    throwIfCancelled(ctx);
    await fs.promises.rename(part, dest);
    return { size: bytes, sha256, commit };
  } catch (err) {
    out?.destroy();
    if (outClosed) await outClosed;
    await fs.promises.rm(part, { force: true });
    throw guard.reason ?? err;
  } finally {
    guard.dispose();
  }
}

interface OpenedResponse {
  res: http.IncomingMessage;
  linkedSize?: number;
  linkedEtag?: string;
  commit?: string;
}

/** GETs a URL, following at most five redirects; the token goes only to the endpoint's own origin. */
async function openFollowingRedirects(ctx: HubContext, start: URL, guard: StallGuard): Promise<OpenedResponse> {
  let url = start;
  let linkedSize: number | undefined;
  let linkedEtag: string | undefined;
  let commit: string | undefined;
  for (let hop = 0; ; hop++) {
    const res = await openOnce(ctx, url, guard);
    // The hub reports the LFS size and hash on its redirect, not on the CDN's answer.
    linkedSize = parseSize(res.headers['x-linked-size']) ?? linkedSize;
    linkedEtag = unquote(headerString(res.headers['x-linked-etag'])) ?? linkedEtag;
    commit = headerString(res.headers['x-repo-commit']) ?? commit;
    const status = res.statusCode ?? 0;
    const location = headerString(res.headers.location);
    if (![301, 302, 303, 307, 308].includes(status) || !location) {
      return { res, linkedSize, linkedEtag, commit };
    }
    res.resume();
    if (hop >= MAX_REDIRECTS) {
      throw new HubError('network', `${hostOf(ctx)} redirected more than ${MAX_REDIRECTS} times; giving up.`);
    }
    let next: URL;
    try {
      next = new URL(location, url);
    } catch {
      throw new HubError('network', `${hostOf(ctx)} redirected to an invalid address.`);
    }
    if (next.protocol !== 'http:' && next.protocol !== 'https:') {
      throw new HubError('network', `${hostOf(ctx)} redirected to an unsupported address (${next.protocol}).`);
    }
    url = next;
  }
}

function openOnce(ctx: HubContext, url: URL, guard: StallGuard): Promise<http.IncomingMessage> {
  throwIfCancelled(ctx);
  const headers: http.OutgoingHttpHeaders = { 'User-Agent': USER_AGENT, Accept: '*/*' };
  if (ctx.token && url.origin === ctx.endpoint.origin) headers.Authorization = `Bearer ${ctx.token}`;
  const isHttps = url.protocol === 'https:';
  const get = isHttps ? https.get : http.get;
  return new Promise<http.IncomingMessage>((resolve, reject) => {
    const req = get(url, { headers, agent: isHttps ? ctx.httpsAgent : ctx.httpAgent }, (res) => {
      guard.watch(res);
      resolve(res);
    });
    guard.watch(req);
    req.on('error', (e) => reject(guard.reason ?? networkError(ctx, e)));
  });
}

/**
 * Fails the current request when nothing arrives for `timeoutMs`, when a file transfer (once
 * {@link measureRate} is called) brings fewer than `minBytesPerSecond` × `timeoutMs` bytes in a period
 * of `timeoutMs`, and as soon as the download is cancelled or its deadline passes. `reason` keeps the
 * cause, so the socket error that follows the forced close is reported as such.
 */
class StallGuard {
  reason?: HubError;
  private timer?: NodeJS.Timeout;
  private rateTimer?: NodeJS.Timeout;
  private windowBytes = 0;
  private current?: { destroy(err?: Error): unknown };
  private readonly onAbort = (): void => this.fail(stopReason(this.ctx));

  constructor(private readonly ctx: HubContext) {
    ctx.signal.addEventListener('abort', this.onAbort, { once: true });
    this.activity();
  }

  watch(target: { destroy(err?: Error): unknown }): void {
    this.current = target;
    this.activity();
    if (this.reason) target.destroy(this.reason);
  }

  /** Something arrived: `bytes` of a file's body, or 0 for any other sign of life. */
  activity(bytes = 0): void {
    if (this.reason) return;
    this.windowBytes += bytes;
    clearTimeout(this.timer);
    this.timer = setTimeout(
      () =>
        this.fail(
          new HubError('timeout', `${hostOf(this.ctx)} sent nothing for ${formatDuration(this.ctx.timeoutMs)}; download stopped.`),
        ),
      this.ctx.timeoutMs,
    );
  }

  /** From now on, each period of `timeoutMs` must bring the minimum rate's worth of bytes. */
  measureRate(file: string): void {
    if (this.ctx.minBytesPerSecond <= 0 || this.reason) return;
    const needed = Math.ceil((this.ctx.minBytesPerSecond * this.ctx.timeoutMs) / 1000);
    this.windowBytes = 0;
    this.rateTimer = setInterval(() => {
      if (this.windowBytes < needed) {
        const rate = Math.round((this.windowBytes * 1000) / this.ctx.timeoutMs);
        this.fail(
          new HubError(
            'timeout',
            `${hostOf(this.ctx)} sent ${file} at ${rate} bytes per second over ${formatDuration(this.ctx.timeoutMs)}, below the minimum of ${this.ctx.minBytesPerSecond}; download stopped.`,
          ),
        );
      }
      this.windowBytes = 0;
    }, this.ctx.timeoutMs);
  }

  dispose(): void {
    clearTimeout(this.timer);
    clearInterval(this.rateTimer);
    this.ctx.signal.removeEventListener('abort', this.onAbort);
  }

  private fail(err: HubError): void {
    if (this.reason) return;
    this.reason = err;
    clearTimeout(this.timer);
    clearInterval(this.rateTimer);
    this.current?.destroy(err);
  }
}

function throwIfCancelled(ctx: HubContext): void {
  if (ctx.signal.aborted) throw stopReason(ctx);
}

/** `subject` is `null` for the repository itself, or the path of one file in it. */
function statusError(ctx: HubContext, status: number, subject: string | null, hubMessage?: string): HubError {
  const detail = hubMessage ? ` (${hubMessage.slice(0, 200)})` : '';
  const what = subject === null ? `the model repository ${ctx.repo}` : `${subject} of ${ctx.repo}`;
  if (status === 401 || status === 403) {
    const hint = ctx.token
      ? 'the access token was refused or lacks access to it'
      : 'if it is gated or private, accept its terms on the hub and set HF_TOKEN to an access token';
    return new HubError(
      'unauthorized',
      `${hostOf(ctx)} refused access to ${what} (HTTP ${status}): it is gated, private or does not exist; ${hint}${detail}.`,
      status,
    );
  }
  if (status === 404) {
    const missing = subject === null ? `model repository ${ctx.repo}` : `file ${subject} in ${ctx.repo}`;
    return new HubError('not-found', `${hostOf(ctx)} has no ${missing} at revision ${ctx.revision}${detail}.`, status);
  }
  if (status >= 500 && status <= 599) {
    return new HubError('network', `${hostOf(ctx)} answered HTTP ${status}, a server error, for ${what}${detail}; try again later.`, status);
  }
  return new HubError('network', `${hostOf(ctx)} answered HTTP ${status} for ${what}${detail}.`, status);
}

function networkError(ctx: HubContext, err: unknown): HubError {
  if (err instanceof HubError) return err;
  const code = (err as NodeJS.ErrnoException)?.code;
  return new HubError('network', `Could not reach ${hostOf(ctx)}${code ? ` (${code})` : ''}: ${(err as Error)?.message ?? String(err)}`);
}

/** Guarantees the token never leaves inside an error message, whatever produced the message. */
function redact(err: unknown, token: string | undefined): unknown {
  if (!token || !(err instanceof Error) || !err.message.includes(token)) return err;
  const message = err.message.split(token).join('[token]');
  if (err instanceof HubError) return new HubError(err.code, message, err.status, err.availableVariants);
  return new Error(message);
}

function hostOf(ctx: HubContext): string {
  return ctx.endpoint.host;
}

function publicEndpoint(endpoint: URL): string {
  return `${endpoint.origin}${endpoint.pathname.replace(/\/$/, '')}`;
}

function headerString(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function parseSize(value: string | string[] | undefined): number | undefined {
  const s = headerString(value);
  return s !== undefined && /^\d+$/.test(s.trim()) ? Number(s.trim()) : undefined;
}

function unquote(value: string | undefined): string | undefined {
  return value?.replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
}

function randomTag(): string {
  return crypto.randomBytes(6).toString('hex');
}
