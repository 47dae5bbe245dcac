// `npm test`: every tier in turn — unit (plain Node), integration (inside a real VS Code) and
// end-to-end (Chromium driving the packaged extension) — then one closing line for all of them.
// ONNX_LENS_TIERS=unit (or unit,integration) runs fewer tiers.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tiers = (process.env.ONNX_LENS_TIERS ?? 'unit,integration,e2e').split(',').map((t) => t.trim());
let passed = 0;
let failed = 0;
const failures = [];

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
  if (r.status !== 0 || counts.failed > 0) {
    failures.push(tier);
    if (counts.failed === 0) failed += 1; // a tier that died before reporting still fails the run
  }
}

const lastCounts = (text) => {
  const m = [...text.matchAll(/^(?:\S+: )?(\d+) passed, (\d+) failed/gm)].pop();
  return m ? { passed: Number(m[1]), failed: Number(m[2]) } : { passed: 0, failed: 0 };
};

if (tiers.includes('unit')) {
  const files = testFiles(path.join(root, 'out', 'test', 'unit'));
  run('unit', process.execPath, ['--test', '--test-reporter=spec', ...files], (text) => {
    const pass = /^ℹ pass (\d+)/m.exec(text);
    const fail = /^ℹ fail (\d+)/m.exec(text);
    return { passed: pass ? Number(pass[1]) : 0, failed: fail ? Number(fail[1]) : 0 };
  });
}
if (tiers.includes('integration')) {
  run('integration', process.execPath, [path.join(root, 'scripts', 'vscode', 'runIntegration.mjs')], lastCounts);
}
if (tiers.includes('e2e')) {
  // The end-to-end tier drives the packaged extension, so package it first.
  const pack = spawnSync('bash', [path.join(root, 'scripts', 'vscode', 'packageVsix.sh')], { cwd: root, stdio: 'inherit' });
  if (pack.status !== 0) {
    failures.push('package');
    failed += 1;
  } else {
    run('e2e', process.execPath, [path.join(root, 'test', 'e2e', 'workbench.e2e.mjs')], lastCounts);
  }
}
console.log(`\n${failures.length ? `failed tiers: ${failures.join(', ')}\n` : ''}${passed} passed, ${failed} failed`);
process.exit(failed > 0 || failures.length > 0 ? 1 : 0);
