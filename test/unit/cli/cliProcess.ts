import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { REPO_ROOT } from '../../support/fixtureModels';

/** What a run of the real `onnx-lens` executable produced. */
export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliRunOptions {
  /** Written to standard input, which is then closed; without it standard input is empty. */
  input?: string;
  /** Added to (or, with undefined values, removed from) the environment. */
  env?: Record<string, string | undefined>;
  /** Called with the child once it has started (to send signals). */
  onSpawn?: (child: import('node:child_process').ChildProcess) => void;
  timeoutMs?: number;
  /** Another copy of the CLI's entry (a package laid out elsewhere); default: this repository's. */
  bin?: string;
  /** Working directory of the run; default the repository root. */
  cwd?: string;
}

/** The package's executable, run as users run it. */
export const BIN = path.join(REPO_ROOT, 'bin', 'onnx-lens.js');

/**
 * Runs `node bin/onnx-lens.js ...args` from the repository root (or `cwd`), asynchronously so servers in
 * this process (the fake hub) keep answering. Colour variables are cleared so output is plain
 * unless a test asks otherwise.
 */
export function runCli(args: string[], options: CliRunOptions = {}): Promise<CliRun> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NO_COLOR;
  delete env.FORCE_COLOR;
  for (const [k, v] of Object.entries(options.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return new Promise((resolve, reject) => {
    // Its own process group, so a run past its deadline is killed together with its engine process.
    const child = spawn(process.execPath, [options.bin ?? BIN, ...args], { cwd: options.cwd ?? REPO_ROOT, env, stdio: ['pipe', 'pipe', 'pipe'], detached: process.platform !== 'win32' });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      try {
        if (process.platform !== 'win32' && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        else child.kill('SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
    options.onSpawn?.(child);
  });
}

/** Parses standard output as JSON, failing with the run's output when it is not. */
export function jsonOf<T = any>(run: CliRun): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON (exit ${run.code}):\n${run.stdout.slice(0, 500)}\nstderr:\n${run.stderr.slice(0, 1000)}`);
  }
}

/** A readable description of a run, for assertion messages. */
export function describeRun(run: CliRun): string {
  return `exit ${run.code}${run.signal ? ` (${run.signal})` : ''}\nstdout:\n${run.stdout.slice(0, 1500)}\nstderr:\n${run.stderr.slice(0, 1500)}`;
}
