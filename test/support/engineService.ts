/**
 * The engine's request handlers in the test process, as the engine process runs them: request contexts, an
 * engine service with a model open, and services shared by the tests of one file.
 */
import { after } from 'node:test';
import { EngineService } from '../../src/engine/process/engineService';
import type { RequestContext } from '../../src/engine/process/requestContext';
import type { EngineApi, ProgressEvent } from '../../src/protocol/engineApi';

export type OpenParams = EngineApi['open']['params'];

/** A request context that is never cancelled and drops progress. */
export const QUIET: RequestContext = { isCancelled: () => false, progress: () => undefined };

/** A request context that records every progress event and is cancelled once `cancelAfter(events)` says so. */
export function recordingContext(cancelAfter?: (events: ProgressEvent[]) => boolean): RequestContext & { events: ProgressEvent[] } {
  const events: ProgressEvent[] = [];
  return {
    events,
    isCancelled: () => cancelAfter?.(events) ?? false,
    progress: (p) => events.push(p),
  };
}

/** An engine service with a model open. */
export async function openService(params: OpenParams): Promise<EngineService> {
  const service = new EngineService();
  await service.handle('open', params, QUIET);
  return service;
}

/**
 * Engine services shared by the tests of one file: one per distinct `open` request, opened on first use and
 * disposed after the file's tests. Call it at the top level of a test file.
 */
export function sharedServices(): (params: OpenParams) => Promise<EngineService> {
  const opened = new Map<string, Promise<EngineService>>();
  after(async () => {
    for (const s of opened.values()) (await s.catch(() => undefined))?.dispose();
  });
  return (params) => {
    const key = JSON.stringify(params);
    let s = opened.get(key);
    if (!s) {
      s = openService(params);
      opened.set(key, s);
    }
    return s;
  };
}
