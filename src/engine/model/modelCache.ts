import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Which ONNX export of a model is kept: full precision or the 8-bit quantized one. */
export type ModelVariant = 'fp32' | 'quantized';

/** Name of the manifest that marks a cached model folder as completely downloaded. */
export const COMPLETE_MANIFEST = '.complete.json';

/** One file recorded in a complete model's manifest. */
export interface ManifestFile {
  /** Path inside the model folder, always with `/` separators. */
  path: string;
  size: number;
  sha256: string;
}

/** Contents of `.complete.json`: written last, so its presence means every file is in place. */
export interface CompleteManifest {
  format: 1;
  repo: string;
  revision: string;
  /** Commit the hub resolved the revision to, when it said so. */
  commit?: string;
  variant: ModelVariant;
  /** Endpoint the files came from (origin and path only, never credentials). */
  endpoint: string;
  files: ManifestFile[];
  totalBytes: number;
  /** ISO 8601 time at which the download completed. */
  completedAt: string;
}

/** A model folder found in the cache. */
export interface CachedModel {
  repo: string;
  revision: string;
  /** From the manifest, or guessed from the ONNX file names of an incomplete folder. */
  variant?: ModelVariant;
  /** Bytes on disk. */
  sizeBytes: number;
  /** True only when the manifest is present and every file it lists exists with its recorded size. */
  complete: boolean;
  path: string;
  completedAt?: string;
}

// Hub rules for repository names: letters, digits, '-', '_', '.', not starting or ending with
// '-' or '.', and no '--' or '..'. Forbidding '--' also keeps `<owner>--<name>` folder names
// unambiguous.
const REPO_SEGMENT = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?$/;
const REVISION = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** True for a hub repository id of the form `owner/name` made of safe characters only. */
export function isValidRepoId(repo: string): boolean {
  if (typeof repo !== 'string') return false;
  const parts = repo.split('/');
  if (parts.length !== 2) return false;
  return parts.every((p) => REPO_SEGMENT.test(p) && !p.includes('--') && !p.includes('..'));
}

/** True for a revision (branch, tag or commit) usable both in a URL and as one folder name. */
export function isValidRevision(revision: string): boolean {
  return typeof revision === 'string' && REVISION.test(revision) && !revision.includes('..');
}

/** Folder name of a repository inside the cache: `owner/name` becomes `owner--name`. */
export function repoFolderName(repo: string): string {
  if (!isValidRepoId(repo)) {
    throw new RangeError(`"${String(repo)}" is not a model repository id of the form owner/name`);
  }
  return repo.replace('/', '--');
}

/**
 * Folder holding one repository (every revision), or one revision of it, inside `cacheDir`.
 * Throws a RangeError for an invalid repository id or revision, so no caller can build a path
 * outside the cache from user input.
 */
export function cachedModelPath(cacheDir: string, repo: string, revision = 'main'): string {
  if (!isValidRevision(revision)) {
    throw new RangeError(`"${String(revision)}" is not a valid revision name`);
  }
  return path.join(path.resolve(cacheDir), repoFolderName(repo), revision);
}

/** Reads a model folder's manifest; undefined when it is absent or unreadable. */
export async function readCompleteManifest(modelDir: string): Promise<CompleteManifest | undefined> {
  let text: string;
  try {
    text = await fs.promises.readFile(path.join(modelDir, COMPLETE_MANIFEST), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const m = JSON.parse(text) as Partial<CompleteManifest>;
    if (
      m.format !== 1 ||
      typeof m.repo !== 'string' ||
      typeof m.revision !== 'string' ||
      (m.variant !== 'fp32' && m.variant !== 'quantized') ||
      !Array.isArray(m.files) ||
      !m.files.every((f) => f && typeof f.path === 'string' && typeof f.size === 'number')
    ) {
      return undefined;
    }
    return m as CompleteManifest;
  } catch {
    return undefined;
  }
}

/** Writes the manifest atomically (temporary file, then rename) so a crash never leaves half of it. */
export async function writeCompleteManifest(modelDir: string, manifest: CompleteManifest): Promise<void> {
  const target = path.join(modelDir, COMPLETE_MANIFEST);
  const temp = `${target}.part-${process.pid}-${Date.now().toString(36)}`;
  await fs.promises.writeFile(temp, JSON.stringify(manifest, null, 2) + '\n', { flag: 'wx' });
  try {
    await fs.promises.rename(temp, target);
  } catch (err) {
    await fs.promises.rm(temp, { force: true });
    throw err;
  }
}

/**
 * True when every file the manifest lists is a regular file inside `modelDir` with the recorded
 * size. Hashes are not recomputed: that would read gigabytes on every listing.
 */
export async function manifestFilesPresent(modelDir: string, manifest: CompleteManifest): Promise<boolean> {
  for (const f of manifest.files) {
    const full = path.resolve(modelDir, f.path);
    if (!isInside(modelDir, full)) return false;
    try {
      const st = await fs.promises.stat(full);
      if (!st.isFile() || st.size !== f.size) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/** Lists every model folder in the cache, complete or not, sorted by repository then revision. */
export async function listCachedModels(cacheDir: string): Promise<CachedModel[]> {
  const root = path.resolve(cacheDir);
  const repoDirs = await readDirOrEmpty(root);
  const models: CachedModel[] = [];
  for (const repoEntry of repoDirs) {
    if (!repoEntry.isDirectory() || repoEntry.name.startsWith('.')) continue;
    const parts = repoEntry.name.split('--');
    if (parts.length !== 2) continue;
    const repo = `${parts[0]}/${parts[1]}`;
    if (!isValidRepoId(repo)) continue;
    const repoDir = path.join(root, repoEntry.name);
    for (const revEntry of await readDirOrEmpty(repoDir)) {
      // Staging and retired folders start with '.' and are never a model of their own.
      if (!revEntry.isDirectory() || !isValidRevision(revEntry.name)) continue;
      const modelDir = path.join(repoDir, revEntry.name);
      const manifest = await readCompleteManifest(modelDir);
      const complete =
        manifest !== undefined &&
        manifest.repo === repo &&
        manifest.revision === revEntry.name &&
        (await manifestFilesPresent(modelDir, manifest));
      const files = await listFilesRecursive(modelDir);
      let sizeBytes = 0;
      for (const f of files) sizeBytes += f.size;
      models.push({
        repo,
        revision: revEntry.name,
        variant: manifest?.variant ?? guessVariant(files.map((f) => f.rel)),
        sizeBytes,
        complete,
        path: modelDir,
        completedAt: complete ? manifest?.completedAt : undefined,
      });
    }
  }
  models.sort((a, b) => (a.repo === b.repo ? a.revision.localeCompare(b.revision) : a.repo.localeCompare(b.repo)));
  return models;
}

/**
 * Deletes one revision of a cached model, or every revision when `revision` is omitted.
 * Refuses anything that would resolve outside `cacheDir` (invalid ids, or a repository folder that
 * is a link to elsewhere). Returns false when there was nothing to delete.
 */
export async function removeCachedModel(cacheDir: string, repo: string, revision?: string): Promise<boolean> {
  const root = path.resolve(cacheDir);
  const repoDir = path.join(root, repoFolderName(repo));
  const target = revision === undefined ? repoDir : cachedModelPath(root, repo, revision);
  if (!isInside(root, target) || target === root) {
    throw new RangeError(`Refusing to delete ${target}: it is not inside the model cache`);
  }
  let targetStat: fs.Stats;
  try {
    targetStat = await fs.promises.lstat(target);
  } catch {
    return false;
  }
  // Resolve links on the way: a repository folder that points elsewhere must not let a delete
  // reach outside the cache.
  const realRoot = await fs.promises.realpath(root);
  const realParent = await fs.promises.realpath(path.dirname(target));
  if (!isInside(realRoot, path.join(realParent, path.basename(target)))) {
    throw new RangeError(`Refusing to delete ${target}: it resolves outside the model cache`);
  }
  if (targetStat.isSymbolicLink()) {
    await fs.promises.unlink(target);
  } else {
    await fs.promises.rm(target, { recursive: true, force: true });
  }
  if (revision !== undefined) {
    // Drop the repository folder once its last revision is gone.
    const rest = await readDirOrEmpty(repoDir);
    if (rest.length === 0) await fs.promises.rmdir(repoDir).catch(() => undefined);
  }
  return true;
}

/** Options for {@link lockModelFolder}. */
export interface ModelLockOptions {
  /** Stops waiting (the promise rejects with the signal's reason, or an AbortError). */
  signal?: AbortSignal;
  /** How often a waiting process looks again (ms). Default 100. */
  pollMs?: number;
  /**
   * A lock whose file has not been touched for this long is taken over (ms): its holder died on another
   * machine sharing the cache, or its process id was reused. The holder touches it three times as often.
   * A holder on this machine whose process is gone is taken over at once. Default 60 s.
   */
  staleMs?: number;
}

/** The lock file of one revision's folder: beside it, so it survives the folder being swapped. */
export function modelLockFile(modelDir: string): string {
  return path.join(path.dirname(modelDir), `.lock-${path.basename(modelDir)}`);
}

/**
 * Takes the lock of one model folder, waiting while another process (or another download in this one)
 * holds it, so two downloads of the same model never write the same folder at once. Resolves to the
 * function that releases it.
 */
export async function lockModelFolder(modelDir: string, options: ModelLockOptions = {}): Promise<() => Promise<void>> {
  const file = modelLockFile(modelDir);
  const pollMs = options.pollMs ?? 100;
  const staleMs = options.staleMs ?? 60_000;
  const mine = JSON.stringify({ pid: process.pid, host: os.hostname(), id: crypto.randomBytes(8).toString('hex'), since: new Date().toISOString() });
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  for (;;) {
    options.signal?.throwIfAborted();
    try {
      await fs.promises.writeFile(file, mine, { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (await takeOverIfStale(file, staleMs)) continue;
    await pause(pollMs, options.signal);
  }
  const touch = setInterval(() => {
    const now = new Date();
    fs.promises.utimes(file, now, now).catch(() => undefined);
  }, Math.max(10, Math.floor(staleMs / 3)));
  touch.unref();
  return async () => {
    clearInterval(touch);
    // Remove only our own lock: after a take-over the file may belong to another process.
    const current = await fs.promises.readFile(file, 'utf8').catch(() => undefined);
    if (current === mine) await fs.promises.rm(file, { force: true });
  };
}

/** Removes a lock whose holder is gone; true when it did (or the lock vanished meanwhile). */
async function takeOverIfStale(file: string, staleMs: number): Promise<boolean> {
  let content: string;
  let mtimeMs: number;
  try {
    [content, mtimeMs] = await Promise.all([fs.promises.readFile(file, 'utf8'), fs.promises.stat(file).then((st) => st.mtimeMs)]);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw err;
  }
  let holder: { pid?: unknown; host?: unknown } | undefined;
  try {
    holder = JSON.parse(content) as { pid?: unknown; host?: unknown };
  } catch {
    holder = undefined; // being written right now, or damaged: only its age tells
  }
  const gone = holder !== undefined && holder.host === os.hostname() && typeof holder.pid === 'number' && !processExists(holder.pid);
  if (!gone && Date.now() - mtimeMs < staleMs) return false;
  // Move it aside first, so that of several processes taking over only one succeeds; put back a lock
  // that another process took in the meantime.
  const aside = `${file}.stale-${crypto.randomBytes(6).toString('hex')}`;
  try {
    await fs.promises.rename(file, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw err;
  }
  const moved = await fs.promises.readFile(aside, 'utf8').catch(() => content);
  if (moved !== content) await fs.promises.link(aside, file).catch(() => undefined);
  await fs.promises.rm(aside, { force: true });
  return true;
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason ?? new Error('aborted'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** True when `child` is `parent` itself or lies below it. */
export function isInside(parent: string, child: string): boolean {
  const rel = path.relative(path.resolve(parent), path.resolve(child));
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

function guessVariant(relPaths: string[]): ModelVariant | undefined {
  const onnx = relPaths.filter((p) => p.endsWith('.onnx'));
  if (onnx.length === 0) return undefined;
  return onnx.some((p) => /_quantized\.onnx$/.test(p)) ? 'quantized' : 'fp32';
}

async function readDirOrEmpty(dir: string): Promise<fs.Dirent[]> {
  try {
    return await fs.promises.readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

async function listFilesRecursive(dir: string, prefix = ''): Promise<Array<{ rel: string; size: number }>> {
  const out: Array<{ rel: string; size: number }> = [];
  for (const e of await readDirOrEmpty(dir)) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    const full = path.join(dir, e.name);
    if (e.isDirectory()) {
      out.push(...(await listFilesRecursive(full, rel)));
    } else if (e.isFile()) {
      const st = await fs.promises.stat(full).catch(() => undefined);
      if (st) out.push({ rel, size: st.size });
    }
  }
  return out;
}
