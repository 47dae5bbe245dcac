// npm test never skips silently: scripts/testCounts.mjs reads each tier's skips from what the tier printed, the
// closing line counts them per tier, and a run that installed the VS Code tools fails on any skip. The skips are
// read from real runs: node's test runner on a file that skips the way the unit tests do (a whole describe when
// Chromium is missing, t.skip when a fixture is), and the integration suite's closing lines.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from '../../support/fixtureModels';

const COUNTS = pathToFileURL(path.join(REPO_ROOT, 'scripts', 'testCounts.mjs')).href;

/** Calls `fn` of scripts/testCounts.mjs (an ES module) with `args` in a child Node, and returns its result. */
function call(fn: string, ...args: unknown[]): unknown {
  const script = `import * as m from ${JSON.stringify(COUNTS)}; import { readFileSync } from 'node:fs'; const args = JSON.parse(readFileSync(0, 'utf8')); process.stdout.write(JSON.stringify(m[${JSON.stringify(fn)}](...args)));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { input: JSON.stringify(args), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/** The spec reporter's output of node's test runner on a file of tests. */
function runNodeTests(source: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-lens-skips-'));
  try {
    const file = path.join(dir, 'skips.test.mjs');
    fs.writeFileSync(file, source);
    // Inside a test run, node marks child processes as its own children: unmarked, the child reports as npm test sees it.
    const env = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
    return spawnSync(process.execPath, ['--test', '--test-reporter=spec', file], { encoding: 'utf8', env }).stdout;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('skips in the closing line', () => {
  test('a describe skipped when Chromium is missing counts, though node’s own total leaves it out', () => {
    const output = runNodeTests(`
import { describe, test } from 'node:test';
describe('exports with hostile text and labels', { skip: 'no Chromium at /usr/bin/chromium' }, () => {
  test('the HTML report', () => {});
  test('the SVG charts', () => {});
});
test('a fixture that is missing', (t) => t.skip('fixture missing'));
test('a test that runs', () => {});
`);
    assert.match(output, /^ℹ skipped 1$/m, 'node’s total counts the t.skip only');
    const counts = call('nodeTestCounts', output) as { passed: number; failed: number; skipped: string[] };
    assert.deepEqual(counts, {
      passed: 1,
      failed: 0,
      skipped: ['exports with hostile text and labels (no Chromium at /usr/bin/chromium)', 'a fixture that is missing (fixture missing)'],
    });
  });

  test('the integration suite’s skips, listed before its closing line, are read with their names', () => {
    const output = ['  ✔ a test (12ms)', '2 skipped (a skip fails the run):', '  - Suite a skipped test', '  - Suite another', '5 passed, 2 failed (2 skipped)', ''].join('\n');
    assert.deepEqual(call('summaryCounts', output), { passed: 5, failed: 2, skipped: ['Suite a skipped test', 'Suite another'] });
    assert.deepEqual(call('summaryCounts', 'e2e: 40.1 s\n31 passed, 0 failed\n'), { passed: 31, failed: 0, skipped: [] });
  });

  test('the closing line says the skips per tier, after the words older readers look for', () => {
    assert.equal(call('closingLine', { passed: 776, failed: 0, skippedByTier: { unit: 2, integration: 0, e2e: 0 } }), '776 passed, 0 failed, 2 skipped (unit 2, integration 0, e2e 0)');
  });

  test('with the VS Code tools installed for the run, a skip fails it; without them it is named and counted', () => {
    const skipped = { unit: ['exports with hostile text and labels (no Chromium)'], integration: ['Suite a skipped test'], e2e: [] };
    const withTools = call('skipReport', skipped, true) as { lines: string[]; fails: boolean; addFailed: number };
    assert.equal(withTools.fails, true);
    assert.equal(withTools.addFailed, 1, 'the integration tier counted its skip as a failure already');
    assert.ok(withTools.lines.includes('  - unit: exports with hostile text and labels (no Chromium)'), withTools.lines.join('\n'));
    const unitOnly = call('skipReport', { unit: skipped.unit }, false) as typeof withTools;
    assert.equal(unitOnly.fails, false);
    assert.deepEqual(unitOnly.lines, ['skipped:', '  - unit: exports with hostile text and labels (no Chromium)']);
    assert.deepEqual(call('skipReport', { unit: [] }, true), { lines: [], fails: false, addFailed: 0 });
  });
});
