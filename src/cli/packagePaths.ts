import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * The package's own folders, found from the running file: the bundle lives in `dist/`, so the
 * package root is the first folder above it holding the package's package.json.
 */
export function packageRoot(from: string = __dirname): string {
  let dir = from;
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest)) {
      try {
        if ((JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: string }).name === 'onnx-lens') return dir;
      } catch {
        // An unreadable package.json belongs to something else; keep looking upwards.
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) return path.dirname(from);
    dir = parent;
  }
}

/** The package version from package.json, or "unknown" when it cannot be read. */
export function packageVersion(root: string = packageRoot()): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The demo model shipped with the package: `models/demo-sentiment/`. */
export function demoModelPath(root: string = packageRoot()): string {
  return path.join(root, 'models', 'demo-sentiment');
}

/** The model cache: `$XDG_CACHE_HOME/onnx-lens/models`, else `~/.cache/onnx-lens/models`. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME?.trim();
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.cache');
  return path.join(base, 'onnx-lens', 'models');
}
