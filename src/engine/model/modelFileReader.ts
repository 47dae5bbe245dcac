import * as fs from 'node:fs';
import { ModelError } from './modelError';

/*
 * Reading the files of a model folder, which are untrusted input: only regular files (a link to one is
 * fine), never a named pipe (opening one blocks until a writer comes), a device (/dev/zero never ends)
 * or a socket; at most a fixed number of bytes; and every failure in plain words that name the file.
 */

/** Largest ONNX graph file read into memory: protobuf, and so ONNX Runtime, refuses messages of 2 GiB. */
export const MAX_GRAPH_BYTES = 2 ** 31 - 1;
/** Largest JSON file (config.json, tokenizer.json, …) read: real tokenizers stay under 40 MB. */
export const MAX_JSON_BYTES = 128 * 1024 * 1024;

/** What kind of file system entry a non-regular file is, in words. */
export function fileKind(st: fs.Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a named pipe (FIFO)';
  if (st.isCharacterDevice()) return 'a character device (like /dev/zero)';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** The reason a file system call failed, in words, with the file named first. */
export function fileProblem(file: string, err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  switch (code) {
    case 'ENOENT':
      return `${file} does not exist (or is a link to a file that does not)`;
    case 'ELOOP':
      return `${file} is a symbolic link that leads back to itself (a link loop)`;
    case 'EISDIR':
      return `${file} is a folder, not a file`;
    case 'ENOTDIR':
      return `${file} cannot be reached: a part of its path is a file, not a folder`;
    case 'EACCES':
    case 'EPERM':
      return `${file} cannot be read: permission denied`;
    case 'ENAMETOOLONG':
      return `${file} cannot be read: the path is too long`;
    case 'ENXIO':
      return `${file} is a socket or a device without a reader, not a file`;
    default:
      return `${file} cannot be read (${code ?? (err as Error)?.message ?? String(err)})`;
  }
}

/**
 * The size of a regular file, following links; throws for anything else.
 * @throws ModelError 'unreadable-file' naming the file and what it is instead.
 */
export function regularFileSize(file: string): number {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (err) {
    throw new ModelError('unreadable-file', `${fileProblem(file, err)}.`);
  }
  if (!st.isFile()) throw notRegular(file, st);
  return st.size;
}

function notRegular(file: string, st: fs.Stats): ModelError {
  return new ModelError(
    'unreadable-file',
    `${file} is ${fileKind(st)}, not a regular file. ONNX Lens reads model files only from regular files (or links to them); put the real file there.`,
  );
}

/**
 * Reads a whole regular file of at most `maxBytes` bytes. Opens without blocking (a named pipe is
 * refused, not waited on), checks what was opened, and reads no more than the size it had then.
 * @throws ModelError 'unreadable-file' or 'too-large', naming the file.
 */
export function readRegularFile(file: string, maxBytes: number): Buffer {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  } catch (err) {
    throw new ModelError('unreadable-file', `${fileProblem(file, err)}.`);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw notRegular(file, st);
    if (st.size > maxBytes) {
      throw new ModelError(
        'too-large',
        `${file} has ${st.size.toLocaleString('en-US')} bytes, more than the ${maxBytes.toLocaleString('en-US')} ONNX Lens reads for such a file.`,
      );
    }
    const buf = Buffer.allocUnsafe(st.size);
    let done = 0;
    while (done < st.size) {
      const n = fs.readSync(fd, buf, done, st.size - done, done);
      if (n === 0) throw new ModelError('unreadable-file', `${file} became shorter while it was read (${done} of ${st.size} bytes); try again once it is written.`);
      done += n;
    }
    return buf;
  } catch (err) {
    if (err instanceof ModelError) throw err;
    throw new ModelError('unreadable-file', `${fileProblem(file, err)}.`);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Reads and parses a JSON file of a model folder.
 * @throws ModelError 'unreadable-file' / 'too-large' (see readRegularFile), 'invalid-json' when it does not parse.
 */
export function readJsonFile(file: string, maxBytes = MAX_JSON_BYTES): unknown {
  const text = readRegularFile(file, maxBytes).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ModelError('invalid-json', `${file} is not valid JSON (${(err as Error).message}). Re-save or re-download it.`);
  }
}
