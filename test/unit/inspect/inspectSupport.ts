import * as fs from 'node:fs';
import * as path from 'node:path';
import { LoadedModel } from '../../../src/engine/model/loadedModel';
import { fixtureModel, REPO_ROOT } from '../../support/fixtureModels';

/** References written by scripts/fixtures/make_inspect_references.py. */
export const INSPECT_FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'inspect');

export function readInspectReference<T>(file: string): T {
  return JSON.parse(fs.readFileSync(path.join(INSPECT_FIXTURES, file), 'utf8')) as T;
}

const opened = new Map<string, Promise<LoadedModel>>();

/** A fixture model (from test/fixtures/models, or test/fixtures/inspect for the inspect-only ones), opened once per variant. */
export function openFixture(name: string, variant?: string): Promise<LoadedModel> {
  const key = `${name}:${variant ?? ''}`;
  let m = opened.get(key);
  if (!m) {
    m = LoadedModel.open(folderOf(name), variant, { threads: 1 });
    opened.set(key, m);
  }
  return m;
}

/** The folder of a fixture (test/fixtures/inspect, else test/fixtures/models), with its tokenizer built from the recipe. */
export function folderOf(name: string): string {
  return fs.existsSync(path.join(INSPECT_FIXTURES, name)) ? fixtureModel(name, INSPECT_FIXTURES) : fixtureModel(name);
}
