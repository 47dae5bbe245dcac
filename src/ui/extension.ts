import * as vscode from 'vscode';
import { ATTRIBUTION_METHODS, SidebarState } from '../protocol/webviewMessages';
import { AnalysisController, registerAnalysisCommands } from './commands/analysisCommands';
import { registerExportCommands } from './commands/exportCommands';
import { GenerationController, registerGenerationCommands } from './commands/generationCommands';
import { registerHubCommands } from './commands/hubCommands';
import { InsideController, registerInsideCommands } from './commands/insideCommands';
import { openModelAt, registerModelCommands } from './commands/modelCommands';
import { registerSentencePairCommand } from './commands/sentencePairCommand';
import { affectsLens } from './config';
import { ContextKeys } from './ids';
import { AttributionHighlights } from './editor/attributionHighlights';
import { registerAttributionHover } from './editor/attributionHover';
import { GenerationGhostText } from './editor/generationGhostText';
import { LensEngine } from './engine/lensEngine';
import { Settings, Views } from './ids';
import type { LensApi } from './lensApi';
import { notices } from './notices';
import { OutputLog } from './outputLog';
import { ExplanationPanel } from './panel/explanationPanel';
import { ExplanationStore } from './results/explanationStore';
import { RunSettingsState } from './runSettings';
import type { Services } from './services';
import { LiveMode, registerLiveMode } from './live/liveMode';
import { InspectorView } from './sidebar/inspectorView';
import { LensStatusBar } from './statusBar';

/**
 * Wiring only: each feature registers itself and returns what to dispose. Nothing heavy happens
 * here: the engine process starts on the first request, the panel on first use.
 */
export function activate(context: vscode.ExtensionContext): LensApi {
  const log = new OutputLog();
  notices.setLog((line) => log.info(line));
  const engine = new LensEngine(context.asAbsolutePath('dist/engine.js'), log);
  const work = new Set<AbortController>();
  const services: Services = {
    context,
    log,
    engine,
    store: new ExplanationStore(),
    highlights: new AttributionHighlights(),
    ghostText: new GenerationGhostText(),
    panel: new ExplanationPanel(context.extensionUri),
    sidebar: new InspectorView(context.extensionUri),
    runSettings: new RunSettingsState(),
    cancelCurrent: () => work.forEach((c) => c.abort()),
    trackWork: (controller) => {
      work.add(controller);
      return () => work.delete(controller);
    },
  };
  const statusBar = new LensStatusBar(services);
  const analysis = new AnalysisController(services);
  const inside = new InsideController(services, analysis);
  const generation = new GenerationController(services);
  const live = new LiveMode(services, (input) => analysis.setSubject(input));
  services.panel.setActions(analysis);
  services.panel.setInsideActions({
    initialMessages: () => inside.initialMessages(),
    loadLogitLens: () => void inside.showLogitLens(true),
    loadHeads: () => void inside.showHeadImportance(true),
    prune: (heads) => void inside.prune(heads),
    compareModels: () => void inside.compareModels(undefined, true),
    testRobustness: () => void inside.testRobustness(undefined, true),
    runDataset: () => void inside.runDataset(),
    openExample: (line, text) => void inside.openExample(line, text),
    exportDataset: (format) => void inside.exportDataset(format),
  });
  const state = () => ({ ...sidebarState(services), decoder: engine.card?.task === 'causal-lm', inside: inside.summary(), live: live.status });
  services.sidebar.setHandlers({
    state,
    setting: (key, value) => {
      if (key === 'modelVariant') {
        // The export picked for this model; the setting stays the preference for models opened later.
        const card = engine.card;
        if (card && card.availableVariants.includes(String(value)) && value !== card.variant) void openModelAt(services, card.path, String(value));
      } else if (key === 'budget') {
        services.runSettings.update({ budget: Math.max(10, Math.round(Number(value)) || 500) });
      } else {
        services.runSettings.update({ [key]: value });
      }
    },
  });

  context.subscriptions.push(
    log,
    engine,
    services.store,
    services.highlights,
    services.ghostText,
    services.panel,
    services.sidebar,
    services.runSettings,
    statusBar,
    vscode.window.registerWebviewViewProvider(Views.inspector, services.sidebar),
    registerModelCommands(context, services),
    registerAnalysisCommands(context, services, analysis),
    registerSentencePairCommand(services, analysis),
    registerInsideCommands(services, inside),
    registerGenerationCommands(services, generation),
    registerExportCommands(context, services),
    registerHubCommands(context, services),
    registerAttributionHover(context, services),
    registerSidebarUpdates(services),
    registerModelSwitch(services, inside, generation),
    live,
    registerLiveMode(services, live),
    live.onDidChange(() => services.sidebar.refresh()),
    registerSettingsWatcher(services),
  );

  return {
    engine,
    get model() {
      return engine.card;
    },
    get lastExplanation() {
      return services.store.current?.result;
    },
    panelState: () => services.panel.describe(),
    sidebarDrawn: () => services.sidebar.describe(),
    sidebarState: state,
    get inside() {
      return inside.latest;
    },
    get generation() {
      return generation.latest;
    },
    selectGenerationStep: (step) => generation.selectStep(step),
    insertGeneration: () => generation.insert(),
    exportGeneration: (format, target) => generation.exportData(format, target),
    ghostTextIn: (editor) => services.ghostText.textIn(editor.document),
    cancelCurrent: () => services.cancelCurrent(),
    statusBar: () => statusBar.describe(),
    notices: () => [...notices.recent],
    progressShown: () => [...notices.progressShown],
    decorationsFor: (editor) => services.highlights.for(editor.document),
    live: {
      get on() {
        return live.isOn;
      },
      get status() {
        return live.status;
      },
      get history() {
        return live.history;
      },
    },
  };
}

export function deactivate(): void {
  // Disposables in context.subscriptions stop the engine.
  notices.setLog(undefined);
}

function sidebarState(services: Services): SidebarState {
  return {
    model: services.engine.card,
    engine: services.engine.status,
    settings: services.runSettings.current,
    recent: services.store.recent(),
    lastError: services.engine.lastError,
    workspaceTrusted: vscode.workspace.isTrusted,
  };
}

function registerSidebarUpdates(services: Services): vscode.Disposable {
  const refresh = () => services.sidebar.refresh();
  const panelModel = () => services.panel.post({ type: 'model', card: services.engine.card });
  return vscode.Disposable.from(
    services.engine.onDidChange(() => {
      refresh();
      panelModel();
    }),
    services.store.onDidChange(refresh),
    services.runSettings.onDidChange((settings) => {
      refresh();
      services.panel.post({ type: 'settings', settings, methods: ATTRIBUTION_METHODS });
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(refresh),
  );
}

/**
 * When another model (or another export of this one) is opened, what the previous model computed
 * goes: the prediction in the status bar, the attention, the current explanation and its highlights,
 * the inside-the-model results, the generation and its faded text, and every tab of the panel.
 */
function registerModelSwitch(services: Services, inside: InsideController, generation: GenerationController): vscode.Disposable {
  return services.engine.onDidChangeModel((card) => {
    services.store.forgetModel();
    inside.forget();
    generation.forget();
    services.highlights.clear();
    void vscode.commands.executeCommand('setContext', ContextKeys.hasExplanation, false);
    services.panel.post({ type: 'model', card });
  });
}

/** Settings that shape the runtime take effect on a fresh engine. */
function registerSettingsWatcher(services: Services): vscode.Disposable {
  return vscode.workspace.onDidChangeConfiguration((e) => {
    const runtime = [Settings.executionProviders, Settings.threads, Settings.maxTokens, Settings.memoryLimitMb, Settings.requestTimeoutSeconds];
    if (runtime.some((key) => affectsLens(e, key))) services.engine.restart('runtime settings changed');
  });
}
