/** Thrown by an explanation when the caller's `isCancelled` says stop; it is checked between rounds of evaluations. */
export class CancelledError extends Error {
  constructor(message = 'the explanation was cancelled') {
    super(message);
    this.name = 'CancelledError';
  }
}

/** Throws CancelledError when the callback says the caller no longer wants the result. */
export function throwIfCancelled(isCancelled: (() => boolean) | undefined): void {
  if (isCancelled?.()) throw new CancelledError();
}
