/**
 * Explanation panel: tabs fed by messages from the extension host. The panel asks for the
 * state with `ready` and never trusts anything but the message shapes it knows.
 */
import type { ModelCard } from '../../../src/protocol/engineApi';
import type { DrawnSummary, HostRequests, HostToPanel, PanelTab, PanelToHost, WebviewRequests } from '../../../src/protocol/webviewMessages';
import { button, clear, el } from '../shared/dom';
import { HostChannel } from '../shared/host';
import { readTheme, watchTheme } from '../shared/theme';
import { foreignMarkup, unnamedControls } from '../shared/viewAudit';
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
  prediction: new PredictionTab(theme),
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
/** The model the panel's results belong to: path, variant and file hash. */
let modelKey: string | undefined;
/** The text the panel describes (of the latest prediction, explanation or attention). */
let subjectText: string | undefined;
/** The text whose data each loading tab has asked for or shown, for the open model. */
const requested = new Map<PanelTab, string | undefined>();

const app = document.getElementById('app')!;
const tabBar = el('div', { className: 'tabs', attrs: { role: 'tablist', 'aria-label': 'ONNX Lens views' } });
const status = el('div', { className: 'status', attrs: { role: 'status', 'aria-live': 'polite' } });
const errorBox = el('div', { className: 'error', attrs: { role: 'alert' } });
// The export buttons come after the tab's content in the focus order (a tab's own controls, Run
// first, are one keystroke from its tab), and sit beside the tab bar on screen.
const tools = el(
  'div',
  { className: 'tools', attrs: { role: 'toolbar', 'aria-label': 'Export' } },
  button('PNG', () => void exportImage('png'), { secondary: true, title: 'Save the picture on this tab as PNG' }),
  button('SVG', () => void exportImage('svg'), { secondary: true, title: 'Save the picture on this tab as SVG' }),
  button('JSON', () => channel.post({ type: 'exportData', format: 'json' }), { secondary: true, title: 'Save the results with provenance' }),
  button('Report', () => channel.post({ type: 'exportData', format: 'html' }), { secondary: true, title: 'Save a self-contained HTML report' }),
);
const content = el('main', { className: 'content', attrs: { role: 'tabpanel', id: 'tabpanel' } });
app.append(el('header', {}, tabBar), status, errorBox, content, tools);

const tabButtons = new Map<PanelTab, HTMLButtonElement>();
for (const tab of Object.keys(tabs) as PanelTab[]) {
  const b = el('button', { text: titles[tab], className: 'tab-button', attrs: { role: 'tab', id: `tab-${tab}`, 'aria-controls': 'tabpanel' } });
  b.addEventListener('click', () => showTab(tab, true));
  b.addEventListener('keydown', (e) => onTabKey(e, tab));
  tabButtons.set(tab, b);
  tabBar.append(b);
}

/** WAI-ARIA tabs: arrows move to the next or previous tab (wrapping), Home and End to the ends; focus follows. */
function onTabKey(event: KeyboardEvent, tab: PanelTab): void {
  const order = Object.keys(tabs) as PanelTab[];
  const i = order.indexOf(tab);
  const next =
    event.key === 'ArrowRight' ? order[(i + 1) % order.length]
    : event.key === 'ArrowLeft' ? order[(i - 1 + order.length) % order.length]
    : event.key === 'Home' ? order[0]
    : event.key === 'End' ? order[order.length - 1]
    : undefined;
  if (!next) return;
  event.preventDefault();
  showTab(next, true);
  tabButtons.get(next)?.focus();
}

/** Marks the selected tab; the buttons stay the same elements, so keyboard focus stays where it is. */
function renderTabs(): void {
  for (const [tab, b] of tabButtons) {
    const selected = tab === current;
    b.classList.toggle('active', selected);
    b.setAttribute('aria-selected', String(selected));
    b.tabIndex = selected ? 0 : -1;
  }
  content.setAttribute('aria-labelledby', `tab-${current}`);
}

function showTab(tab: PanelTab, byUser = false): void {
  current = tab;
  channel.saveState({ tab });
  renderTabs();
  clear(content);
  content.append(tabs[tab].element);
  tabs[tab].shown();
  if (byUser) channel.post({ type: 'tabChanged', tab });
  requestData(tab);
}

/**
 * The Attention and Activations tabs fetch their data when shown, once per model and text: after
 * another model is opened or another text explained, showing them fetches it again.
 */
function requestData(tab: PanelTab): void {
  if (tab !== 'attention' && tab !== 'activations') return;
  // Nothing described yet: the tab's empty state says how to start.
  if (subjectText === undefined) return;
  if (requested.has(tab) && requested.get(tab) === subjectText) return;
  requested.set(tab, subjectText);
  if (tab === 'attention') channel.post({ type: 'loadAttention', level: 'word' });
  else channel.post({ type: 'loadActivations' });
}

/** A new text is being described: the tab on screen fetches its data for it. */
function setSubject(text: string): void {
  if (text === subjectText) return;
  subjectText = text;
  requestData(current);
}

/** Another model replaces the open one: every tab forgets what the previous model computed. */
function setModel(card: ModelCard | undefined): void {
  const key = card ? `${card.path}\u0000${card.variant}\u0000${card.sha256}` : undefined;
  if (key !== modelKey) {
    const first = modelKey === undefined && key !== undefined;
    modelKey = key;
    if (!first) {
      for (const tab of Object.values(tabs)) tab.reset();
      requested.clear();
      setError(undefined);
    }
  }
  prediction.setModel(card);
  activations.setModel(card);
}

/** Tabs that lie within the view's width: a tab further right could only be reached by scrolling sideways. */
function tabVisibility(): NonNullable<DrawnSummary['tabs']> {
  const width = document.documentElement.clientWidth;
  return [...tabButtons].map(([tab, b]) => {
    const r = b.getBoundingClientRect();
    return { name: titles[tab], selected: tab === current, visible: r.width > 0 && r.left >= 0 && r.right <= width + 0.5 };
  });
}

function setBusy(label: string | undefined, done?: number, total?: number): void {
  clear(status);
  if (!label) return;
  const bar = el('progress', { attrs: { max: String(total || 1), 'aria-label': label } });
  if (total) bar.value = done ?? 0;
  status.append(el('span', { text: label }), bar, button('Cancel', () => channel.post({ type: 'cancel' }), { secondary: true, title: `Cancel: ${label}` }));
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

channel.handle('describe', (): DrawnSummary => ({
  view: 'panel',
  tab: current,
  ...tabs[current].describe(),
  error: lastError,
  text: [status.innerText, lastError ?? '', tabs[current].element.innerText].filter(Boolean).join('\n'),
  viewWidth: document.documentElement.clientWidth,
  tabs: tabVisibility(),
  unnamedControls: unnamedControls(app),
  foreignMarkup: foreignMarkup(document, /\/dist\/webview\/panel\.js$/),
}));
channel.handle('snapshot', (params) => tabs[current].snapshot(params.format === 'svg' ? 'svg' : 'png'));

window.addEventListener('message', (event: MessageEvent) => {
  const message = event.data as HostToPanel;
  if (!message || typeof message.type !== 'string') return;
  if (channel.dispatch(message)) return;
  switch (message.type) {
    case 'model':
      setModel(message.card);
      return;
    case 'settings':
      attributions.setSettings(message.settings, message.methods);
      return;
    case 'prediction':
      setError(undefined);
      prediction.setPrediction(message.prediction);
      attributions.setPrediction(message.prediction);
      setSubject(message.prediction.encoded.text);
      return;
    case 'explanation':
      setError(undefined);
      attributions.setExplanation(message.primary, message.secondary, message.agreement);
      setSubject(message.primary.text);
      return;
    case 'progress':
      setBusy(message.label, message.done, message.total);
      if (message.partial) attributions.showPartial(message.label, message.partial);
      return;
    case 'busy':
      setBusy(message.label);
      return;
    case 'attention':
      subjectText = message.overview.text;
      requested.set('attention', subjectText);
      setError(undefined);
      attention.setOverview(message.overview);
      return;
    case 'rollout':
      attention.setRollout(message.result);
      return;
    case 'activations':
      requested.set('activations', subjectText);
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
