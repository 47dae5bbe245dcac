import * as vscode from 'vscode';
import { ATTRIBUTION_BUCKETS, attributionColorId, ContextKeys } from '../ids';
import type { ExplainedSelection } from '../results/explanationStore';
import { applyChanges } from './rangeShift';
import { HighlightRange, highlightRanges, rangeAt } from './attributionRanges';

/** A highlight as tests and the hover see it. */
export interface HighlightInfo extends HighlightRange {
  explanationId: string;
}

/**
 * Paints each attributed word's background by its bucket. One decoration type per bucket, created
 * once; highlights are kept per document by offset, follow edits, and a word whose text changes
 * loses its colour (its attribution no longer describes it).
 */
export class AttributionHighlights implements vscode.Disposable {
  private readonly types = new Map<string, vscode.TextEditorDecorationType>();
  private readonly byDocument = new Map<string, HighlightInfo[]>();
  private readonly disposables: vscode.Disposable[] = [];
  /** What each editor was last given per decoration type, so unchanged types are not sent again. */
  private readonly sent = new WeakMap<vscode.TextEditor, Map<string, string>>();

  constructor() {
    for (const sign of ['negative', 'positive'] as const) {
      for (let level = 1; level <= ATTRIBUTION_BUCKETS; level++) {
        const id = attributionColorId(sign, level);
        this.types.set(
          id,
          vscode.window.createTextEditorDecorationType({
            backgroundColor: new vscode.ThemeColor(id),
            borderRadius: '2px',
            // Text typed at a word's edge stays outside its colour, in the editor as in rangeShift: with the
            // default (OpenOpen) the editor would widen the box over a comma typed after the word.
            rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
          }),
        );
      }
    }
    this.disposables.push(
      vscode.workspace.onDidChangeTextDocument((e) => this.onEdit(e)),
      vscode.window.onDidChangeVisibleTextEditors((editors) => editors.forEach((ed) => this.paint(ed))),
      vscode.workspace.onDidCloseTextDocument((d) => this.byDocument.delete(d.uri.toString())),
    );
  }

  /** Paints an explanation on its document (replacing what was there). */
  show(item: ExplainedSelection): void {
    if (!item.uri) return;
    this.showFeatures(item.uri, item.id, item.result.features, item.offset, item.pairOffset);
  }

  /**
   * Paints attributed spans (offsets relative to `offset` in the document; a pair's second text relative to
   * `pairOffset`), under the id hovers look up.
   */
  showFeatures(uri: string, explanationId: string, features: Parameters<typeof highlightRanges>[0]['features'], offset: number, pairOffset = offset): void {
    const ranges = highlightRanges({ features }, offset, undefined, pairOffset)
      .map((r) => ({ ...r, explanationId }))
      .sort((a, b) => a.start - b.start);
    this.byDocument.set(uri, ranges);
    this.repaint(uri);
  }

  /**
   * Paints an explanation over one region of its document (document offsets, as it is now), replacing the
   * highlights inside the region and keeping those elsewhere: live mode repaints the line being edited
   * while the other lines keep their colours.
   */
  showInRegion(item: ExplainedSelection, region: { start: number; end: number }): void {
    if (!item.uri) return;
    this.replaceRegion(item.uri, region, highlightRanges(item.result, item.offset).map((r) => ({ ...r, explanationId: item.id })));
  }

  /** Removes the highlights inside one region of a document (document offsets), keeping the others. */
  clearRegion(uri: string, region: { start: number; end: number }): void {
    this.replaceRegion(uri, region, []);
  }

  private replaceRegion(uri: string, region: { start: number; end: number }, fresh: HighlightInfo[]): void {
    const before = this.byDocument.get(uri) ?? [];
    const kept = before.filter((r) => r.end <= region.start || r.start >= region.end);
    if (fresh.length === 0 && kept.length === before.length) return;
    const next = [...kept, ...fresh].sort((a, b) => a.start - b.start);
    if (next.length === 0) this.byDocument.delete(uri);
    else this.byDocument.set(uri, next);
    this.repaint(uri);
  }

  /** Removes the highlights of the explanations `drop` picks, in every document. */
  removeWhere(drop: (explanationId: string) => boolean): void {
    for (const [uri, ranges] of [...this.byDocument]) {
      const kept = ranges.filter((r) => !drop(r.explanationId));
      if (kept.length === ranges.length) continue;
      if (kept.length === 0) this.byDocument.delete(uri);
      else this.byDocument.set(uri, kept);
      this.repaint(uri);
    }
    this.updateContext();
  }

  clear(uri?: string): void {
    if (uri) this.byDocument.delete(uri);
    else this.byDocument.clear();
    for (const editor of vscode.window.visibleTextEditors) this.paint(editor);
    this.updateContext();
  }

  /** Highlights of a document, in document order. */
  for(document: vscode.TextDocument): HighlightInfo[] {
    return this.byDocument.get(document.uri.toString()) ?? [];
  }

  at(document: vscode.TextDocument, position: vscode.Position): HighlightInfo | undefined {
    return rangeAt(this.for(document), document.offsetAt(position));
  }

  dispose(): void {
    for (const t of this.types.values()) t.dispose();
    for (const d of this.disposables) d.dispose();
  }

  private onEdit(event: vscode.TextDocumentChangeEvent): void {
    const key = event.document.uri.toString();
    const ranges = this.byDocument.get(key);
    if (!ranges || event.contentChanges.length === 0) return;
    const next = applyChanges(ranges, event.contentChanges);
    if (next.length === 0) this.byDocument.delete(key);
    else this.byDocument.set(key, next);
    this.repaint(key);
  }

  private repaint(uri: string): void {
    for (const editor of vscode.window.visibleTextEditors) {
      if (editor.document.uri.toString() === uri) this.paint(editor);
    }
    this.updateContext();
  }

  private paint(editor: vscode.TextEditor): void {
    const ranges = this.byDocument.get(editor.document.uri.toString()) ?? [];
    const grouped = new Map<string, { options: vscode.DecorationOptions[]; key: string }>();
    for (const r of ranges) {
      if (!r.colorId) continue;
      const entry = grouped.get(r.colorId) ?? { options: [], key: '' };
      entry.options.push({ range: new vscode.Range(editor.document.positionAt(r.start), editor.document.positionAt(r.end)) });
      entry.key += `${r.start}-${r.end},`;
      grouped.set(r.colorId, entry);
    }
    // Live mode repaints at every pause in typing: each decoration update costs the editor a re-render, so
    // only the colours whose ranges changed are sent. The editor moves decorations through edits as
    // rangeShift moves ours (ClosedClosed: text typed at a word's edge stays outside it), so equal offsets
    // mean equal decorations.
    let sent = this.sent.get(editor);
    if (!sent) this.sent.set(editor, (sent = new Map()));
    for (const [id, type] of this.types) {
      const entry = grouped.get(id);
      const key = entry?.key ?? '';
      if (sent.get(id) === key) continue;
      editor.setDecorations(type, entry?.options ?? []);
      sent.set(id, key);
    }
  }

  private updateContext(): void {
    void vscode.commands.executeCommand('setContext', ContextKeys.hasHighlights, this.byDocument.size > 0);
  }
}
