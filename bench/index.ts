/**
 * Runs the benchmarks: `node out/bench/index.js [--only core|explanations|inspect|generation|cli|rows|memory|ui|live] [--small-only]`
 * (--small-only: the explanations benchmark without the BERT-base-sized model). Without --only: core,
 * explanations, inspect, generation and cli; `ui` and `live` need code-server and Chromium
 * (scripts/vscode/installTools.sh) and run bench/uiLatency.mjs and bench/liveMode.mjs in a child process.
 * Every figure is a ratio of two sides measured back to back in this process; see bench/README.md.
 */
import { spawn } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from './cli';
import { REPO_ROOT } from './common';
import { runEngineCore } from './engineCore';
import { runExplanations } from './explanations';
import { runGeneration } from './generation';
import { runInspect } from './inspect';
import { runModelRows } from './modelRows';
import { runRequestMemory } from './requestMemory';

const SMALL_ONLY = process.argv.includes('--small-only');
const SUITES = {
  core: () => runEngineCore(),
  explanations: () => runExplanations({ large: !SMALL_ONLY }),
  inspect: () => runInspect(),
  generation: () => runGeneration(),
  cli: () => runCli(),
  rows: () => runModelRows(),
  memory: () => runRequestMemory(),
  ui: () => runScript('uiLatency.mjs'),
  live: () => runScript('liveMode.mjs'),
} as const;
type Suite = keyof typeof SUITES;
const DEFAULT_SUITES: Suite[] = ['core', 'explanations', 'inspect', 'generation', 'cli'];

/** The UI benchmarks drive VS Code in a browser from ES modules; they print their tables to our stdout. */
function runScript(file: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bench', file)], { stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`bench/${file} exited with ${code}`))));
  });
}

function parseArgs(argv: string[]): Suite[] {
  const i = argv.indexOf('--only');
  if (i < 0) return DEFAULT_SUITES;
  const name = argv[i + 1];
  if (!name || !(name in SUITES)) {
    process.stderr.write(`--only takes ${Object.keys(SUITES).join(', ')}, got ${name ?? 'nothing'}\n`);
    process.exit(2);
  }
  return [name as Suite];
}

async function main(): Promise<void> {
  const suites = parseArgs(process.argv.slice(2));
  const started = Date.now();
  process.stdout.write(
    `## ONNX Lens benchmarks — ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${os.cpus().length} CPU cores seen, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' / ')} (1 / 5 / 15 min)\n`,
  );
  for (const suite of suites) {
    const t = Date.now();
    await SUITES[suite]();
    process.stderr.write(`${suite}: ${((Date.now() - t) / 1000).toFixed(0)} s\n`);
    process.stdout.write(`\n(load average after ${suite}: ${os.loadavg().map((l) => l.toFixed(1)).join(' / ')})\n`);
  }
  process.stderr.write(`all: ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
