/**
 * Progress of long runs on standard error, never on standard output (which carries the result):
 * one line rewritten in place on a terminal, a few plain lines when standard error is a file or a
 * pipe, so logs stay short.
 */
import { terminalSafe } from './terminalOutput';

/** Where progress goes; a subset of a writable stream so tests can pass a fake one. */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

/** Reports progress of one task; `done()` clears the line. */
export class ProgressLine {
  private lastText = '';
  private lastWrite = 0;
  private lastBucket = -1;
  private shown = false;
  private readonly started = Date.now();

  constructor(
    private readonly stream: ProgressStream,
    /** False when the user asked for quiet output. */
    private readonly enabled = true,
    /** Minimum time between plain lines when not on a terminal (ms). */
    private readonly plainIntervalMs = 2000,
  ) {}

  /** Shows `label` with `done`/`total` (a percentage when total is known). */
  update(label: string, done?: number, total?: number): void {
    if (!this.enabled) return;
    const fraction = total && total > 0 && done !== undefined ? Math.min(1, done / total) : undefined;
    // Labels quote file names and engine messages: no control character may reach the terminal.
    const safe = terminalSafe(label);
    const text = fraction === undefined ? safe : `${safe} ${Math.floor(fraction * 100)}%`;
    const now = Date.now();
    if (this.stream.isTTY) {
      if (text === this.lastText && now - this.lastWrite < 1000) return;
      if (now - this.lastWrite < 80 && fraction !== 1) return;
      const width = Math.max(20, (this.stream.columns || 80) - 1);
      const elapsed = ((now - this.started) / 1000).toFixed(1);
      const line = `${text} (${elapsed} s)`;
      this.stream.write(`\r\x1b[2K${line.length > width ? line.slice(0, width - 1) + '…' : line}`);
      this.shown = true;
    } else {
      // Plain lines: one per quarter of the way, and at most one every couple of seconds otherwise.
      const bucket = fraction === undefined ? -1 : Math.floor(fraction * 4);
      const newBucket = bucket > this.lastBucket;
      if (!newBucket && now - this.lastWrite < this.plainIntervalMs) return;
      if (text === this.lastText) return;
      if (newBucket) this.lastBucket = bucket;
      this.stream.write(`${text}\n`);
    }
    this.lastText = text;
    this.lastWrite = now;
  }

  /** A message that stays (e.g. "opened model in 1.2 s"), printed above the progress line. */
  note(message: string): void {
    if (!this.enabled) return;
    this.clear();
    this.stream.write(`${message}\n`);
  }

  /** Removes the updating line so the result or an error starts on a clean line. */
  clear(): void {
    if (this.shown && this.stream.isTTY) this.stream.write('\r\x1b[2K');
    this.shown = false;
  }

  done(): void {
    this.clear();
  }
}
