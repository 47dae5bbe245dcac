import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RequestContext } from '../../../src/engine/process/requestContext';
import { LoadedModel } from '../../../src/engine/model/loadedModel';
import { fixtureModel, recipeTokenizer, REPO_ROOT, TOKENIZERS, TokenizerRecipe } from '../../support/fixtureModels';

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

/** The folder of a fixture, with its tokenizer materialised from the recipe when it has one. */
export function folderOf(name: string): string {
  const inspectDir = path.join(INSPECT_FIXTURES, name);
  if (!fs.existsSync(inspectDir)) return fixtureModel(name);
  const recipeFile = path.join(inspectDir, 'tokenizer.recipe.json');
  if (!fs.existsSync(recipeFile)) return inspectDir;
  const recipe = JSON.parse(fs.readFileSync(recipeFile, 'utf8')) as TokenizerRecipe;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `onnx-lens-${name}-`));
  fs.cpSync(inspectDir, dir, { recursive: true });
  fs.rmSync(path.join(dir, 'tokenizer.recipe.json'));
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(recipeTokenizer(recipe)));
  const config = path.join(TOKENIZERS, recipe.from, 'tokenizer_config.json');
  if (fs.existsSync(config)) fs.copyFileSync(config, path.join(dir, 'tokenizer_config.json'));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A request context that never cancels and records progress events. */
export function quietContext(events: { done: number; total: number }[] = []): RequestContext {
  return { isCancelled: () => false, progress: (p) => events.push({ done: p.done, total: p.total }) };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
