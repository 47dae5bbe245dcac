/**
 * An error about a model the user pointed at: its files, its graph or its fit with a tokenizer.
 * The message is written for the user and says what to do about it.
 */
export class ModelError extends Error {
  /** A short machine-readable reason, for callers that react differently per cause. */
  readonly code: ModelErrorCode;

  constructor(code: ModelErrorCode, message: string) {
    super(message);
    this.name = 'ModelError';
    this.code = code;
  }
}

/** Why a model was refused. */
export type ModelErrorCode =
  | 'invalid-onnx'
  | 'not-found'
  | 'missing-tokenizer'
  | 'external-data-outside-folder'
  | 'not-a-transformer'
  | 'unsupported-inputs'
  | 'vocabulary-mismatch'
  | 'unsupported-graph'
  /** A file that is not a regular file, cannot be opened, or changed while read. */
  | 'unreadable-file'
  /** A file larger than ONNX Lens reads for its kind. */
  | 'too-large'
  | 'invalid-json'
  /** ONNX Runtime refused to load or run a graph that parsed. */
  | 'runtime-error';
