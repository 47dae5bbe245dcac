import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Files a model folder holds besides what a report may replace: ONNX graphs and their external weights,
 * and the configuration, tokenizer and vocabulary files that loading reads or exporters leave beside them.
 */
const OWN_FILE =
  /\.(onnx|onnx_data|onnx\.data|ort|safetensors)$|^(config|generation_config|tokenizer|tokenizer_config|special_tokens_map|added_tokens|preprocessor_config|vocab)\.json$|^(vocab|merges)\.txt$|^(spiece|sentencepiece\.bpe|tokenizer)\.model$/i;

/** The existing files of the model in `folder` (and its `onnx/` subfolder), plus `graphs` wherever they are. */
export function modelOwnFiles(folder: string, graphs: readonly string[] = []): string[] {
  const found = new Set<string>(graphs.filter((g) => fs.existsSync(g)));
  for (const dir of [folder, path.join(folder, 'onnx')]) {
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) if (OWN_FILE.test(name)) found.add(path.join(dir, name));
  }
  return [...found];
}

/**
 * The file of `files` that writing to `target` would overwrite, whatever path, symbolic link or hard link
 * leads there; undefined when `target` is none of them (or does not exist yet).
 */
export function overwrittenFile(target: string, files: readonly string[]): string | undefined {
  let t: fs.Stats;
  try {
    t = fs.statSync(target);
  } catch {
    return undefined;
  }
  for (const f of files) {
    try {
      const s = fs.statSync(f);
      if (s.dev === t.dev && s.ino === t.ino) return f;
    } catch {
      // A file that vanished cannot be overwritten.
    }
  }
  return undefined;
}

/**
 * Says why an export may not go to `target`: when it would overwrite a file of the model at `folder`
 * (its graphs `graphs`, their weights, its tokenizer or configuration). Undefined when the target is free.
 */
export function modelFileRefusal(target: string, folder: string, graphs: readonly string[] = []): string | undefined {
  const hit = overwrittenFile(target, modelOwnFiles(folder, graphs));
  if (!hit) return undefined;
  return `${target} is ${hit === path.resolve(target) ? 'a file' : `the same file as ${hit}, a file`} of the model ${path.basename(folder)}; an export never overwrites the model. Choose another file name.`;
}
