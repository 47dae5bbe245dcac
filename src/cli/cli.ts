/**
 * The `onnx-lens` command line: global flags, subcommand dispatch, Ctrl-C and exit codes.
 * `runCli` takes its streams and environment as arguments so it has no hidden inputs.
 */
import { compareCommand } from './compareCommand';
import { COMMON_OPTIONS, CommandContext, CommandDefinition, commandHelp } from './commandSpec';
import { CliError, ExitCode } from './exitCodes';
import { generateCommand } from './generateCommand';
import { downloadCommand, modelsCommand } from './hubCommands';
import { activationsCommand, datasetCommand, headsCommand, logitLensCommand, robustnessCommand } from './insideCommands';
import { attentionCommand, explainCommand, inspectCommand, predictCommand } from './modelCommands';
import { packageRoot, packageVersion } from './packagePaths';
import { UsageError, parseArgs } from './parseArgs';
import { ProgressLine } from './progressLine';
import { Style, shouldColor, terminalSafe } from './terminalOutput';

/** Every subcommand, in the order help lists them. */
export const COMMANDS: readonly CommandDefinition[] = [
  inspectCommand,
  predictCommand,
  explainCommand,
  generateCommand,
  attentionCommand,
  activationsCommand,
  logitLensCommand,
  headsCommand,
  compareCommand,
  robustnessCommand,
  datasetCommand,
  downloadCommand,
  modelsCommand,
];

/** The top-level help. */
export function globalHelp(version: string): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    `onnx-lens ${version} — explain local ONNX transformer models from the command line.`,
    '',
    'Usage:',
    '  onnx-lens <command> [options] [TEXT]',
    '  onnx-lens <command> --help',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Without --model, commands use the demo sentiment model shipped with the package. TEXT may also come',
    'from --file F or standard input. Output is coloured in a terminal, plain when piped or NO_COLOR is set;',
    '--json writes machine-readable results. Progress goes to standard error.',
    '',
    'Exit codes: 0 ok, 1 bad input (unknown flag, missing or empty text, bad target or ids),',
    '            2 model error (cannot open, load or run the model; engine crash), 130 interrupted.',
    '',
    'Options:',
    '  -h, --help     Show help (also: onnx-lens help <command>).',
    '  -V, --version  Print the version.',
  ].join('\n') + '\n';
}

/** The outside world of one run. */
export interface CliIo {
  stdout: CommandContext['stdout'];
  stderr: CommandContext['stderr'];
  stdin: CommandContext['stdin'];
  env: NodeJS.ProcessEnv;
  /** Aborted when the user presses Ctrl-C. */
  signal: AbortSignal;
}

/** Runs one command line; resolves to the exit code. Never throws. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const root = packageRoot();
  const errStyle = new Style(shouldColor(io.stderr, io.env));
  const fail = (message: string, code: number, hint?: string): number => {
    // Messages quote what the user or the model gave (a label, a path): no control character may reach the terminal.
    io.stderr.write(`${errStyle.red('onnx-lens: error:')} ${terminalSafe(message)}\n${hint ? `${errStyle.dim(terminalSafe(hint))}\n` : ''}`);
    return code;
  };

  const first = argv[0];
  if (first === undefined) {
    // No command is a usage mistake: help goes to standard error, standard output stays empty.
    io.stderr.write(globalHelp(packageVersion(root)));
    return ExitCode.badInput;
  }
  if (first === '-h' || first === '--help') {
    io.stdout.write(globalHelp(packageVersion(root)));
    return ExitCode.ok;
  }
  if (first === '-V' || first === '--version') {
    io.stdout.write(`${packageVersion(root)}\n`);
    return ExitCode.ok;
  }
  if (first === 'help') {
    const name = argv[1];
    const cmd = COMMANDS.find((c) => c.name === name);
    if (name !== undefined && !cmd) return fail(`Unknown command "${name}".`, ExitCode.badInput, 'Run onnx-lens --help for the list of commands.');
    io.stdout.write(cmd ? commandHelp(cmd) : globalHelp(packageVersion(root)));
    return ExitCode.ok;
  }
  const cmd = COMMANDS.find((c) => c.name === first);
  if (!cmd) {
    const hint = first.startsWith('-') ? 'Options go after the command, e.g. onnx-lens explain --json "some text".' : 'Run onnx-lens --help for the list of commands.';
    return fail(`Unknown command "${first}".`, ExitCode.badInput, hint);
  }

  try {
    const args = parseArgs(argv.slice(1), { ...cmd.options, ...COMMON_OPTIONS }, cmd.name);
    if (args.options.help) {
      io.stdout.write(commandHelp(cmd));
      return ExitCode.ok;
    }
    const colorFlag = args.options.color as boolean | undefined;
    const ctx: CommandContext = {
      ...io,
      style: new Style(shouldColor(io.stdout, io.env, colorFlag)),
      errStyle: new Style(shouldColor(io.stderr, io.env, colorFlag)),
      progress: new ProgressLine(io.stderr, !args.options.quiet),
      verbose: Boolean(args.options.verbose),
      root,
    };
    return await cmd.run(args, ctx);
  } catch (err) {
    if (io.signal.aborted) return fail('Interrupted.', ExitCode.interrupted);
    if (err instanceof UsageError) return fail(err.message, ExitCode.badInput, `Run onnx-lens ${err.command ?? cmd.name} --help for usage.`);
    if (err instanceof CliError) return fail(err.message, err.exitCode);
    return fail(`Internal error: ${(err as Error)?.stack ?? String(err)}`, ExitCode.model);
  }
}
