import { LoadedModel } from '../../../src/engine/model/loadedModel';
import { fixtureModel, generationFixture } from '../../support/fixtureModels';

const opened = new Map<string, Promise<LoadedModel>>();

/** A generation fixture (test/fixtures/generation) or a GPT-2 model fixture (test/fixtures/models), opened once per variant. */
export function openGenerationModel(name: string, variant?: string): Promise<LoadedModel> {
  const key = `${name}:${variant ?? ''}`;
  let m = opened.get(key);
  if (!m) {
    const folder = name.startsWith('gpt2-op') || name.startsWith('gpt2-past') ? fixtureModel(name) : generationFixture(name);
    m = LoadedModel.open(folder, variant, { threads: 1 });
    opened.set(key, m);
  }
  return m;
}
