/**
 * The command line's argument parser. Small and strict on purpose: an unknown or misspelt flag is
 * an error (exit 1), not silently ignored, so a script never runs with settings it did not ask for.
 */

/** A problem with the command line itself; the process exits with code 1. */
export class UsageError extends Error {
  constructor(
    message: string,
    /** The subcommand whose help the message should point to. */
    readonly command?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** One flag a command accepts. */
export interface OptionSpec {
  /** `string` takes a value (`--seed 3` or `--seed=3`); `boolean` takes none. */
  type: 'string' | 'boolean';
  /** May be given several times (`--model A --model B`); the values are kept in order. */
  multiple?: boolean;
  /** A boolean that also accepts `--no-NAME` to turn it off. */
  negatable?: boolean;
  /** One-letter alias, e.g. `h` for `-h`. */
  short?: string;
}

/** Parsed flags and positional arguments. */
export interface ParsedArgs {
  /** Flag values by name: string, string[] (multiple) or boolean. */
  options: Record<string, string | string[] | boolean | undefined>;
  positionals: string[];
}

/**
 * Parses `argv` against `spec`. Everything after `--` is positional, so a text that starts with a
 * dash can still be given. Throws UsageError for unknown flags and missing values.
 */
export function parseArgs(argv: readonly string[], spec: Readonly<Record<string, OptionSpec>>, command?: string): ParsedArgs {
  const options: ParsedArgs['options'] = {};
  const positionals: string[] = [];
  const shortNames = new Map<string, string>();
  for (const [name, s] of Object.entries(spec)) if (s.short) shortNames.set(s.short, name);

  const set = (name: string, value: string | boolean): void => {
    const s = spec[name];
    if (s.multiple && typeof value === 'string') {
      const list = (options[name] as string[] | undefined) ?? [];
      list.push(value);
      options[name] = list;
    } else {
      if (options[name] !== undefined && s.type === 'string') {
        throw new UsageError(`--${name} was given more than once.`, command);
      }
      options[name] = value;
    }
  };

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    // A lone "-" is a positional by convention (standard input); negative numbers are values, not flags.
    if (!arg.startsWith('-') || arg === '-' || /^-\d/.test(arg)) {
      positionals.push(arg);
      continue;
    }
    let name: string;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
    } else {
      const long = shortNames.get(arg.slice(1));
      if (!long || arg.length !== 2) throw new UsageError(`Unknown option ${arg}.`, command);
      name = long;
    }
    const s = spec[name];
    if (!s && name.startsWith('no-')) {
      const positive = spec[name.slice(3)];
      if (positive?.type === 'boolean' && positive.negatable) {
        if (inline !== undefined) throw new UsageError(`--${name} takes no value.`, command);
        set(name.slice(3), false);
        continue;
      }
    }
    if (!s) {
      const near = closest(name, Object.keys(spec));
      throw new UsageError(`Unknown option --${name}.${near ? ` Did you mean --${near}?` : ''}`, command);
    }
    if (s.type === 'boolean') {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value.`, command);
      set(name, true);
      continue;
    }
    let value = inline;
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`--${name} needs a value.`, command);
      value = argv[++i];
    }
    set(name, value);
  }
  return { options, positionals };
}

/** The known name nearest to a misspelt one (edit distance ≤ 2), for "did you mean". */
function closest(name: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const k of known) {
    const d = editDistance(name, k);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = current;
    }
  }
  return row[b.length];
}

/** Reads a whole-number flag; `undefined` when absent. Throws UsageError for anything else. */
export function intOption(value: unknown, name: string, min: number, command?: string): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value).trim();
  if (!/^-?\d+$/.test(text) || Number(text) < min || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`--${name} must be a whole number${min > Number.MIN_SAFE_INTEGER ? ` ≥ ${min}` : ''}, not "${String(value)}".`, command);
  }
  return Number(text);
}

/** Reads a flag restricted to a few values; `undefined` when absent. */
export function choiceOption<T extends string>(value: unknown, name: string, choices: readonly T[], command?: string): T | undefined {
  if (value === undefined) return undefined;
  if (!choices.includes(value as T)) {
    throw new UsageError(`--${name} must be one of ${choices.join(', ')}, not "${String(value)}".`, command);
  }
  return value as T;
}
