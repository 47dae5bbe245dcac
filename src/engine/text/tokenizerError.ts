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

/** A tokenizer model whose unknown token is not in its vocabulary: words it cannot split would silently drop out. */
export function missingUnknownToken(model: string, unknown: string): TokenizerError {
  return new TokenizerError(
    `The ${model} model in tokenizer.json names "${unknown}" as its unknown token, but its vocabulary has no such entry, ` +
      'so text it cannot split would silently drop out. Use the tokenizer.json exported with the model.',
    'malformed',
  );
}
