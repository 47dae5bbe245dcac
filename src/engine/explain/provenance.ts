import type { Provenance } from '../../protocol/engineApi';
import type { LoadedModel } from '../model/loadedModel';

export const ENGINE_VERSION = '0.1.0';

/** What an explanation records to be reproduced: the model and tokenizer it ran, its settings, the engine's version and when. */
export function provenanceOf(
  model: LoadedModel,
  settings: Pick<Provenance, 'method' | 'budget' | 'budgetNote' | 'seed' | 'removal' | 'level' | 'punctuation'>,
): Provenance {
  return {
    modelSha256: model.card.sha256,
    tokenizerSha256: model.card.tokenizerSha256,
    modelPath: model.card.path,
    variant: model.card.variant,
    method: settings.method,
    budget: settings.budget,
    ...(settings.budgetNote ? { budgetNote: settings.budgetNote } : {}),
    seed: settings.seed,
    removal: settings.removal,
    level: settings.level,
    ...(settings.punctuation === 'omit' ? { punctuation: settings.punctuation } : {}),
    version: ENGINE_VERSION,
    createdAt: new Date().toISOString(),
  };
}
