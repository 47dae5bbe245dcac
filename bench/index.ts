/**
 * Runs the benchmarks: `node out/bench/index.js [--only core|explanations] [--small-only]`
 * (--small-only: the explanations benchmark without the BERT-base-sized model).
 * Every figure is a ratio of two sides measured back to back in this process; see bench/README.md.
 */
import * as os from 'node:os';
import { runEngineCore } from './engineCore';
import { runExplanations } from './explanations';

const SMALL_ONLY = process.argv.includes('--small-only');
const SUITES = { core: () => runEngineCore(), explanations: () => runExplanations({ large: !SMALL_ONLY }) } as const;
type Suite = keyof typeof SUITES;

function parseArgs(argv: string[]): Suite[] {
  const i = argv.indexOf('--only');
  if (i < 0) return ['core', 'explanations'];
  const name = argv[i + 1];
  if (name !== 'core' && name !== 'explanations') {
    process.stderr.write(`--only takes core or explanations, got ${name ?? 'nothing'}\n`);
    process.exit(2);
  }
  return [name];
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
