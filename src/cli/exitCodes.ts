/**
 * Exit codes scripts can rely on, and the error that carries one up to the entry point.
 */

/** 0 ok, 1 bad input, 2 model error, 130 interrupted (128 + SIGINT, as shells report it). */
export const ExitCode = {
  ok: 0,
  badInput: 1,
  model: 2,
  interrupted: 130,
} as const;

/** One of the exit codes above. */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** An error whose message is meant for the user, ending the process with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
