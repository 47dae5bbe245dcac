/**
 * Entry of the `onnx-lens` bundle (dist/cli.js): wires the real process to runCli. Ctrl-C (or SIGTERM,
 * or SIGHUP) aborts the request in flight (the engine stops between batches, a download removes its
 * partial files) and the process exits with 130; a second signal exits at once.
 */
import { runCli } from './cli';
import { ExitCode } from './exitCodes';

const controller = new AbortController();
let interrupts = 0;

function onInterrupt(): void {
  interrupts++;
  if (interrupts > 1) process.exit(ExitCode.interrupted);
  controller.abort();
  // If the engine does not answer the cancel, do not hang: the client kills it after a grace time,
  // and this is the last resort.
  setTimeout(() => process.exit(ExitCode.interrupted), 5000).unref();
}

const STOP_SIGNALS: NodeJS.Signals[] = process.platform === 'win32' ? ['SIGINT', 'SIGTERM'] : ['SIGINT', 'SIGTERM', 'SIGHUP'];
for (const signal of STOP_SIGNALS) process.on(signal, onInterrupt);

// A closed pipe (`onnx-lens … | head`) is not an error worth a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

void runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  signal: controller.signal,
}).then((code) => {
  process.exitCode = interrupts > 0 ? ExitCode.interrupted : code;
  for (const signal of STOP_SIGNALS) process.removeListener(signal, onInterrupt);
  // stdin may hold the event loop open when it was never read (a terminal or an idle pipe).
  process.stdin.unref?.();
});
