/**
 * Runs the integration suite in VS Code desktop through @vscode/test-electron (downloads VS Code,
 * so it needs internet). Offline, use scripts/vscode/runIntegration.mjs (code-server) instead.
 *
 *   npx tsc -p tsconfig.test.json && node esbuild.mjs && node out/test/integration/runElectron.js
 *
 * VSCODE_VERSION picks the VS Code build (default: stable).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runTests } from '@vscode/test-electron';

async function main(): Promise<void> {
  // out/test/integration/runElectron.js → repository root
  const extensionDevelopmentPath = path.resolve(__dirname, '..', '..', '..');
  const extensionTestsPath = path.resolve(__dirname, 'index.js');
  // The same workspace files as the code-server harness (scripts/vscode/runIntegration.mjs).
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-lens-ws-'));
  fs.cpSync(path.join(extensionDevelopmentPath, 'scripts', 'vscode', 'workspace'), workspace, { recursive: true });
  try {
    await runTests({
      version: process.env.VSCODE_VERSION || 'stable',
      extensionDevelopmentPath,
      extensionTestsPath,
      launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust', '--skip-welcome'],
    });
  } finally {
    fs.rmSync(workspace, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
