import * as vscode from 'vscode';
import type { RpcContract, RpcResponse } from '../../protocol/webviewMessages';

/**
 * The host's end of a webview's message channel: holds messages back until the webview says it is
 * ready (state never goes into the HTML), sends requests with ids and a timeout, and matches
 * responses to them.
 */
export class WebviewChannel<Out extends { type: string }, Requests extends RpcContract<Requests>> {
  private ready = false;
  private queue: Out[] = [];
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();

  constructor(private webview: vscode.Webview) {}

  /** After the webview (re)loaded its HTML: wait for a new `ready`. */
  reset(webview: vscode.Webview): void {
    this.webview = webview;
    this.ready = false;
    this.rejectAll('The view was reloaded.');
  }

  get isReady(): boolean {
    return this.ready;
  }

  markReady(): void {
    this.ready = true;
    const queued = this.queue;
    this.queue = [];
    for (const m of queued) void this.webview.postMessage(m);
  }

  post(message: Out): void {
    if (!this.ready) {
      // Only the latest message of a kind matters for state messages sent before the view is up.
      this.queue = this.queue.filter((m) => m.type !== message.type || message.type === 'request');
      this.queue.push(message);
      return;
    }
    void this.webview.postMessage(message);
  }

  request<M extends keyof Requests & string>(method: M, params: Requests[M]['params'], timeoutMs = 10000): Promise<Requests[M]['result']> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`The view did not answer "${method}" within ${timeoutMs / 1000} s.`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.post({ type: 'request', id, method, params } as unknown as Out);
    });
  }

  /** Feeds a `response` message from the webview. */
  handleResponse(message: RpcResponse): void {
    const p = this.pending.get(message.inReplyTo);
    if (!p) return;
    this.pending.delete(message.inReplyTo);
    clearTimeout(p.timer);
    if (message.ok) p.resolve(message.result);
    else p.reject(new Error(message.error));
  }

  /** Answers a request from the webview with the result of `work`, or its error. */
  async answer(id: number, work: () => unknown | Promise<unknown>): Promise<void> {
    try {
      const result = await work();
      void this.webview.postMessage({ type: 'response', inReplyTo: id, ok: true, result });
    } catch (error) {
      void this.webview.postMessage({ type: 'response', inReplyTo: id, ok: false, error: error instanceof Error ? error.message : String(error) });
    }
  }

  dispose(): void {
    this.rejectAll('The view was closed.');
  }

  private rejectAll(reason: string): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error(reason));
    }
    this.pending.clear();
  }
}
