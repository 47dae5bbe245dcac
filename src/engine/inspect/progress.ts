import type { ProgressEvent } from '../../protocol/engineApi';
import type { RequestContext } from '../process/requestContext';

/** Least time between two progress events, so the extension gets a few per second, not one per model run. */
const PROGRESS_INTERVAL_MS = 200;

/** The request's progress callback, throttled; the first and the final event (done = total) always pass. */
export function throttledProgress(ctx: RequestContext): (event: ProgressEvent) => void {
  let last = 0;
  return (event) => {
    const now = Date.now();
    if (last !== 0 && event.done < event.total && now - last < PROGRESS_INTERVAL_MS) return;
    last = now;
    ctx.progress(event);
  };
}
