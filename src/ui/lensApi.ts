import type * as vscode from 'vscode';
import type { ExplanationResult, ModelCard } from '../protocol/engineApi';
import type { DrawnSummary, LiveStatus, SidebarState } from '../protocol/webviewMessages';
import type { GenerationState } from './commands/generationCommands';
import type { InsideResults } from './commands/insideCommands';
import type { HighlightInfo } from './editor/attributionHighlights';
import type { LiveRequestRecord } from './live/liveMode';
import type { Notice, ProgressNote } from './notices';

/**
 * What `activate` returns: a small surface for tests inside VS Code (and other extensions) to see
 * what the extension did without reaching into its modules.
 */
export interface LensApi {
  /** The engine process as the extension sees it. */
  readonly engine: { readonly pid: number | undefined; readonly state: string; readonly starts: number };
  readonly model: ModelCard | undefined;
  readonly lastExplanation: ExplanationResult | undefined;
  /** What the panel drew on its visible tab (undefined when the panel is closed). */
  panelState(): Promise<DrawnSummary | undefined>;
  /** What the sidebar drew (undefined when it was never shown). */
  sidebarDrawn(): Promise<DrawnSummary | undefined>;
  /** The state the sidebar is given. */
  sidebarState(): SidebarState;
  /** The latest head importance, logit lens, comparison, robustness and dataset results. */
  readonly inside: Readonly<InsideResults>;
  /** The latest Generate and Explain: the selection, the generation, its explanation and the token shown. */
  readonly generation: Readonly<GenerationState> | undefined;
  /** Paints the prompt by one generated token's attributions (−1: the whole continuation), as clicking it in the panel does. */
  selectGenerationStep(step: number): void;
  /** Inserts the continuation after its prompt, as the Generation tab's button does; resolves to whether the document changed. */
  insertGeneration(): Promise<boolean>;
  /** Exports the generation as the Generation tab's buttons do, to `target` instead of a save dialog; resolves to the file saved. */
  exportGeneration(format: 'json' | 'html', target?: vscode.Uri): Promise<vscode.Uri | undefined>;
  /** The faded continuation shown in an editor after its prompt, if any. */
  ghostTextIn(editor: vscode.TextEditor): string | undefined;
  /** The latest messages shown to the user in notifications, oldest first. */
  notices(): Notice[];
  /** The latest lines shown in progress notifications (their titles and messages), oldest first. */
  progressShown(): ProgressNote[];
  /** What the status bar item shows (text empty while it is hidden). */
  statusBar(): { text: string; tooltip: string };
  /** Cancels the work in progress, as the notification's Cancel button does. */
  cancelCurrent(): void;
  /** The attribution highlights of an editor's document. */
  decorationsFor(editor: vscode.TextEditor): HighlightInfo[];
  /** Live mode: on or off, what it last showed, and the requests it sent (oldest first). */
  readonly live: { readonly on: boolean; readonly status: LiveStatus; readonly history: readonly LiveRequestRecord[] };
}
