import * as vscode from 'vscode';
import type { Level, MethodName } from '../../protocol/engineApi';
import {
  AttentionMatrixView,
  DrawnSummary,
  HostRequests,
  HostToPanel,
  isPanelMessage,
  NeuronValue,
  PanelTab,
  PANEL_TABS,
  PanelToHost,
  RunSettings,
  SegmentBlockView,
  validHeadPairs,
  WebviewRequests,
} from '../../protocol/webviewMessages';
import { Views } from '../ids';
import { WebviewChannel } from '../webview/webviewChannel';
import { makeNonce, webviewHtml } from '../webview/webviewHtml';

/** What the panel's buttons do; implemented by the analysis commands. */
export interface PanelActions {
  /** Messages that rebuild the panel's state after it (re)loads. */
  initialMessages(): HostToPanel[];
  runExplain(settings: RunSettings): void;
  runCompare(settings: RunSettings, methods: [MethodName, MethodName]): void;
  loadAttention(level: Level): void;
  loadRollout(method: 'rollout' | 'flow', layer?: number): void;
  loadActivations(): void;
  cancel(): void;
  exportData(format: 'json' | 'html'): void;
  saveImage(format: 'png' | 'svg', name: string, data: string): void;
  revealText(start: number, end: number, segment?: 0 | 1): void;
  segmentBlock(params: HostRequests['segmentBlock']['params']): SegmentBlockView;
  attentionMatrix(params: HostRequests['attentionMatrix']['params']): AttentionMatrixView;
  topNeurons(params: HostRequests['topNeurons']['params']): NeuronValue[];
}

/** What the inside-the-model tabs' buttons do; implemented by the inside commands. */
export interface InsidePanelActions {
  initialMessages(): HostToPanel[];
  loadLogitLens(): void;
  loadHeads(): void;
  prune(heads: [number, number][]): void;
  compareModels(): void;
  testRobustness(): void;
  runDataset(): void;
  openExample(line: number, text: string): void;
  exportDataset(format: 'json' | 'csv'): void;
}

/** What the Generation tab's buttons do; implemented by the generation commands. */
export interface GenerationPanelActions {
  initialMessages(): HostToPanel[];
  selectStep(step: number): void;
  explain(): void;
  insert(): void;
  exportData(format: 'json' | 'html'): void;
}

/**
 * The explanation panel: one per window, reused. It is created on demand, holds no state the host
 * cannot resend, and is rebuilt from `initialMessages()` whenever it loads.
 */
export class ExplanationPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private channel: WebviewChannel<HostToPanel, WebviewRequests> | undefined;
  private actions: PanelActions | undefined;
  private insideActions: InsidePanelActions | undefined;
  private generationActions: GenerationPanelActions | undefined;
  private currentTab: PanelTab = 'prediction';

  constructor(private readonly extensionUri: vscode.Uri) {}

  setActions(actions: PanelActions): void {
    this.actions = actions;
  }

  setInsideActions(actions: InsidePanelActions): void {
    this.insideActions = actions;
  }

  setGenerationActions(actions: GenerationPanelActions): void {
    this.generationActions = actions;
  }

  get isOpen(): boolean {
    return this.panel !== undefined;
  }

  get tab(): PanelTab {
    return this.currentTab;
  }

  /** Opens (or reveals) the panel, optionally on a tab and a span of the text. */
  show(tab?: PanelTab, focus?: { start: number; end: number }, preserveFocus = true): void {
    if (!this.panel) this.create(preserveFocus);
    else this.panel.reveal(undefined, preserveFocus);
    if (tab) {
      this.currentTab = tab;
      this.post({ type: 'showTab', tab, focus });
    }
  }

  /** Sends a message if the panel is open; a closed panel gets the state when it opens. */
  post(message: HostToPanel): void {
    this.channel?.post(message);
  }

  /** Asks the webview what it drew on its visible tab. */
  async describe(): Promise<DrawnSummary | undefined> {
    return this.channel?.request('describe', {});
  }

  async snapshot(format: 'png' | 'svg'): Promise<{ name: string; data: string } | undefined> {
    return this.channel?.request('snapshot', { format });
  }

  dispose(): void {
    this.panel?.dispose();
  }

  private create(preserveFocus: boolean): void {
    const roots = [vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(this.extensionUri, 'media')];
    const panel = vscode.window.createWebviewPanel(
      Views.panel,
      'ONNX Lens',
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus },
      // Keeping the context avoids recomputing canvases and re-sending tensors on every tab switch.
      { enableScripts: true, retainContextWhenHidden: true, localResourceRoots: roots },
    );
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'lens.svg');
    const webview = panel.webview;
    const asUri = (...p: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, ...p)).toString();
    webview.html = webviewHtml({
      cspSource: webview.cspSource,
      nonce: makeNonce(),
      scriptUri: asUri('dist', 'webview', 'panel.js'),
      styleUris: [asUri('media', 'webview.css'), asUri('media', 'panel.css')],
      title: 'ONNX Lens',
      bodyClass: 'panel',
    });
    const channel = new WebviewChannel<HostToPanel, WebviewRequests>(webview);
    this.panel = panel;
    this.channel = channel;
    panel.onDidDispose(() => {
      channel.dispose();
      if (this.panel === panel) {
        this.panel = undefined;
        this.channel = undefined;
      }
    });
    webview.onDidReceiveMessage((m: unknown) => this.onMessage(m, channel));
  }

  private onMessage(message: unknown, channel: WebviewChannel<HostToPanel, WebviewRequests>): void {
    if (!isPanelMessage(message)) return;
    const a = this.actions;
    const m = message as PanelToHost;
    switch (m.type) {
      case 'ready':
        for (const initial of [...(a?.initialMessages() ?? []), ...(this.insideActions?.initialMessages() ?? []), ...(this.generationActions?.initialMessages() ?? [])]) {
          channel.post(initial);
        }
        channel.post({ type: 'showTab', tab: this.currentTab });
        channel.markReady();
        return;
      case 'response':
        channel.handleResponse(m);
        return;
      case 'request':
        if (m.method === 'attentionMatrix') void channel.answer(m.id, () => a?.attentionMatrix(m.params));
        else if (m.method === 'topNeurons') void channel.answer(m.id, () => a?.topNeurons(m.params));
        else if (m.method === 'segmentBlock') void channel.answer(m.id, () => a?.segmentBlock(m.params));
        return;
      case 'tabChanged':
        if (PANEL_TABS.includes(m.tab)) this.currentTab = m.tab;
        return;
      case 'runExplain':
        a?.runExplain(m.settings);
        return;
      case 'runCompare':
        a?.runCompare(m.settings, m.methods);
        return;
      case 'loadAttention':
        a?.loadAttention(m.level === 'token' ? 'token' : 'word');
        return;
      case 'loadRollout':
        a?.loadRollout(m.method === 'flow' ? 'flow' : 'rollout', typeof m.layer === 'number' ? m.layer : undefined);
        return;
      case 'loadActivations':
        a?.loadActivations();
        return;
      case 'cancel':
        a?.cancel();
        return;
      case 'exportData':
        if (m.format !== 'json' && m.format !== 'html') return;
        if (this.currentTab === 'generation' && this.generationActions) this.generationActions.exportData(m.format);
        else a?.exportData(m.format);
        return;
      case 'saveImage':
        if ((m.format === 'png' || m.format === 'svg') && typeof m.data === 'string') a?.saveImage(m.format, String(m.name), m.data);
        return;
      case 'revealText':
        if (Number.isInteger(m.start) && Number.isInteger(m.end)) a?.revealText(m.start, m.end, m.segment === 1 ? 1 : 0);
        return;
      default:
        this.onInsideMessage(m);
    }
  }

  private onInsideMessage(m: PanelToHost): void {
    const inside = this.insideActions;
    switch (m.type) {
      case 'loadLogitLens':
        inside?.loadLogitLens();
        return;
      case 'loadHeads':
        inside?.loadHeads();
        return;
      case 'runPrune': {
        const heads = validHeadPairs(m.heads);
        if (heads.length) inside?.prune(heads);
        return;
      }
      case 'runCompareModels':
        inside?.compareModels();
        return;
      case 'runRobustness':
        inside?.testRobustness();
        return;
      case 'runDataset':
        inside?.runDataset();
        return;
      case 'openExample':
        if (Number.isInteger(m.line) && m.line > 0 && typeof m.text === 'string') inside?.openExample(m.line, m.text);
        return;
      case 'exportDataset':
        if (m.format === 'json' || m.format === 'csv') inside?.exportDataset(m.format);
        return;
      case 'selectGenerationStep':
        if (Number.isInteger(m.step) && m.step >= -1) this.generationActions?.selectStep(m.step);
        return;
      case 'explainGeneration':
        this.generationActions?.explain();
        return;
      case 'insertGeneration':
        this.generationActions?.insert();
        return;
    }
  }
}
