/**
 * Mocha entry that runs inside the VS Code extension host, both under code-server
 * (scripts/vscode/runIntegration.mjs) and under @vscode/test-electron (test/integration/runElectron.ts).
 * Loads every compiled `*.test.js` next to this file and ends with the line `N passed, N failed`.
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
    try {
      const runner = mocha.run(() => {
        console.log(`${passed} passed, ${failed} failed`);
        if (failed > 0) reject(new Error(`${failed} integration test(s) failed`));
        else resolve();
      });
      runner.on('pass', () => passed++);
      // 'fail' also fires for failing hooks, which the stats count as failures too.
      runner.on('fail', () => failed++);
    } catch (err) {
      console.error(err);
      console.log(`${passed} passed, ${failed + 1} failed`);
      reject(err);
    }
  });
}
