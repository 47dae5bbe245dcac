import * as vscode from 'vscode';
import {
  DrawnSummary,
  HostToSidebar,
  isSidebarMessage,
  PANEL_TABS,
  SidebarAction,
  SidebarState,
  SidebarToHost,
  WebviewRequests,
} from '../../protocol/webviewMessages';
import { Commands, Views } from '../ids';
import { WebviewChannel } from '../webview/webviewChannel';
import { makeNonce, webviewHtml } from '../webview/webviewHtml';

const ACTION_COMMANDS: Record<SidebarAction, string> = {
  openModel: Commands.openModel,
  useDemoModel: Commands.useDemoModel,
  explainSelection: Commands.explainSelection,
  showAttention: Commands.showAttention,
  showActivations: Commands.showActivations,
  compareMethods: Commands.compareMethods,
  showHeadImportance: Commands.showHeadImportance,
  compareModels: Commands.compareModels,
  testRobustness: Commands.testRobustness,
  runDataset: Commands.runDataset,
  showLogitLens: Commands.showLogitLens,
  exportExplanation: Commands.exportExplanation,
  downloadModel: Commands.downloadModel,
  manageCachedModels: Commands.manageCachedModels,
  showPanel: Commands.showPanel,
  showLog: Commands.showLog,
  clearHighlights: Commands.clearHighlights,
  toggleLiveMode: Commands.toggleLiveMode,
};

export interface InspectorHandlers {
  state(): SidebarState;
  setting(key: Extract<SidebarToHost, { type: 'setting' }>['key'], value: string | number): void;
}

/**
 * The sidebar inspector: model card, engine status, run settings, recent explanations and quick
 * actions. A webview view in its own activity-bar container; its state is pushed by message.
 */
export class InspectorView implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  private channel: WebviewChannel<HostToSidebar, WebviewRequests> | undefined;
  private handlers: InspectorHandlers | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;

  constructor(private readonly extensionUri: vscode.Uri) {}

  setHandlers(handlers: InspectorHandlers): void {
    this.handlers = handlers;
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    const webview = view.webview;
    webview.options = {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(this.extensionUri, 'media')],
    };
    const asUri = (...p: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, ...p)).toString();
    webview.html = webviewHtml({
      cspSource: webview.cspSource,
      nonce: makeNonce(),
      scriptUri: asUri('dist', 'webview', 'sidebar.js'),
      styleUris: [asUri('media', 'webview.css'), asUri('media', 'sidebar.css')],
      title: 'ONNX Lens Inspector',
      bodyClass: 'sidebar',
    });
    const channel = new WebviewChannel<HostToSidebar, WebviewRequests>(webview);
    this.channel = channel;
    webview.onDidReceiveMessage((m: unknown) => this.onMessage(m, channel));
    view.onDidDispose(() => {
      channel.dispose();
      if (this.view === view) {
        this.view = undefined;
        this.channel = undefined;
      }
    });
    view.onDidChangeVisibility(() => {
      if (view.visible) this.refresh();
    });
  }

  /** Pushes the current state soon; bursts of changes (progress) are coalesced. */
  refresh(): void {
    if (!this.channel || this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      const state = this.handlers?.state();
      if (state) this.channel?.post({ type: 'state', state });
    }, 50);
  }

  /** What the sidebar drew, or undefined when it was never opened. */
  async describe(): Promise<DrawnSummary | undefined> {
    return this.channel?.request('describe', {});
  }

  /** Opens the inspector in its container. */
  async reveal(): Promise<void> {
    await vscode.commands.executeCommand(`${Views.inspector}.focus`);
  }

  dispose(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.channel?.dispose();
  }

  private onMessage(message: unknown, channel: WebviewChannel<HostToSidebar, WebviewRequests>): void {
    if (!isSidebarMessage(message)) return;
    const m = message as SidebarToHost;
    switch (m.type) {
      case 'ready': {
        const state = this.handlers?.state();
        if (state) channel.post({ type: 'state', state });
        channel.markReady();
        return;
      }
      case 'response':
        channel.handleResponse(m);
        return;
      case 'action': {
        const command = ACTION_COMMANDS[m.action];
        if (command) void vscode.commands.executeCommand(command);
        return;
      }
      case 'showTab':
        if (PANEL_TABS.includes(m.tab)) void vscode.commands.executeCommand(Commands.showPanel, { tab: m.tab });
        return;
      case 'reopen':
        if (typeof m.id === 'string') void vscode.commands.executeCommand(Commands.reopenExplanation, m.id);
        return;
      case 'setting':
        if (typeof m.value === 'string' || typeof m.value === 'number') this.handlers?.setting(m.key, m.value);
        return;
    }
  }
}
