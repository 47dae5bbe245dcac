#!/usr/bin/env node
// Runs the integration suite (out/test/integration/index.js, Mocha inside the extension host) in a real
// VS Code: code-server + the web workbench in headless Chromium, the extension loaded from this folder as
// the development extension. The workbench's smoke-test driver reports Mocha's output and the exit code.
//
//   node scripts/vscode/runIntegration.mjs [--timeout 600] [--grep pattern] [--theme dark|light] [--verbose]
//                                          [--extension-path dir]   (default: this repository)
//
// Needs: scripts/vscode/installTools.sh, then `node esbuild.mjs` and `npx tsc -p tsconfig.test.json`.
// Ends with the line `N passed, N failed`; exits with the suite's code (124 on timeout).
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { format } from 'node:util';
import { launchBrowser } from './browser.mjs';
import { repoRoot, startCodeServer } from './codeServer.mjs';
import { workbenchUrl } from './workbenchDriver.mjs';

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
const timeoutS = Number(opt('--timeout', process.env.ONNX_LENS_INTEGRATION_TIMEOUT ?? 600));
const grep = opt('--grep');
const theme = opt('--theme', 'dark');
const verbose = argv.includes('--verbose') || !!process.env.ONNX_LENS_VERBOSE;
const extensionPath = resolve(opt('--extension-path', repoRoot));

const testsEntry = join(repoRoot, 'out', 'test', 'integration', 'index.js');
if (!existsSync(testsEntry)) {
  console.error(`${testsEntry} is missing: run \`npx tsc -p tsconfig.test.json\` first`);
  process.exit(2);
}
if (extensionPath === repoRoot && !existsSync(join(repoRoot, 'dist', 'extension.js'))) {
  console.error('warning: dist/extension.js is missing (run `node esbuild.mjs`); the extension cannot activate');
}

const t0 = Date.now();
const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
let server;
let context;
let summary;

async function cleanup() {
  try {
    await context?.close();
  } catch {}
  await server?.stop();
}

const timer = setTimeout(async () => {
  console.error(`\nintegration: timed out after ${timeoutS} s`);
  if (server) console.error(`--- code-server log (tail) ---\n${server.logTail()}`);
  await cleanup();
  console.log(summary ?? '0 passed, 1 failed');
  process.exit(124);
}, timeoutS * 1000);

try {
  // index.ts reads ONNX_LENS_TEST_GREP: it reaches Mocha through the extension host's environment.
  server = await startCodeServer({ theme, env: grep ? { ONNX_LENS_TEST_GREP: grep } : {} });

  const workspace = join(server.scratch, 'workspace');
  mkdirSync(workspace, { recursive: true });
  cpSync(join(repoRoot, 'scripts', 'vscode', 'workspace'), workspace, { recursive: true });

  context = await launchBrowser(server);
  let resolveExit;
  const exited = new Promise((r) => (resolveExit = r));
  // Both must exist before the workbench loads.
  await context.exposeFunction('codeAutomationLog', (...args) => {
    // (level, message) from the driver's logger; older builds passed printf-style arguments.
    const levels = ['trace', 'debug', 'info', 'warn', 'error'];
    const level = typeof args[0] === 'string' && levels.includes(args[0]) && args.length > 1 ? args.shift() : 'info';
    // The message is either a string or the printf-style argument list of console.log in the extension host.
    const text = args.length === 1 && Array.isArray(args[0]) ? format(...args[0]) : format(...args);
    for (const line of text.split('\n')) {
      const m = /(\d+) passed, (\d+) failed( \(\d+ skipped\))?\s*$/.exec(line);
      if (m) summary = `${m[1]} passed, ${m[2]} failed${m[3] ?? ''}`;
    }
    if (verbose || level === 'error' || level === 'warn' || !isWorkbenchNoise(text)) {
      process.stdout.write((level === 'error' || level === 'warn' ? `[${level}] ` : '') + text + '\n');
    }
  });
  await context.exposeFunction('codeAutomationExit', (a, b) => {
    // (code, logs) now; (logs, code) in older builds.
    const code = typeof a === 'number' ? a : typeof b === 'number' ? b : 1;
    resolveExit(code);
  });

  const page = context.pages()[0] ?? (await context.newPage());
  if (verbose) page.on('console', (m) => console.log(`[browser ${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));

  const url = workbenchUrl(server, workspace, { extensionPath, testsPath: testsEntry });
  console.error(`integration: code-server ready (${elapsed()}), opening the workbench`);
  await page.goto(url);

  const code = await exited;
  clearTimeout(timer);
  await cleanup();
  if (!summary) summary = code === 0 ? '0 passed, 0 failed' : '0 passed, 1 failed';
  console.error(`integration: finished in ${elapsed()} with exit code ${code}`);
  console.log(summary);
  process.exit(code);
} catch (err) {
  clearTimeout(timer);
  console.error(err);
  if (server) console.error(`--- code-server log (tail) ---\n${server.logTail()}`);
  await cleanup();
  console.log(summary ?? '0 passed, 1 failed');
  process.exit(1);
}

/** Workbench start-up chatter that the driver's logger forwards along with Mocha's output (shown with --verbose). */
function isWorkbenchNoise(text) {
  return /^(?:\[driver\]|\[reconnection-grace-time\]|\[Service Worker\]|\[AgentHost\b|\[AccountPolicyGate\]|Resolving connection token|Resolved connection token|Creating a socket|Ignoring fetching additional builtin|Updating additional builtin|Started local extension host|Extension host \()/.test(text);
}
