/** Thrown when the caller cancelled: checked between batches of the evaluator and between rounds of an explanation. */
export class CancelledError extends Error {
  constructor(message = 'cancelled') {
    super(message);
    this.name = 'CancelledError';
  }
}

/** Throws CancelledError when the callback says the caller no longer wants the result. */
export function throwIfCancelled(isCancelled: (() => boolean) | undefined): void {
  if (isCancelled?.()) throw new CancelledError();
}
