// What the benchmarks that drive the real VS Code UI (uiLatency.mjs, liveMode.mjs) share besides the workbench
// driver (scripts/vscode/workbenchDriver.mjs): their command-line options, the workbench they open, temporary
// folders, the demo model's sentences, medians and ranges, and the markdown tables they print.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { repoRoot } from '../scripts/vscode/codeServer.mjs';
import { openWorkbench } from '../scripts/vscode/workbenchDriver.mjs';

const DEMO = join(repoRoot, 'models', 'demo-sentiment');
/** Progress lines on standard error (the tables go to standard output). */
export const log = (m) => process.stderr.write(`  ${m}\n`);

/**
 * The options every UI benchmark takes: `--vsix FILE` (default out/onnx-lens.vsix; without that file, or with
 * `--dev`, this folder runs as the development extension) and `--verbose` (the server's log on standard error).
 * `option(name, fallback)` reads the value after any other option.
 */
export function uiBenchArguments(argv = process.argv.slice(2)) {
  const option = (name, fallback) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : fallback;
  };
  const vsixPath = resolve(repoRoot, option('--vsix', join('out', 'onnx-lens.vsix')));
  return { option, vsixPath, dev: argv.includes('--dev') || !existsSync(vsixPath), verbose: argv.includes('--verbose') };
}

/** A benchmark's heading, with the load average at the start and which extension it measures. */
export function printBenchHeading(title, { dev }) {
  const load = loadavg().map((l) => l.toFixed(1)).join(' / ');
  process.stdout.write(`\n## ${title}\n\n(load average at the start: ${load} (1 / 5 / 15 min); extension: ${dev ? 'this folder as the development extension' : 'out/onnx-lens.vsix'})\n`);
}

const temp = [];
/** A temporary folder, removed when the process exits. */
export function tempDir() {
  const d = mkdtempSync(join(tmpdir(), 'onnx-lens-bench-'));
  temp.push(d);
  return d;
}
function cleanTemp() {
  for (const d of temp.splice(0)) rmSync(d, { recursive: true, force: true });
}
process.on('exit', cleanTemp);

export const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
export const range = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x));
  return s.length ? `${fmt(Math.min(...s))}–${fmt(Math.max(...s))}` : '–';
};
export function fmt(x, digits = 2) {
  if (typeof x === 'string') return x;
  if (!Number.isFinite(x)) return '–';
  if (Number.isInteger(x)) return x.toLocaleString('en-US');
  if (Math.abs(x) >= 1000) return Math.round(x).toLocaleString('en-US');
  if (Math.abs(x) >= 100) return x.toFixed(0);
  if (Math.abs(x) >= 10) return x.toFixed(1);
  return x.toFixed(digits);
}
/** Prints a markdown table (numbers formatted by fmt) with notes under it. */
export function printTable(title, header, rows, notes = []) {
  const line = (r) => `| ${r.map((c) => fmt(c)).join(' | ')} |`;
  const out = [`\n### ${title}\n`, line(header), line(header.map(() => '---')), ...rows.map(line)];
  if (notes.length) out.push('', ...notes.map((n) => `- ${n}`));
  process.stdout.write(out.join('\n') + '\n');
}
export const kb = (bytes) => `${(bytes / 1024).toFixed(bytes < 10240 ? 1 : 0)} KiB`;

/** Sentences of the demo model's heldout.tsv. */
export function sentences() {
  return readFileSync(join(DEMO, 'heldout.tsv'), 'utf8')
    .split('\n')
    .map((l) => l.split('\t')[0].trim())
    .filter(Boolean);
}
/** `count` words of consecutive sentences from `start` on. */
export function words(all, start, count) {
  const out = [];
  for (let i = start; out.length < count; i++) out.push(...all[i % all.length].split(/\s+/).filter(Boolean));
  return out.slice(0, count).join(' ');
}

/**
 * The workbench the benchmarks measure in: dark theme, no minimap or preview editors, word wrap off unless
 * `settings` say otherwise, a workspace holding `files` (name → text). `options`: { dev, vsixPath, verbose }.
 */
export function openBenchWorkbench(settings, files, { dev, vsixPath, verbose = false }) {
  return openWorkbench({
    dev,
    vsixPath,
    verbose,
    settings: { 'editor.wordWrap': 'off', 'editor.minimap.enabled': false, 'workbench.editor.enablePreview': false, ...settings },
    files,
    serverLog: verbose ? undefined : () => {},
  });
}

/** Runs a benchmark's `main` and exits: 0 when it finished, 1 with the error on standard error; temporary folders go. */
export function runBenchmark(main) {
  main().then(
    () => {
      cleanTemp();
      process.exit(0);
    },
    (e) => {
      process.stderr.write(`${e?.stack ?? e}\n`);
      cleanTemp();
      process.exit(1);
    },
  );
}
