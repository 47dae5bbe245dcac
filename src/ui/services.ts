import type * as vscode from 'vscode';
import type { AttributionHighlights } from './editor/attributionHighlights';
import type { GenerationGhostText } from './editor/generationGhostText';
import type { LensEngine } from './engine/lensEngine';
import type { OutputLog } from './outputLog';
import type { ExplanationPanel } from './panel/explanationPanel';
import type { ExplanationStore } from './results/explanationStore';
import type { InspectorView } from './sidebar/inspectorView';
import type { RunSettingsState } from './runSettings';

/** What features share; built once in `activate` and passed to every `register…` function. */
export interface Services {
  context: vscode.ExtensionContext;
  log: OutputLog;
  engine: LensEngine;
  store: ExplanationStore;
  highlights: AttributionHighlights;
  /** A generated continuation shown as faded text after its prompt. */
  ghostText: GenerationGhostText;
  panel: ExplanationPanel;
  sidebar: InspectorView;
  runSettings: RunSettingsState;
  /** Cancels the work in progress (from the panel's or sidebar's Cancel). */
  cancelCurrent(): void;
  /** Registers the work in progress so cancelCurrent reaches it; returns the unregister function. */
  trackWork(controller: AbortController): () => void;
}
