import { LoadedModel } from '../../../src/engine/model/loadedModel';
import type { RequestContext } from '../../../src/engine/process/requestContext';
import type { ProgressEvent } from '../../../src/protocol/engineApi';
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

/** A request context that records progress events and can be cancelled from a test. */
export function recordingContext(cancelAfter?: (events: ProgressEvent[]) => boolean): RequestContext & { events: ProgressEvent[] } {
  const events: ProgressEvent[] = [];
  return {
    events,
    isCancelled: () => cancelAfter?.(events) ?? false,
    progress: (p) => events.push(p),
  };
}

/** Largest |a − b| over two equally long vectors. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}
