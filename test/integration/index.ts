/**
 * Mocha entry that runs inside the VS Code extension host, both under code-server
 * (scripts/vscode/runIntegration.mjs) and under @vscode/test-electron (test/integration/runElectron.ts).
 * Loads every compiled `*.test.js` next to this file and ends with the line `N passed, N failed`.
 *
 * A skipped test counts as a failure: every model and fixture the suite needs ships with the
 * repository, so a skip means something is missing, and a green run must not hide it. Each skip is
 * listed with its reason before the closing line.
 */
import * as fs from 'fs';
import * as path from 'path';
import Mocha from 'mocha';

export function run(): Promise<void> {
  const mocha = new Mocha({
    ui: 'tdd',
    timeout: 60_000,
    color: false,
    reporter: 'spec',
    grep: process.env.ONNX_LENS_TEST_GREP || undefined,
  });

  const files = fs
    .readdirSync(__dirname)
    .filter((f) => f.endsWith('.test.js'))
    .sort();
  for (const f of files) mocha.addFile(path.join(__dirname, f));

  return new Promise((resolve, reject) => {
    if (files.length === 0) {
      reject(new Error(`no *.test.js files in ${__dirname}`));
      return;
    }
    let passed = 0;
    let failed = 0;
    const skipped: string[] = [];
    try {
      const runner = mocha.run(() => {
        if (skipped.length > 0) {
          console.log(`${skipped.length} skipped (a skip fails the run):`);
          for (const s of skipped) console.log(`  - ${s}`);
        }
        // Skips are counted with the failures so that every reader of the closing line sees them.
        console.log(`${passed} passed, ${failed + skipped.length} failed${skipped.length ? ` (${skipped.length} skipped)` : ''}`);
        if (failed > 0 || skipped.length > 0) reject(new Error(`${failed} integration test(s) failed, ${skipped.length} skipped`));
        else resolve();
      });
      runner.on('pass', () => passed++);
      // 'fail' also fires for failing hooks, which the stats count as failures too.
      runner.on('fail', () => failed++);
      // A test skipped by this.skip() (in the test or in a suiteSetup) or declared without a body.
      runner.on('pending', (test: Mocha.Test) => skipped.push(test.fullTitle()));
    } catch (err) {
      console.error(err);
      console.log(`${passed} passed, ${failed + 1} failed`);
      reject(err);
    }
  });
}
