/**
 * The webview's end of the channel to the extension host: typed posting, request/response with
 * ids and timeouts, and answering the host's requests.
 */
import type { RpcContract, RpcResponse } from '../../../src/protocol/webviewMessages';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();

export class HostChannel<Out extends { type: string }, HostReqs extends RpcContract<HostReqs>, OwnReqs extends RpcContract<OwnReqs>> {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: number }>();
  private readonly handlers: Partial<{ [M in keyof OwnReqs]: (params: OwnReqs[M]['params']) => OwnReqs[M]['result'] | Promise<OwnReqs[M]['result']> }> = {};

  post(message: Out): void {
    vscode.postMessage(message);
  }

  request<M extends keyof HostReqs & string>(method: M, params: HostReqs[M]['params'], timeoutMs = 30000): Promise<HostReqs[M]['result']> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = window.setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`No answer to ${method}`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      vscode.postMessage({ type: 'request', id, method, params });
    });
  }

  /** Registers the answer to one of the host's requests. */
  handle<M extends keyof OwnReqs>(method: M, handler: (params: OwnReqs[M]['params']) => OwnReqs[M]['result'] | Promise<OwnReqs[M]['result']>): void {
    this.handlers[method] = handler;
  }

  /** Feeds `request`/`response` envelopes; returns false for any other message. */
  dispatch(message: { type: string }): boolean {
    if (message.type === 'response') {
      const m = message as RpcResponse;
      const p = this.pending.get(m.inReplyTo);
      if (p) {
        this.pending.delete(m.inReplyTo);
        window.clearTimeout(p.timer);
        if (m.ok) p.resolve(m.result);
        else p.reject(new Error(m.error));
      }
      return true;
    }
    if (message.type === 'request') {
      const m = message as unknown as { id: number; method: keyof OwnReqs; params: unknown };
      const handler = this.handlers[m.method] as ((p: unknown) => unknown) | undefined;
      void (async () => {
        try {
          if (!handler) throw new Error(`Unknown request ${String(m.method)}`);
          const result = await handler(m.params);
          vscode.postMessage({ type: 'response', inReplyTo: m.id, ok: true, result });
        } catch (error) {
          vscode.postMessage({ type: 'response', inReplyTo: m.id, ok: false, error: error instanceof Error ? error.message : String(error) });
        }
      })();
      return true;
    }
    return false;
  }

  /** Small UI state that survives the webview being hidden and restored (selected tab, level). */
  saveState(state: unknown): void {
    vscode.setState(state);
  }

  loadState<T>(): T | undefined {
    return vscode.getState() as T | undefined;
  }
}
