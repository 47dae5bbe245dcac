import * as vscode from 'vscode';

/** A message the extension showed the user. */
export interface Notice {
  severity: 'info' | 'warning' | 'error';
  message: string;
  /** The buttons it offered. */
  actions: string[];
}

/** A line a progress notification showed: its title and the message under it. */
export interface ProgressNote {
  title: string;
  message: string;
}

const KEPT = 50;

/**
 * The messages ONNX Lens shows in notifications, in one place: each is also written to the output
 * channel (so the log tells what the user was told) and the latest are kept for the extension's
 * API, where tests read what a user would have seen.
 */
class Notices {
  private readonly kept: Notice[] = [];
  private readonly progressKept: ProgressNote[] = [];
  private log: ((line: string) => void) | undefined;

  /** Where each message is also written (the "ONNX Lens" output channel). */
  setLog(log: ((line: string) => void) | undefined): void {
    this.log = log;
  }

  /** The latest messages, oldest first. */
  get recent(): readonly Notice[] {
    return this.kept;
  }

  /** The latest lines of progress notifications, oldest first. */
  get progressShown(): readonly ProgressNote[] {
    return this.progressKept;
  }

  /**
   * Shows `message` under a progress notification's `title` and keeps it. Not logged: a long run reports many
   * times a second, and the log has the request and its duration.
   */
  progress(report: (value: { increment?: number; message?: string }) => void, title: string, message: string, increment?: number): void {
    this.progressKept.push({ title, message });
    if (this.progressKept.length > KEPT) this.progressKept.splice(0, this.progressKept.length - KEPT);
    report({ increment, message });
  }

  info(message: string, ...actions: string[]): Thenable<string | undefined> {
    this.record('info', message, actions);
    return vscode.window.showInformationMessage(message, ...actions);
  }

  warn(message: string, ...actions: string[]): Thenable<string | undefined> {
    this.record('warning', message, actions);
    return vscode.window.showWarningMessage(message, ...actions);
  }

  error(message: string, ...actions: string[]): Thenable<string | undefined> {
    this.record('error', message, actions);
    return vscode.window.showErrorMessage(message, ...actions);
  }

  /** A modal question (the dialog blocks until answered). */
  ask(message: string, detail: string, ...actions: string[]): Thenable<string | undefined> {
    this.record('warning', message, actions);
    return vscode.window.showWarningMessage(message, { modal: true, detail }, ...actions);
  }

  private record(severity: Notice['severity'], message: string, actions: string[]): void {
    this.kept.push({ severity, message, actions });
    if (this.kept.length > KEPT) this.kept.splice(0, this.kept.length - KEPT);
    this.log?.(`${severity === 'info' ? 'told' : severity === 'warning' ? 'warned' : 'error shown'}: ${message}${actions.length ? ` [${actions.join(' | ')}]` : ''}`);
  }
}

/** The extension's one list of shown messages. */
export const notices = new Notices();
