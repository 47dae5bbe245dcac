/**
 * Entry of the engine process, forked by EngineClient. Requests run one at a time, in order; a
 * cancel message sets a flag that the evaluator checks between batches.
 */
import type { EngineErrorInfo, EngineIncoming, EngineReply, EngineRequestMessage } from '../../protocol/engineApi';
import { EngineService } from './engineService';
import type { RequestContext } from './requestContext';
import { errorInfo } from './engineErrors';

const cancelled = new Set<number>();
const queue: EngineRequestMessage[] = [];
let running = false;

function reply(message: EngineReply): void {
  process.send?.(message);
}

const service = new EngineService((message) => reply({ type: 'log', message }));

async function drain(): Promise<void> {
  if (running) return;
  running = true;
  while (queue.length > 0) {
    const request = queue.shift()!;
    if (cancelled.delete(request.id)) {
      reply({ type: 'response', id: request.id, ok: false, error: { code: 'cancelled', message: 'Cancelled.' } });
      continue;
    }
    let lastProgress = 0;
    const context: RequestContext = {
      isCancelled: () => cancelled.has(request.id),
      progress: (progress) => {
        // A few events per second are enough for a progress bar and keep the channel quiet.
        const now = Date.now();
        if (now - lastProgress < 200 && progress.done < progress.total && progress.partial === undefined) return;
        lastProgress = now;
        reply({ type: 'progress', id: request.id, progress });
      },
    };
    try {
      const result = await service.handle(request.method, request.params, context);
      reply({ type: 'response', id: request.id, ok: true, result });
    } catch (error) {
      const info: EngineErrorInfo = errorInfo(error);
      reply({ type: 'response', id: request.id, ok: false, error: info });
    } finally {
      cancelled.delete(request.id);
    }
  }
  running = false;
}

process.on('message', (message: EngineIncoming) => {
  if (message.type === 'cancel') {
    cancelled.add(message.id);
    return;
  }
  if (message.type === 'request') {
    queue.push(message);
    void drain();
  }
});

process.on('disconnect', () => process.exit(0));
