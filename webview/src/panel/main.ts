/**
 * Explanation panel: tabs fed by messages from the extension host. The panel asks for the
 * state with `ready` and never trusts anything but the message shapes it knows.
 */
import type { DrawnSummary, HostRequests, HostToPanel, PanelTab, PanelToHost, WebviewRequests } from '../../../src/protocol/webviewMessages';
import { button, clear, el } from '../shared/dom';
import { HostChannel } from '../shared/host';
import { readTheme, watchTheme } from '../shared/theme';
import { ActivationsTab } from './activationsTab';
import { AttentionTab } from './attentionTab';
import { AttributionsTab } from './attributionsTab';
import { CompareTab } from './compareTab';
import { DatasetTab } from './datasetTab';
import { GenerationTab } from './generationTab';
import { HeadsTab } from './headsTab';
import { PredictionTab } from './predictionTab';
import { RobustnessTab } from './robustnessTab';
import type { TabView } from './tabView';

const channel = new HostChannel<PanelToHost, HostRequests, WebviewRequests>();
let theme = readTheme();

const tabs: Record<PanelTab, TabView> = {
  prediction: new PredictionTab(),
  attributions: new AttributionsTab(channel, theme),
  generation: new GenerationTab(channel, theme),
  attention: new AttentionTab(channel, theme),
  activations: new ActivationsTab(channel, theme),
  heads: new HeadsTab(channel, theme),
  compare: new CompareTab(channel, theme),
  robustness: new RobustnessTab(channel),
  dataset: new DatasetTab(channel, theme),
};
const titles: Record<PanelTab, string> = {
  prediction: 'Prediction',
  attributions: 'Attributions',
  generation: 'Generation',
  attention: 'Attention',
  activations: 'Activations',
  heads: 'Heads',
  compare: 'Compare',
  robustness: 'Robustness',
  dataset: 'Dataset',
};
const prediction = tabs.prediction as PredictionTab;
const attributions = tabs.attributions as AttributionsTab;
const attention = tabs.attention as AttentionTab;
const activations = tabs.activations as ActivationsTab;
const heads = tabs.heads as HeadsTab;
const compare = tabs.compare as CompareTab;
const robustness = tabs.robustness as RobustnessTab;
const dataset = tabs.dataset as DatasetTab;
const generation = tabs.generation as GenerationTab;

let current: PanelTab = channel.loadState<{ tab?: PanelTab }>()?.tab ?? 'prediction';
let lastError: string | undefined;

const app = document.getElementById('app')!;
const tabBar = el('nav', { className: 'tabs', attrs: { role: 'tablist' } });
const status = el('div', { className: 'status', attrs: { role: 'status', 'aria-live': 'polite' } });
const errorBox = el('div', { className: 'error', attrs: { role: 'alert' } });
const tools = el(
  'div',
  { className: 'tools' },
  button('PNG', () => void exportImage('png'), { secondary: true, title: 'Save the picture on this tab as PNG' }),
  button('SVG', () => void exportImage('svg'), { secondary: true, title: 'Save the picture on this tab as SVG' }),
  button('JSON', () => channel.post({ type: 'exportData', format: 'json' }), { secondary: true, title: 'Save the results with provenance' }),
  button('Report', () => channel.post({ type: 'exportData', format: 'html' }), { secondary: true, title: 'Save a self-contained HTML report' }),
);
const content = el('main', { className: 'content' });
app.append(el('header', {}, tabBar, tools), status, errorBox, content);

function renderTabs(): void {
  clear(tabBar);
  for (const tab of Object.keys(tabs) as PanelTab[]) {
    const b = el('button', { text: titles[tab], className: tab === current ? 'tab-button active' : 'tab-button', attrs: { role: 'tab', 'aria-selected': String(tab === current) } });
    b.addEventListener('click', () => showTab(tab, true));
    tabBar.append(b);
  }
}

function showTab(tab: PanelTab, byUser = false): void {
  current = tab;
  channel.saveState({ tab });
  renderTabs();
  clear(content);
  content.append(tabs[tab].element);
  tabs[tab].shown();
  if (byUser) {
    channel.post({ type: 'tabChanged', tab });
    if (tab === 'attention' && !attentionLoaded) channel.post({ type: 'loadAttention', level: 'word' });
    if (tab === 'activations' && !activationsLoaded) channel.post({ type: 'loadActivations' });
  }
}

let attentionLoaded = false;
let activationsLoaded = false;

function setBusy(label: string | undefined, done?: number, total?: number): void {
  clear(status);
  if (!label) return;
  const bar = el('progress', { attrs: { max: String(total || 1) } });
  if (total) bar.value = done ?? 0;
  status.append(el('span', { text: label }), bar, button('Cancel', () => channel.post({ type: 'cancel' }), { secondary: true }));
}

function setError(message: string | undefined): void {
  lastError = message;
  errorBox.textContent = message ?? '';
  errorBox.hidden = !message;
}

async function exportImage(format: 'png' | 'svg'): Promise<void> {
  const picture = await tabs[current].snapshot(format);
  if (picture) channel.post({ type: 'saveImage', format, name: picture.name, data: picture.data });
  else setError(`Nothing to export as ${format.toUpperCase()} on this tab.`);
}

channel.handle('describe', (): DrawnSummary => ({ view: 'panel', tab: current, ...tabs[current].describe(), error: lastError }));
channel.handle('snapshot', (params) => tabs[current].snapshot(params.format === 'svg' ? 'svg' : 'png'));

window.addEventListener('message', (event: MessageEvent) => {
  const message = event.data as HostToPanel;
  if (!message || typeof message.type !== 'string') return;
  if (channel.dispatch(message)) return;
  switch (message.type) {
    case 'model':
      prediction.setModel(message.card);
      activations.setModel(message.card);
      return;
    case 'settings':
      attributions.setSettings(message.settings, message.methods);
      return;
    case 'prediction':
      setError(undefined);
      prediction.setPrediction(message.prediction);
      attributions.setPrediction(message.prediction);
      return;
    case 'explanation':
      setError(undefined);
      attributions.setExplanation(message.primary, message.secondary, message.agreement);
      return;
    case 'progress':
      setBusy(message.label, message.done, message.total);
      if (message.partial) attributions.showPartial(message.label, message.partial);
      return;
    case 'busy':
      setBusy(message.label);
      return;
    case 'attention':
      attentionLoaded = true;
      setError(undefined);
      attention.setOverview(message.overview);
      return;
    case 'rollout':
      attention.setRollout(message.result);
      return;
    case 'activations':
      activationsLoaded = true;
      activations.setViews(message.views);
      return;
    case 'logitLens':
      setError(undefined);
      activations.setLogitLens(message.result);
      return;
    case 'heads':
      setError(undefined);
      heads.setView(message.view);
      return;
    case 'prune':
      setError(undefined);
      heads.setPrune(message.result);
      return;
    case 'compareModels':
      setError(undefined);
      compare.setView(message.view);
      return;
    case 'robustness':
      setError(undefined);
      robustness.setResult(message.result);
      return;
    case 'dataset':
      setError(undefined);
      dataset.setView(message.view);
      return;
    case 'generationStart':
      setError(undefined);
      generation.start(message.prompt);
      return;
    case 'generationToken':
      generation.addToken(message.progress);
      return;
    case 'generation':
      generation.setView(message.view);
      return;
    case 'generationStep':
      generation.setStep(message.step);
      return;
    case 'showTab':
      if (tabs[message.tab]) showTab(message.tab);
      return;
    case 'error':
      setError(message.message);
      return;
  }
});

watchTheme((t) => {
  theme = t;
  for (const tab of Object.values(tabs)) tab.setTheme(theme);
});

setError(undefined);
showTab(current);
channel.post({ type: 'ready' });
