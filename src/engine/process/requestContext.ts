import type { ProgressEvent } from '../../protocol/engineApi';

/** What a request handler gets besides its params: a cancellation check and a progress sink. */
export interface RequestContext {
  isCancelled: () => boolean;
  progress: (progress: ProgressEvent) => void;
}
