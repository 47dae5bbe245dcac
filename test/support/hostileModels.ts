import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fixtureModel } from './fixtureModels';

/**
 * A copy of the two-class BERT fixture whose config.json names its classes `labels` (id2label and
 * label2id), in a folder called `folderName` inside a fresh temporary folder: a real model that says
 * whatever its author wrote. Removed when the process exits.
 */
export function classifierWithLabels(labels: [string, string], folderName = 'relabelled-model'): string {
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-lens-labels-'));
  process.on('exit', () => fs.rmSync(parent, { recursive: true, force: true }));
  const dir = path.join(parent, folderName);
  fs.cpSync(fixtureModel('bert-cls-op14'), dir, { recursive: true });
  const configFile = path.join(dir, 'config.json');
  const config = JSON.parse(fs.readFileSync(configFile, 'utf8')) as Record<string, unknown>;
  config.id2label = { 0: labels[0], 1: labels[1] };
  config.label2id = { [labels[0]]: 0, [labels[1]]: 1 };
  fs.writeFileSync(configFile, JSON.stringify(config, null, 2));
  return dir;
}
