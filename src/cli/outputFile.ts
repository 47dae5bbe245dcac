/**
 * Files the command line writes on request (`--html`, `--csv`): never over a file of the model being run
 * (or the file being read), and over any other existing file only with `--force`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { modelOwnFiles, overwrittenFile } from '../engine/model/modelOwnFiles';
import { CliError, ExitCode } from './exitCodes';

/** Where an output file may not go, and whether an existing file may be replaced. */
export interface OutputGuard {
  /** The flag that named the file, for messages (`--html`). */
  flag: string;
  /** `--force` was given: replace an existing file that is not protected. */
  force: boolean;
  /** Files never overwritten, whatever path or link leads to them. */
  protectedFiles: string[];
}

/** The protected files of a model given as a folder or one `.onnx` file: its graphs, weights, tokenizer and configuration. */
export function modelFilesOf(modelPath: string, graphs: readonly string[] = []): string[] {
  const isFile = fs.existsSync(modelPath) && fs.statSync(modelPath).isFile();
  return modelOwnFiles(isFile ? path.dirname(modelPath) : modelPath, isFile ? [modelPath, ...graphs] : graphs);
}

/** Throws CliError (exit 1) when `file` may not be written; called before any work, and again at writing. */
export function checkOutputFile(file: string, guard: OutputGuard): void {
  const hit = overwrittenFile(file, guard.protectedFiles);
  if (hit) {
    const same = path.resolve(file) === hit ? '' : ` (the same file as ${hit})`;
    throw new CliError(`${guard.flag} ${file} is a file of the model or input being read${same}; onnx-lens never overwrites it. Choose another file name.`, ExitCode.badInput);
  }
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) {
    throw new CliError(`${guard.flag} ${file} is a folder; give the name of a file to write.`, ExitCode.badInput);
  }
  if (!guard.force && fs.existsSync(file)) {
    throw new CliError(`${guard.flag} ${file} already exists; pass --force to overwrite it, or choose another file name.`, ExitCode.badInput);
  }
}

/** Writes `content` to `file` under the guard; a file that appeared meanwhile is not replaced without --force. */
export function writeOutputFile(file: string, content: string, guard: OutputGuard): void {
  checkOutputFile(file, guard);
  try {
    fs.writeFileSync(file, content, { flag: guard.force ? 'w' : 'wx' });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new CliError(`${guard.flag} ${file} already exists; pass --force to overwrite it, or choose another file name.`, ExitCode.badInput);
    throw new CliError(`Cannot write ${guard.flag} ${file}: ${code ?? (err as Error).message}.`, ExitCode.badInput);
  }
}
