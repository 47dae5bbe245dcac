import * as fs from 'node:fs';
import { CliError, ExitCode } from './exitCodes';

/** Where the text to analyse can come from. */
export interface TextSources {
  /** Positional arguments, joined with single spaces (so unquoted words work too). */
  positionals: string[];
  /** `--file F`; `-` means standard input. */
  file?: string;
  stdin: NodeJS.ReadStream | NodeJS.ReadableStream & { isTTY?: boolean };
  /** Told when the text is usable but not as given (bytes that are not UTF-8). */
  warn?: (message: string) => void;
}

const MAX_INPUT_BYTES = 16 * 1024 * 1024;

/**
 * The text of a command: the TEXT argument, else `--file`, else standard input when it is not a
 * terminal. One trailing line break is dropped (editors and `echo` add it); everything else,
 * including inner line breaks, is kept so offsets match the file. Throws CliError (exit 1) when
 * there is no text or it is empty.
 */
export async function readInputText(sources: TextSources, command: string): Promise<string> {
  let text: string;
  if (sources.positionals.length > 0) {
    if (sources.file !== undefined) throw new CliError(`Give the text either as an argument or with --file, not both.`, ExitCode.badInput);
    text = sources.positionals.join(' ');
  } else if (sources.file !== undefined && sources.file !== '-') {
    try {
      const st = fs.statSync(sources.file);
      if (!st.isFile()) throw new CliError(`--file ${sources.file} is not a file.`, ExitCode.badInput);
      if (st.size > MAX_INPUT_BYTES) throw new CliError(`--file ${sources.file} is larger than 16 MB; pass a shorter text.`, ExitCode.badInput);
      text = decodeUtf8(fs.readFileSync(sources.file), `--file ${sources.file}`, sources.warn);
    } catch (err) {
      if (err instanceof CliError) throw err;
      throw new CliError(`Cannot read --file ${sources.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`, ExitCode.badInput);
    }
  } else if (sources.file === '-' || !sources.stdin.isTTY) {
    text = decodeUtf8(await readAll(sources.stdin), 'Standard input', sources.warn);
  } else {
    throw new CliError(`Missing TEXT: onnx-lens ${command} needs a text argument, --file F, or text on standard input.`, ExitCode.badInput);
  }
  text = text.replace(/^\uFEFF/, '').replace(/\r?\n$/, '');
  if (text.trim() === '') throw new CliError('The text is empty: give some words to analyse.', ExitCode.badInput);
  return text;
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * UTF-8 bytes as text. Bytes that are not UTF-8 become U+FFFD, as every UTF-8 decoder does, and `warn`
 * says so: offsets then count the replacement characters, not the bytes.
 */
function decodeUtf8(bytes: Buffer, what: string, warn?: (message: string) => void): string {
  try {
    return STRICT_UTF8.decode(bytes);
  } catch {
    const text = bytes.toString('utf8');
    const replaced = (text.match(/\uFFFD/g)?.length ?? 0) - (bytes.toString('latin1').match(/\xEF\xBF\xBD/g)?.length ?? 0);
    warn?.(`${what} is not valid UTF-8: ${replaced} byte sequence${replaced === 1 ? ' was' : 's were'} read as U+FFFD (�).`);
    return text;
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += b.length;
    if (size > MAX_INPUT_BYTES) throw new CliError('Standard input is larger than 16 MB; pass a shorter text.', ExitCode.badInput);
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}
