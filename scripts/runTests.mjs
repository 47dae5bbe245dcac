// `npm test`: builds the bundles and the tests, installs what the VS Code tiers need when it is missing
// (code-server with its Node 24, Chromium: scripts/vscode/installTools.sh, cached outside the clone), then
// runs every tier in turn — unit (plain Node), integration (inside a real VS Code) and end-to-end (Chromium
// driving the packaged extension) — and prints one closing line for all of them.
// ONNX_LENS_TIERS=unit (or unit,integration) runs fewer tiers.
//
// A skip is never silent: every skipped test is named and the closing line counts them per tier; when this run
// installed (or found) the VS Code tools, Chromium included, nothing is missing that a test could need, so any
// skip fails the run.
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { closingLine, nodeTestCounts, skipReport, summaryCounts } from './testCounts.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tiers = (process.env.ONNX_LENS_TIERS ?? 'unit,integration,e2e').split(',').map((t) => t.trim());
let passed = 0;
let failed = 0;
const failures = [];
/** Names of the skipped tests, per tier that ran. */
const skippedByTier = {};

function testFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...testFiles(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out.sort();
}

function run(tier, cmd, args, parse) {
  console.log(`\n=== ${tier} ===`);
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 28 });
  process.stdout.write(r.stdout ?? '');
  const counts = parse(r.stdout ?? '');
  passed += counts.passed;
  failed += counts.failed;
  skippedByTier[tier] = counts.skipped;
  if (r.status !== 0 || counts.failed > 0) {
    failures.push(tier);
    if (counts.failed === 0) failed += 1; // a tier that died before reporting still fails the run
  }
}

/** Runs a set-up step; false (with the step named as failed) when it does not exit 0. */
function step(name, cmd, args, options = {}) {
  const started = Date.now();
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...options });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (r.status === 0) {
    console.log(`${name}: done in ${seconds} s`);
    return true;
  }
  console.log(`${name}: FAILED (exit ${r.status ?? r.signal}) after ${seconds} s`);
  failures.push(name);
  failed += 1;
  return false;
}

/**
 * The tools of the VS Code tiers: installTools.sh installs what is missing (printing what and how long)
 * and ends with `NAME=value` lines, which the tiers read from the environment. When it cannot install
 * (no apt, not root), its last stderr line says what to install, and the tiers fail with that line.
 */
function ensureVsCodeTools() {
  console.log('\n=== tools for the VS Code tiers ===');
  const started = Date.now();
  const r = spawnSync('bash', [path.join(root, 'scripts', 'vscode', 'installTools.sh')], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  process.stderr.write(r.stderr ?? '');
  if (r.status !== 0) {
    const reason = (r.stderr ?? '').trim().split('\n').filter((l) => l.includes('cannot install')).pop();
    return reason ?? `scripts/vscode/installTools.sh failed (exit ${r.status ?? r.signal}); its output is above`;
  }
  for (const line of (r.stdout ?? '').split('\n')) {
    const m = /^(ONNX_LENS_\w+)=(.*)$/.exec(line.trim());
    if (m) process.env[m[1]] = m[2];
  }
  console.log(`tools ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return undefined;
}

// `npm test` runs no pre-script (the repository's .npmrc sets ignore-scripts), so it builds here.
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
// Compiled tests start from an empty folder, so a test deleted or moved in the sources does not linger.
rmSync(path.join(root, 'out', 'test'), { recursive: true, force: true });
const built = step('build', npm, ['run', '--silent', 'build']) && step('compile tests', npm, ['run', '--silent', 'compile-tests']);
if (!built) {
  console.log(`\nfailed: ${failures.join(', ')}`);
  process.exit(1);
}

const vsCodeTiers = tiers.filter((t) => t === 'integration' || t === 'e2e');
const toolsProblem = vsCodeTiers.length > 0 ? ensureVsCodeTools() : undefined;
if (toolsProblem) {
  for (const tier of vsCodeTiers) {
    console.log(`\n=== ${tier} ===\n${tier} tier not run: ${toolsProblem.replace(/^\[installTools\]\s*/, '')}`);
    failures.push(tier);
    failed += 1;
  }
}

if (tiers.includes('unit')) {
  const files = testFiles(path.join(root, 'out', 'test', 'unit'));
  run('unit', process.execPath, ['--test', '--test-reporter=spec', ...files], nodeTestCounts);
}
if (tiers.includes('integration') && !toolsProblem) {
  run('integration', process.execPath, [path.join(root, 'scripts', 'vscode', 'runIntegration.mjs')], summaryCounts);
}
if (tiers.includes('e2e') && !toolsProblem) {
  // The end-to-end tier drives the packaged extension, so package it first.
  const pack = spawnSync('bash', [path.join(root, 'scripts', 'vscode', 'packageVsix.sh')], { cwd: root, stdio: 'inherit' });
  if (pack.status !== 0) {
    failures.push('package');
    failed += 1;
  } else {
    run('e2e', process.execPath, [path.join(root, 'test', 'e2e', 'workbench.e2e.mjs')], summaryCounts);
  }
}
// The tools were there for this run, so nothing a test could need was missing: a skip hides a fault.
const skipped = skipReport(skippedByTier, vsCodeTiers.length > 0 && !toolsProblem);
if (skipped.lines.length) console.log(`\n${skipped.lines.join('\n')}`);
if (skipped.fails) {
  failures.push('skips');
  failed += skipped.addFailed;
}
const skippedCounts = Object.fromEntries(Object.entries(skippedByTier).map(([tier, names]) => [tier, names.length]));
console.log(`\n${failures.length ? `failed tiers: ${failures.join(', ')}\n` : ''}${closingLine({ passed, failed, skippedByTier: skippedCounts })}`);
process.exit(failed > 0 || failures.length > 0 ? 1 : 0);
