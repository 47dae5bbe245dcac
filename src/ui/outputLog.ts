import * as vscode from 'vscode';
import { OUTPUT_CHANNEL_NAME } from './ids';

/** The "ONNX Lens" output channel: what the engine did and how long it took. */
export class OutputLog implements vscode.Disposable {
  private readonly channel = vscode.window.createOutputChannel(OUTPUT_CHANNEL_NAME);

  info(message: string): void {
    this.channel.appendLine(`${new Date().toISOString().slice(11, 23)}  ${message}`);
  }

  /** Logs the start and the end of a piece of work with its duration; rethrows failures after logging them. */
  async timed<T>(what: string, work: () => Promise<T>): Promise<T> {
    const started = Date.now();
    this.info(`${what}…`);
    try {
      const result = await work();
      this.info(`${what}: done in ${formatDuration(Date.now() - started)}`);
      return result;
    } catch (error) {
      this.info(`${what}: failed after ${formatDuration(Date.now() - started)}: ${error instanceof Error ? error.message : String(error)}`);
      throw error;
    }
  }

  show(): void {
    this.channel.show(true);
  }

  dispose(): void {
    this.channel.dispose();
  }
}

export function formatDuration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
}
