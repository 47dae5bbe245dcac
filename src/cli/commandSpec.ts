/**
 * What a subcommand is (name, flags, help, run function) and what it gets to run (streams, styles,
 * the interrupt signal). Help text is generated from the same flag table the parser uses, so the
 * two cannot drift apart.
 */
import type { OptionSpec, ParsedArgs } from './parseArgs';
import type { ProgressLine } from './progressLine';
import type { Style } from './terminalOutput';

/** A flag with its help line. */
export interface OptionHelp extends OptionSpec {
  /** Placeholder for the value in help, e.g. `N`. */
  value?: string;
  help: string;
}

/** Everything a command needs from the outside world; tests and the entry point both build one. */
export interface CommandContext {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  /** Aborted on Ctrl-C. */
  signal: AbortSignal;
  /** Styling for standard output (plain when piped or NO_COLOR). */
  style: Style;
  /** Styling for standard error. */
  errStyle: Style;
  progress: ProgressLine;
  verbose: boolean;
  /** Package root (holds models/ and package.json). */
  root: string;
}

/** One subcommand. `run` resolves to the exit code; user-facing failures throw CliError. */
export interface CommandDefinition {
  name: string;
  summary: string;
  /** Usage lines after `onnx-lens `. */
  usage: string[];
  options: Record<string, OptionHelp>;
  /** Extra help paragraphs (examples, what the output holds). */
  details?: string;
  run(args: ParsedArgs, ctx: CommandContext): Promise<number>;
}

/** Flags every subcommand accepts. */
export const COMMON_OPTIONS: Record<string, OptionHelp> = {
  help: { type: 'boolean', short: 'h', help: 'Show this help.' },
  quiet: { type: 'boolean', short: 'q', help: 'No progress on standard error.' },
  verbose: { type: 'boolean', help: 'Also print engine log lines (timings, model details) on standard error.' },
  color: { type: 'boolean', negatable: true, help: 'Force colour on (--color) or off (--no-color); default: colour in a terminal unless NO_COLOR is set.' },
};

/** Help for one subcommand. */
export function commandHelp(cmd: CommandDefinition): string {
  const lines = [`onnx-lens ${cmd.name} — ${cmd.summary}`, '', 'Usage:'];
  for (const u of cmd.usage) lines.push(`  onnx-lens ${u}`);
  lines.push('', 'Options:');
  const all = { ...cmd.options, ...COMMON_OPTIONS };
  const rows = Object.entries(all).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : ''}--${name}${o.negatable ? `, --no-${name}` : ''}${o.value ? ` ${o.value}` : ''}`;
    return [flag, o.help];
  });
  const width = Math.min(34, Math.max(...rows.map(([f]) => f.length)));
  for (const [flag, help] of rows) {
    lines.push(flag.length > width ? `  ${flag}\n  ${' '.repeat(width)}  ${help}` : `  ${flag.padEnd(width)}  ${help}`);
  }
  if (cmd.details) lines.push('', cmd.details.trim());
  return lines.join('\n') + '\n';
}
