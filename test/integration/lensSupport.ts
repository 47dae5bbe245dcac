import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { DrawnSummary, PanelTab } from '../../src/protocol/webviewMessages';
import { EXTENSION_ID, Views } from '../../src/ui/ids';
import type { LensApi } from '../../src/ui/lensApi';

/** A sentence the demo model reads as clearly positive. */
export const SENTENCE = 'The film was wonderful, the acting superb and the ending moving.';

/** Polls `probe` until it gives a value (not undefined or false), or fails naming `what`. */
export async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 20000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A new untitled editor holding `text`, all of it selected. */
export async function editorWith(text: string): Promise<vscode.TextEditor> {
  const document = await vscode.workspace.openTextDocument({ content: text, language: 'plaintext' });
  const editor = await vscode.window.showTextDocument(document, vscode.ViewColumn.One);
  editor.selection = new vscode.Selection(document.positionAt(0), document.positionAt(text.length));
  return editor;
}

/** Activates the extension under test: its test hook and the folder it runs from. */
export async function activateLens(): Promise<{ api: LensApi; extensionPath: string }> {
  const extension = vscode.extensions.getExtension<LensApi>(EXTENSION_ID);
  assert.ok(extension, `${EXTENSION_ID} is installed`);
  return { api: await extension.activate(), extensionPath: extension.extensionPath };
}

/** The demo model's folder inside the extension under test. */
export function demoModelPath(): string {
  return path.join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, 'models', 'demo-sentiment');
}

/** What the panel drew once it shows `tab` and `ready` accepts it; `what` names the wait in a timeout's message. */
export function panelOn(api: LensApi, tab: PanelTab, ready: (d: DrawnSummary) => boolean = () => true, what = `the panel to draw the ${tab} tab`): Promise<DrawnSummary> {
  return waitFor(what, async () => {
    const d = await api.panelState().catch(() => undefined);
    return d && d.tab === tab && ready(d) ? d : undefined;
  });
}

/** What the sidebar drew once `ready` holds (the sidebar is opened first). */
export async function sidebarOn(api: LensApi, ready: (d: DrawnSummary) => boolean): Promise<DrawnSummary> {
  await vscode.commands.executeCommand(`${Views.inspector}.focus`);
  return waitFor('the sidebar to draw', async () => {
    const d = await api.sidebarDrawn().catch(() => undefined);
    return d && ready(d) ? d : undefined;
  });
}

/** The hovers over a document offset of an editor, as Markdown. */
export async function hoverAt(editor: vscode.TextEditor, offset: number): Promise<vscode.MarkdownString[]> {
  const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', editor.document.uri, editor.document.positionAt(offset));
  return hovers.flatMap((h) => h.contents.filter((c): c is vscode.MarkdownString => c instanceof vscode.MarkdownString));
}

