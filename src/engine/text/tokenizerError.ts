/** Why a tokenizer could not be loaded or used. */
export type TokenizerErrorCode = 'missing-file' | 'malformed' | 'unsupported';

/**
 * An error about a tokenizer file that names what is wrong and what the user can do about it.
 * Thrown by the loader; encoding itself never throws on odd text.
 */
export class TokenizerError extends Error {
  constructor(
    message: string,
    readonly code: TokenizerErrorCode,
  ) {
    super(message);
    this.name = 'TokenizerError';
  }
}
