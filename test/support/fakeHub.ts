import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, afterEach, before, beforeEach } from 'node:test';
import { FIXTURES } from './fixtureModels';

/**
 * A Hugging Face Hub stand-in: a real HTTP server on 127.0.0.1 that serves one repository's files
 * with the hub's URL layout (tree API, model-info API, resolve URLs, LFS redirects to a second
 * "CDN" server), plus switches that make it fail the ways a real hub or network does.
 */

/** Failure switches; change them between downloads of one test. Paths are repository paths. */
export interface FakeHubFaults {
  /** Answer resolve requests for LFS files with a 302 to the CDN server (another port). */
  redirectToCdn?: boolean;
  /** Answer resolve requests with a 307 and a relative Location on the hub itself first. */
  relativeRedirect?: boolean;
  /** Redirect resolve requests to themselves forever. */
  redirectLoop?: boolean;
  /** These files answer 404. */
  notFound?: string[];
  /** Close the socket after this many bytes of the file. */
  dropAfterBytes?: Record<string, number>;
  /** Send this many bytes in small slow pieces, then nothing, never ending the response. */
  stallAfterBytes?: Record<string, number>;
  /** Serve only the first half of the file, with a Content-Length saying so. */
  truncatedBody?: string[];
  /** Report these files 7 bytes larger in the tree listing than they are. */
  wrongTreeSize?: string[];
  /** Report a wrong LFS sha256 for these files (tree listing and X-Linked-Etag). */
  wrongSha256?: string[];
  /** Gated repository: every hub request without `Authorization: Bearer <this>` gets 401. */
  requireToken?: string;
  /** The tree API answers 404, as on mirrors without it; the model-info API still works. */
  treeUnavailable?: boolean;
  /** The model-info API ignores `blobs=true`: file names only, no sizes or hashes. */
  bareSiblings?: boolean;
  /** The tree API answers this HTTP status (500, say) instead of the listing. */
  treeStatus?: number;
  /** The model-info API answers this HTTP status instead of the repository's information. */
  modelInfoStatus?: number;
  /** Resolve requests for these files answer this HTTP status. */
  fileStatus?: Record<string, number>;
  /** Send these files at this many bytes per second (in pieces every 50 ms, at least one byte each). */
  bytesPerSecond?: Record<string, number>;
  /** Announce a Content-Length this many bytes off: fewer sends that many bytes; more sends the file and hangs up. */
  contentLengthDelta?: Record<string, number>;
  /** Answer every resolve request with a 302 to this origin (another host), which serves the content as the CDN does. */
  redirectAllTo?: string;
  /** Extra entries in both file listings (paths as given, hostile ones included); they are never served. */
  extraEntries?: { path: string; size?: number; sha256?: string }[];
}

/** One request either server received. */
export interface RecordedRequest {
  server: 'hub' | 'cdn';
  method: string;
  /** Path and query as sent. */
  url: string;
  headers: http.IncomingHttpHeaders;
}

export interface FakeHub {
  /** Base URL to pass as the download endpoint. */
  endpoint: string;
  /** Origin of the CDN server that LFS redirects go to. */
  cdnOrigin: string;
  repo: string;
  revision: string;
  /** The commit every resolve answer reports in X-Repo-Commit. */
  commit: string;
  faults: FakeHubFaults;
  requests: RecordedRequest[];
  /** Repository paths whose content was requested (on the hub's resolve URL), in order. */
  requestedFiles(): string[];
  close(): Promise<void>;
}

interface SourceFile {
  path: string;
  full: string;
  size: number;
  sha256: string;
  gitSha1: string;
  lfs: boolean;
}

/**
 * Starts a hub serving the files of `sourceDir` as repository `repo` at `revision`, and a CDN server
 * for its LFS redirects. Both listen on 127.0.0.1 with ports chosen by the system.
 */
export async function startFakeHub(options: { sourceDir: string; repo?: string; revision?: string }): Promise<FakeHub> {
  const repo = options.repo ?? 'test-org/tiny-bert';
  const revision = options.revision ?? 'main';
  const commit = crypto.createHash('sha1').update(`${repo}@${revision}`).digest('hex');
  const files = await describeFiles(options.sourceDir);
  const byPath = new Map(files.map((f) => [f.path, f]));
  const faults: FakeHubFaults = {};
  const requests: RecordedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();

  const later = (ms: number, fn: () => void): void => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  const serveContent = (req: http.IncomingMessage, res: http.ServerResponse, file: SourceFile): void => {
    const content = fs.readFileSync(file.full);
    const headers: http.OutgoingHttpHeaders = {
      'Content-Type': 'application/octet-stream',
      ETag: `"${file.lfs ? file.sha256 : file.gitSha1}"`,
      'X-Repo-Commit': commit,
    };
    if (faults.truncatedBody?.includes(file.path)) {
      const half = content.subarray(0, Math.floor(content.length / 2));
      res.writeHead(200, { ...headers, 'Content-Length': half.length });
      res.end(half);
      return;
    }
    const delta = faults.contentLengthDelta?.[file.path];
    if (delta !== undefined) {
      const announced = Math.max(0, content.length + delta);
      res.writeHead(200, { ...headers, 'Content-Length': announced });
      if (delta < 0) res.end(content.subarray(0, announced));
      else res.write(content, () => later(20, () => req.socket.destroy()));
      return;
    }
    res.writeHead(200, { ...headers, 'Content-Length': content.length });
    const rate = faults.bytesPerSecond?.[file.path];
    if (rate !== undefined) {
      const piece = Math.max(1, Math.floor(rate / 20));
      const every = Math.max(50, Math.round((piece * 1000) / rate));
      let sent = 0;
      const step = (): void => {
        if (res.destroyed) return;
        const n = Math.min(piece, content.length - sent);
        if (sent + n >= content.length) {
          res.end(content.subarray(sent));
          return;
        }
        res.write(content.subarray(sent, sent + n));
        sent += n;
        later(every, step);
      };
      step();
      return;
    }
    const drop = faults.dropAfterBytes?.[file.path];
    if (drop !== undefined) {
      res.write(content.subarray(0, drop), () => later(20, () => req.socket.destroy()));
      return;
    }
    const stall = faults.stallAfterBytes?.[file.path];
    if (stall !== undefined) {
      // Trickle in ten pieces, then go silent without ending the answer.
      const piece = Math.max(1, Math.ceil(stall / 10));
      let sent = 0;
      const step = (): void => {
        if (sent >= stall || res.destroyed) return;
        const n = Math.min(piece, stall - sent);
        res.write(content.subarray(sent, sent + n));
        sent += n;
        later(30, step);
      };
      step();
      return;
    }
    res.end(content);
  };

  const cdn = http.createServer((req, res) => {
    requests.push({ server: 'cdn', method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    const m = /^\/lfs\/([0-9a-f]{64})$/.exec(new URL(req.url ?? '/', 'http://x').pathname);
    const file = m ? files.find((f) => f.sha256 === m[1]) : undefined;
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    serveContent(req, res, file);
  });

  const hub = http.createServer((req, res) => {
    requests.push({ server: 'hub', method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    const url = new URL(req.url ?? '/', 'http://x');
    if (faults.requireToken !== undefined && req.headers.authorization !== `Bearer ${faults.requireToken}`) {
      res.writeHead(401, { 'X-Error-Code': 'GatedRepo', 'X-Error-Message': 'Access to this model is restricted.' });
      res.end(JSON.stringify({ error: 'Access to this model is restricted.' }));
      return;
    }
    const pathname = decodeURIComponent(url.pathname);
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };

    if (pathname === `/api/models/${repo}/tree/${revision}`) {
      if (faults.treeUnavailable) return json(404, { error: 'Not found' });
      if (faults.treeStatus !== undefined) return json(faults.treeStatus, { error: `status ${faults.treeStatus}` });
      const dirs = new Set<string>();
      for (const f of files) {
        const parts = f.path.split('/');
        for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
      }
      const entries: unknown[] = [...dirs].map((d) => ({ type: 'directory', path: d, size: 0, oid: sha1(d) }));
      for (const f of files) {
        const size = f.size + (faults.wrongTreeSize?.includes(f.path) ? 7 : 0);
        entries.push({
          type: 'file',
          path: f.path,
          size,
          oid: f.gitSha1,
          ...(f.lfs ? { lfs: { oid: reportedSha(f), size, pointerSize: 134 } } : {}),
        });
      }
      for (const e of faults.extraEntries ?? []) {
        entries.push({ type: 'file', path: e.path, size: e.size ?? 1, oid: sha1(e.path), ...(e.sha256 ? { lfs: { oid: e.sha256, size: e.size ?? 1 } } : {}) });
      }
      return json(200, entries);
    }
    if (pathname === `/api/models/${repo}` || pathname === `/api/models/${repo}/revision/${revision}`) {
      if (faults.modelInfoStatus !== undefined) return json(faults.modelInfoStatus, { error: `status ${faults.modelInfoStatus}` });
      const blobs = url.searchParams.get('blobs') === 'true' && !faults.bareSiblings;
      return json(200, {
        id: repo,
        sha: commit,
        siblings: [
          ...files.map((f) => ({
            rfilename: f.path,
            ...(blobs ? { size: f.size, ...(f.lfs ? { lfs: { sha256: reportedSha(f), size: f.size } } : {}) } : {}),
          })),
          ...(faults.extraEntries ?? []).map((e) => ({ rfilename: e.path, ...(blobs ? { size: e.size ?? 1 } : {}) })),
        ],
      });
    }
    const resolvePrefix = `/${repo}/resolve/${revision}/`;
    const cachePrefix = `/api/resolve-cache/models/${repo}/${commit}/`;
    const isResolve = pathname.startsWith(resolvePrefix);
    if (isResolve || pathname.startsWith(cachePrefix)) {
      const rel = pathname.slice((isResolve ? resolvePrefix : cachePrefix).length);
      const file = byPath.get(rel);
      if (!file || faults.notFound?.includes(rel)) {
        res.writeHead(404, { 'X-Error-Code': 'EntryNotFound', 'X-Error-Message': 'Entry not found' });
        res.end();
        return;
      }
      const status = faults.fileStatus?.[rel];
      if (status !== undefined) {
        res.writeHead(status, { 'Content-Type': 'text/plain' }).end(`status ${status}`);
        return;
      }
      if (faults.redirectLoop) {
        res.writeHead(302, { Location: req.url }).end();
        return;
      }
      if (faults.redirectAllTo !== undefined) {
        res.writeHead(302, { Location: `${faults.redirectAllTo}/lfs/${file.sha256}`, 'X-Repo-Commit': commit }).end();
        return;
      }
      if (isResolve && faults.relativeRedirect) {
        res.writeHead(307, { Location: `${cachePrefix}${encodePath(rel)}`, 'X-Repo-Commit': commit }).end();
        return;
      }
      if (file.lfs && faults.redirectToCdn) {
        const cdnPort = (cdn.address() as AddressInfo).port;
        res.writeHead(302, {
          Location: `http://127.0.0.1:${cdnPort}/lfs/${file.sha256}`,
          'X-Linked-Size': String(file.size),
          'X-Linked-Etag': `"${reportedSha(file)}"`,
          'X-Repo-Commit': commit,
          ETag: `"${reportedSha(file)}"`,
        });
        res.end();
        return;
      }
      serveContent(req, res, file);
      return;
    }
    json(404, { error: 'Repository not found' });
  });

  const reportedSha = (f: SourceFile): string =>
    faults.wrongSha256?.includes(f.path) ? crypto.createHash('sha256').update('not the content').digest('hex') : f.sha256;

  await listen(hub);
  await listen(cdn);
  const hubPort = (hub.address() as AddressInfo).port;
  const cdnPort = (cdn.address() as AddressInfo).port;

  return {
    endpoint: `http://127.0.0.1:${hubPort}`,
    cdnOrigin: `http://127.0.0.1:${cdnPort}`,
    repo,
    revision,
    commit,
    faults,
    requests,
    requestedFiles() {
      const prefix = `/${repo}/resolve/${revision}/`;
      return requests
        .filter((r) => r.server === 'hub')
        .map((r) => decodeURIComponent(new URL(r.url, 'http://x').pathname))
        .filter((p) => p.startsWith(prefix))
        .map((p) => p.slice(prefix.length));
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await Promise.all([shut(hub), shut(cdn)]);
    },
  };
}

/** Options for the repository folder the fake hub serves. */
export interface SourceModelOptions {
  /** Add external-data files beside the fp32 graph and the fp16 one. */
  externalData?: boolean;
}

/**
 * Builds a repository folder in the system temp directory in the transformers.js layout:
 * config.json, tokenizer.json, tokenizer_config.json, README.md, and onnx/model.onnx,
 * onnx/model_quantized.onnx, onnx/model_fp16.onnx. The ONNX files are copied from the test
 * fixture model when it exists, otherwise they are a few hundred KB of seeded bytes.
 */
export async function makeSourceModel(options: SourceModelOptions = {}): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'onnx-lens-hub-src-'));
  await fs.promises.mkdir(path.join(dir, 'onnx'));
  const fixture = path.join(FIXTURES, 'bert-cls-op14');
  const fromFixture = (names: string[]): string | undefined =>
    names.map((n) => path.join(fixture, n)).find((p) => fs.existsSync(p) && fs.statSync(p).isFile());

  const put = async (rel: string, fixtureNames: string[], seed: number, size: number): Promise<void> => {
    const found = fromFixture(fixtureNames);
    const target = path.join(dir, ...rel.split('/'));
    if (found) await fs.promises.copyFile(found, target);
    else await fs.promises.writeFile(target, seededBytes(seed, size));
  };
  await put('onnx/model.onnx', ['onnx/model.onnx', 'model.onnx'], 1, 300_000);
  await put('onnx/model_quantized.onnx', ['onnx/model_quantized.onnx', 'model_quantized.onnx'], 2, 120_000);
  await fs.promises.writeFile(path.join(dir, 'onnx', 'model_fp16.onnx'), seededBytes(3, 150_000));

  const copyText = async (name: string, fallback: unknown): Promise<void> => {
    const found = fromFixture([name]);
    if (found) await fs.promises.copyFile(found, path.join(dir, name));
    else await fs.promises.writeFile(path.join(dir, name), JSON.stringify(fallback, null, 2));
  };
  await copyText('config.json', { model_type: 'bert', num_hidden_layers: 2, num_attention_heads: 2, hidden_size: 32 });
  await copyText('tokenizer.json', {
    version: '1.0',
    model: { type: 'WordPiece', unk_token: '[UNK]', vocab: { '[PAD]': 0, '[UNK]': 1, '[CLS]': 2, '[SEP]': 3, good: 4, bad: 5 } },
  });
  await copyText('tokenizer_config.json', { do_lower_case: true, model_max_length: 512 });
  await fs.promises.writeFile(path.join(dir, 'README.md'), '# tiny test model\n');
  if (options.externalData) {
    await fs.promises.writeFile(path.join(dir, 'onnx', 'model.onnx_data'), seededBytes(4, 200_000));
    await fs.promises.writeFile(path.join(dir, 'onnx', 'model_fp16.onnx_data'), seededBytes(5, 100_000));
  }
  return { dir, cleanup: () => fs.promises.rm(dir, { recursive: true, force: true }) };
}

/**
 * The hooks of a test file whose tests each download from a hub of their own: one source model for the whole
 * file, and before each test a fresh fake hub serving it as `repo` and an empty folder `onnx-lens-<prefix>-…`,
 * handed to `onEach` with the source model's folder; after each test the hub is closed and the folder removed.
 * Call it at the top of the file.
 */
export function fakeHubPerTest(repo: string, prefix: string, onEach: (each: { hub: FakeHub; folder: string; sourceDir: string }) => void): void {
  let source: { dir: string; cleanup(): Promise<void> };
  let hub: FakeHub;
  let folder: string;
  before(async () => {
    source = await makeSourceModel();
  });
  after(async () => source.cleanup());
  beforeEach(async () => {
    hub = await startFakeHub({ sourceDir: source.dir, repo });
    folder = await fs.promises.mkdtemp(path.join(os.tmpdir(), `onnx-lens-${prefix}-`));
    onEach({ hub, folder, sourceDir: source.dir });
  });
  afterEach(async () => {
    await hub.close();
    await fs.promises.rm(folder, { recursive: true, force: true });
  });
}

/** Deterministic pseudo-random bytes (mulberry32), so the same seed always gives the same file. */
export function seededBytes(seed: number, size: number): Buffer {
  const out = Buffer.alloc(size);
  let a = seed >>> 0;
  for (let i = 0; i < size; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) & 0xff;
  }
  return out;
}

async function describeFiles(root: string, prefix = ''): Promise<SourceFile[]> {
  const out: SourceFile[] = [];
  for (const e of await fs.promises.readdir(path.join(root, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) {
      out.push(...(await describeFiles(root, rel)));
      continue;
    }
    const full = path.join(root, ...rel.split('/'));
    const content = await fs.promises.readFile(full);
    out.push({
      path: rel,
      full,
      size: content.length,
      sha256: crypto.createHash('sha256').update(content).digest('hex'),
      gitSha1: crypto.createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex'),
      lfs: /\.onnx(_data|\.data)?$/.test(rel),
    });
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

function sha1(text: string): string {
  return crypto.createHash('sha1').update(text).digest('hex');
}

function encodePath(rel: string): string {
  return rel.split('/').map(encodeURIComponent).join('/');
}

function listen(server: http.Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
}

function shut(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

/** Every file below `dir` (relative, `/`-separated, sorted); empty when `dir` does not exist. */
export function listTree(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(path.join(dir, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const child = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(child);
      else out.push(child);
    }
  };
  walk('');
  return out.sort();
}
