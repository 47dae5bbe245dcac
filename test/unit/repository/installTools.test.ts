// npm test sets itself up: scripts/vscode/installTools.sh installs what the VS Code tiers need, and where it
// cannot, it ends with one line that says what to install (runTests.mjs fails those tiers with that line).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from '../../support/fixtureModels';

const SCRIPT = path.join(REPO_ROOT, 'scripts', 'vscode', 'installTools.sh');

/** A folder for PATH with only the given commands (linked from the system's), so others count as missing. */
function pathWith(commands: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-lens-path-'));
  fs.chmodSync(dir, 0o755);
  for (const cmd of commands) {
    for (const base of ['/usr/bin', '/bin', '/usr/sbin', '/sbin']) {
      const p = path.join(base, cmd);
      if (fs.existsSync(p)) {
        fs.symlinkSync(p, path.join(dir, cmd));
        break;
      }
    }
  }
  return dir;
}

const BASICS = ['bash', 'id', 'dpkg', 'dpkg-query', 'grep', 'cat', 'mkdir', 'rm', 'dirname', 'printf'];

function runScript(env: Record<string, string>, uid?: number) {
  return spawnSync('bash', [SCRIPT], {
    encoding: 'utf8',
    env: { HOME: os.tmpdir(), ONNX_LENS_TOOLS: fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-lens-tools-')), ...env },
    uid,
    timeout: 60_000,
  });
}

const lastLine = (text: string) => text.trim().split('\n').pop() ?? '';

describe('installTools.sh when it cannot install', () => {
  test('no apt-get: one line naming the missing package and what to do, exit 3', () => {
    const bin = pathWith([...BASICS, 'sudo']);
    const r = runScript({ PATH: bin, ONNX_LENS_CHROMIUM: path.join(bin, 'no-such-chromium') });
    assert.equal(r.status, 3, r.stderr);
    assert.match(lastLine(r.stderr), /^\[installTools\] cannot install chromium: this system has no apt-get; install them with your package manager/);
    fs.rmSync(bin, { recursive: true, force: true });
  });

  test('not root and no sudo: one line with the apt-get command to run, exit 3', () => {
    const bin = pathWith([...BASICS, 'apt-get']);
    // As root (CI), the script runs as nobody; otherwise it already runs as a user, here without sudo.
    const uid = process.getuid?.() === 0 ? 65534 : undefined;
    const r = runScript({ PATH: bin, ONNX_LENS_CHROMIUM: path.join(bin, 'no-such-chromium') }, uid);
    assert.equal(r.status, 3, r.stderr);
    assert.match(lastLine(r.stderr), /^\[installTools\] cannot install chromium: not root and no password-less sudo; run: sudo apt-get install -y chromium$/);
    fs.rmSync(bin, { recursive: true, force: true });
  });
});
