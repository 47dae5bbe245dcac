import type { EngineErrorInfo } from '../../protocol/engineApi';
import { CancelledError } from '../run/cancellation';

/** A problem with what the user gave (text, target, budget, settings): they can fix it. */
export class BadInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadInputError';
  }
}

/** Maps any thrown value to the error sent back to the caller. */
export function errorInfo(error: unknown): EngineErrorInfo {
  if (error instanceof CancelledError) {
    return { code: 'cancelled', message: 'Cancelled.' };
  }
  if (error instanceof BadInputError || (error instanceof Error && error.name === 'BadInputError')) {
    return { code: 'bad-input', message: error.message };
  }
  // Tokenizer errors come from loading the model's tokenizer files (encoding never throws): the model
  // folder is at fault, not the text.
  if (error instanceof Error && (error.name === 'ModelError' || error.name === 'TokenizerError')) {
    return { code: 'model', message: error.message };
  }
  if (error instanceof Error) {
    return { code: 'internal', message: error.message };
  }
  return { code: 'internal', message: String(error) };
}
