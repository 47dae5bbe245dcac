import * as vscode from 'vscode';

/**
 * The generated continuation shown after the prompt as faded text (a decoration, not an edit): it grows as
 * tokens stream in and disappears when the document is edited or the highlights are cleared.
 */
export class GenerationGhostText implements vscode.Disposable {
  private readonly type = vscode.window.createTextEditorDecorationType({
    after: { color: new vscode.ThemeColor('editorGhostText.foreground'), fontStyle: 'italic' },
    rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
  });
  private current: { uri: string; offset: number; text: string } | undefined;
  private readonly disposables: vscode.Disposable[];

  constructor() {
    this.disposables = [
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (this.current && e.document.uri.toString() === this.current.uri && e.contentChanges.length > 0) this.clear();
      }),
      vscode.window.onDidChangeVisibleTextEditors((editors) => editors.forEach((ed) => this.paint(ed))),
    ];
  }

  /** Shows `text` after document offset `offset`. */
  show(uri: string, offset: number, text: string): void {
    this.current = { uri, offset, text };
    for (const editor of vscode.window.visibleTextEditors) if (editor.document.uri.toString() === uri) this.paint(editor);
  }

  /** The text shown in a document, if any. */
  textIn(document: vscode.TextDocument): string | undefined {
    return this.current && this.current.uri === document.uri.toString() ? this.current.text : undefined;
  }

  clear(): void {
    const uri = this.current?.uri;
    this.current = undefined;
    for (const editor of vscode.window.visibleTextEditors) if (editor.document.uri.toString() === uri) editor.setDecorations(this.type, []);
  }

  dispose(): void {
    this.type.dispose();
    for (const d of this.disposables) d.dispose();
  }

  private paint(editor: vscode.TextEditor): void {
    const c = this.current;
    if (!c || editor.document.uri.toString() !== c.uri) return;
    const at = editor.document.positionAt(c.offset);
    // One line of decoration: line breaks of the continuation show as ⏎.
    const contentText = c.text.replace(/\r?\n/g, ' ⏎ ');
    editor.setDecorations(this.type, contentText ? [{ range: new vscode.Range(at, at), renderOptions: { after: { contentText } } }] : []);
  }
}
