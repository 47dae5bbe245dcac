/**
 * The command line on many texts: N texts explained by one `onnx-lens explain --lines` (one process, one
 * engine, the model opened once) against N separate `onnx-lens explain TEXT` processes, as a shell loop
 * would run them. Both sides run the real executable with the same method, budget and seed.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { backToBack, fmt, log, median, printTable, REPO_ROOT, sentences, smallModel } from './common';

const BIN = path.join(REPO_ROOT, 'bin', 'onnx-lens.js');
const METHOD = ['--method', 'partition-shap', '--budget', '200', '--seed', '0', '-q'];

/** Runs the executable to completion; rejects on a non-zero exit. Returns standard output. */
function onnxLens(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`onnx-lens ${args.join(' ')} exited with ${code}: ${err}`))));
  });
}

export async function runCli(): Promise<void> {
  const model = smallModel();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-lens-bench-cli-'));
  try {
    const rows: (string | number)[][] = [];
    for (const n of [5, 20]) {
      const texts = sentences()
        .filter((s) => s.text.split(/\s+/).length >= 6 && s.text.split(/\s+/).length <= 16)
        .slice(0, n)
        .map((s) => s.text);
      const file = path.join(dir, `texts-${n}.txt`);
      fs.writeFileSync(file, texts.join('\n') + '\n');
      log(`cli: ${n} texts, --lines vs ${n} processes`);
      const lines = () => onnxLens(['explain', '--model', model.folder, ...METHOD, '--lines', '--json', '--file', file]);
      const separate = async () => {
        for (const t of texts) await onnxLens(['explain', '--model', model.folder, ...METHOD, '--json', t]);
      };
      // Same numbers on both sides: the per-text results of --lines match the separate runs.
      const one = JSON.parse((await lines()).split('\n')[0]) as { features: { value: number }[] };
      const alone = JSON.parse(await onnxLens(['explain', '--model', model.folder, ...METHOD, '--json', texts[0]])) as { features: { value: number }[] };
      if (JSON.stringify(one.features.map((f) => f.value)) !== JSON.stringify(alone.features.map((f) => f.value))) {
        throw new Error('explain --lines and a separate explain disagree on the first text');
      }
      const r = await backToBack(3, separate, lines, false);
      rows.push([n, fmt(r.b / 1000), fmt(r.a / 1000), fmt(r.b / n, 0), fmt(r.a / n, 0), fmt(median(r.ratios)), fmt((r.a - r.b) / (n - 1), 0)]);
    }
    printTable(
      `Command line, N texts: one explain --lines ÷ N separate explain processes (${model.name}, partition-shap, budget 200)`,
      ['texts', '--lines (s)', 'separate (s)', 'ms per text, --lines', 'ms per text, separate', 'separate ÷ --lines', 'ms a process adds'],
      rows,
      [
        'Wall time of the real executable (node bin/onnx-lens.js), both sides three times, alternating; medians, and the median of the per-repeat ratios. Both sides print JSON and give the same values.',
        '"ms a process adds": (separate − --lines) ÷ (N − 1), the start-up each extra process pays (Node, the bundle, the engine process, opening the model).',
      ],
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
