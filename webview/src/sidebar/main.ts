/**
 * Sidebar inspector: model card, engine status, run settings, recent explanations, quick actions.
 * Rebuilt from each `state` message; every string from a model goes in as text.
 */
import type { MethodName, ModelCard } from '../../../src/protocol/engineApi';
import { ATTRIBUTION_METHODS } from '../../../src/protocol/webviewMessages';
import type { DrawnSummary, HostToSidebar, RpcContract, SidebarAction, SidebarState, SidebarToHost, WebviewRequests } from '../../../src/protocol/webviewMessages';
import { button, clear, el, select } from '../shared/dom';
import { HostChannel } from '../shared/host';
import { foreignMarkup, unnamedControls } from '../shared/viewAudit';

type NoRequests = Record<never, never>;
const channel = new HostChannel<SidebarToHost, NoRequests & RpcContract<NoRequests>, WebviewRequests>();
const app = document.getElementById('app')!;
let state: SidebarState | undefined;
let drawn: { labels: string[]; counts: Record<string, number> } = { labels: [], counts: {} };

const action = (label: string, a: SidebarAction, secondary = true, title?: string) => button(label, () => channel.post({ type: 'action', action: a }), { secondary, title });

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0)} MB`;
}

function modelSection(card: ModelCard | undefined): HTMLElement {
  const section = el('section', { className: 'card' }, el('h2', { text: 'Model' }));
  if (!card) {
    section.append(el('p', { className: 'muted', text: 'No model open.' }), el('div', { className: 'actions' }, action('Use Demo Model', 'useDemoModel', false), action('Open Model…', 'openModel'), action('Download…', 'downloadModel')));
    return section;
  }
  const rows: [string, string][] = [
    ['name', card.name],
    ['family', card.family],
    ['task', card.task],
    ['layers', card.decoderLayers ? `${card.layers.value} + ${card.decoderLayers.value} decoder` : String(card.layers.value)],
    ['heads', String(card.heads.value)],
    ['hidden size', String(card.hiddenSize.value)],
    ['parameters', card.parameters ? `${(card.parameters / 1e6).toFixed(1)} M` : '—'],
    ['size', megabytes(card.bytes)],
    ['variant', `${card.variant}${card.quantized ? ' (quantized)' : ''}`],
    ['opset', String(card.opset)],
    ['attention', card.attention.exposed ? `${card.attention.count} tensors` : card.attention.note ?? 'not exposed'],
  ];
  if (card.labels?.length) rows.push(['labels', card.labels.join(', ')]);
  const table = el('table', { className: 'facts' });
  for (const [k, v] of rows) table.append(el('tr', {}, el('th', { text: k }), el('td', { text: v, title: v })));
  const io = el('details', {}, el('summary', { text: `inputs ${card.inputs.length} · outputs ${card.outputs.length}` }));
  for (const t of [...card.inputs.map((x) => ({ ...x, dir: 'in' })), ...card.outputs.map((x) => ({ ...x, dir: 'out' }))]) {
    io.append(el('div', { className: 'tensor', text: `${t.dir} ${t.name}: ${t.type} [${t.shape.join(', ')}]` }));
  }
  section.append(table, io);
  for (const w of card.warnings) section.append(el('p', { className: 'notice', text: w }));
  if (card.availableVariants.length > 1) {
    section.append(el('label', { text: 'Variant ' }, select(card.availableVariants.map((v) => ({ value: v, label: v })), card.variant, (v) => channel.post({ type: 'setting', key: 'modelVariant', value: v }))));
  }
  drawn.labels.push(card.name, card.family, card.task, ...(card.labels ?? []));
  return section;
}

function engineSection(s: SidebarState): HTMLElement {
  const e = s.engine;
  const section = el('section', { className: 'card' }, el('h2', { text: 'Engine' }));
  const line = el('p', { className: `engine-state state-${e.state}` });
  if (e.state === 'busy') {
    line.textContent = `busy: ${e.label ?? 'working'}${e.total ? ` (${e.done ?? 0} / ${e.total})` : ''}`;
    section.append(line);
    if (e.total) {
      const bar = el('progress', { attrs: { max: String(e.total) } });
      bar.value = e.done ?? 0;
      section.append(bar);
    }
  } else if (e.state === 'error' || e.state === 'crashed') {
    line.textContent = e.state === 'crashed' ? 'crashed' : 'error';
    section.append(line, el('p', { className: 'error-text', text: e.message }));
  } else {
    line.textContent = e.state === 'stopped' ? 'not started (starts on first use)' : e.state;
    section.append(line);
  }
  if (s.lastError && e.state !== 'error' && e.state !== 'crashed') section.append(el('p', { className: 'error-text', text: s.lastError }));
  if (!s.workspaceTrusted) section.append(el('p', { className: 'notice', text: 'Untrusted workspace: models inside it run only after you confirm.' }));
  section.append(el('div', { className: 'actions' }, action('Show Log', 'showLog')));
  drawn.labels.push(line.textContent ?? '');
  if (e.state === 'error' || e.state === 'crashed') drawn.labels.push(e.message);
  else if (s.lastError) drawn.labels.push(s.lastError);
  return section;
}

function settingsSection(s: SidebarState): HTMLElement {
  const r = s.settings;
  const budget = el('input', { attrs: { type: 'number', min: '10', step: '50' } });
  budget.value = String(r.budget);
  budget.addEventListener('change', () => channel.post({ type: 'setting', key: 'budget', value: Number(budget.value) }));
  return el(
    'section',
    { className: 'card' },
    el('h2', { text: 'Run settings' }),
    el('label', { text: 'Method ' }, select(ATTRIBUTION_METHODS.map((m) => ({ value: m, label: m })), r.method, (v) => channel.post({ type: 'setting', key: 'method', value: v as MethodName }))),
    el('label', { text: 'Budget ' }, budget),
    el('label', { text: 'Level ' }, select([{ value: 'word', label: 'word' }, { value: 'token', label: 'token' }], r.level, (v) => channel.post({ type: 'setting', key: 'level', value: v }))),
    el('label', { text: 'Removal ' }, select(['auto', 'mask', 'attention', 'delete'].map((v) => ({ value: v, label: v })), r.removal, (v) => channel.post({ type: 'setting', key: 'removal', value: v }))),
  );
}

function recentSection(s: SidebarState): HTMLElement {
  const section = el('section', { className: 'card' }, el('h2', { text: 'Recent explanations' }));
  if (s.recent.length === 0) {
    section.append(el('p', { className: 'muted', text: 'None yet.' }));
    return section;
  }
  const list = el('ul', { className: 'recent' });
  for (const r of s.recent) {
    const item = el(
      'li',
      { title: `${r.values} by ${r.method} · ${r.createdAt}`, attrs: { 'aria-label': `${r.target}, ${r.values}: ${r.snippet} (reopen)` } },
      el('span', { className: 'target', text: r.target }),
      el('span', { className: 'snippet', text: r.snippet }),
      el('span', { className: 'values', text: `${r.values} · ${r.method}` }),
    );
    drawn.labels.push(r.target, r.snippet);
    item.tabIndex = 0;
    item.addEventListener('click', () => channel.post({ type: 'reopen', id: r.id }));
    item.addEventListener('keydown', (ev) => {
      if ((ev as KeyboardEvent).key === 'Enter') channel.post({ type: 'reopen', id: r.id });
    });
    list.append(item);
  }
  section.append(list);
  drawn.counts.recent = s.recent.length;
  return section;
}

/** Live mode: a switch (aria-pressed), what it follows, and the latest prediction or error it met. */
function liveSection(s: SidebarState): HTMLElement {
  const live = s.live ?? { on: false };
  const toggle = button(live.on ? 'Live mode: on' : 'Live mode: off', () => channel.post({ type: 'action', action: 'toggleLiveMode' }), {
    secondary: !live.on,
    title: 'Explain the line being edited (or the selection) again as you type',
  });
  toggle.setAttribute('aria-pressed', String(live.on));
  const section = el('section', { className: 'card live' }, el('h2', { text: 'Live mode' }), el('div', { className: 'actions' }, toggle));
  if (live.on) {
    section.append(el('p', { className: 'muted', text: live.region === 'selection' ? 'Following the selection it was switched on with.' : 'Following the line being edited.' }));
    if (live.last) section.append(el('p', { className: 'live-last', text: `${live.last.label} ${(live.last.probability * 100).toFixed(1)}% — ${live.last.text}` }));
    if (live.error) section.append(el('p', { className: 'error-text', text: live.error }));
  }
  drawn.labels.push(toggle.textContent ?? '');
  drawn.counts.liveOn = live.on ? 1 : 0;
  return section;
}

/** Inside the model: the analyses' quick actions and one line per latest result (click opens its tab). */
function insideSection(s: SidebarState): HTMLElement {
  const actions = el(
    'div',
    { className: 'actions' },
    action('Head Importance', 'showHeadImportance', true, 'Which attention heads the prediction depends on'),
    action('Compare Models…', 'compareModels', true, 'fp32 vs quantized, or another model'),
    action('Robustness', 'testRobustness', true, 'Predictions and explanations under small edits'),
    action('Run on Dataset…', 'runDataset', true, 'Accuracy, confusion, influential words, hard examples'),
    s.decoder ? action('Logit Lens', 'showLogitLens', true, 'What each layer would predict next') : undefined,
  );
  const section = el('section', { className: 'card' }, el('h2', { text: 'Inside the model' }), actions);
  const lines = s.inside ?? [];
  if (lines.length) {
    const list = el('ul', { className: 'recent inside' });
    for (const line of lines) {
      const item = el('li', { title: `Open the ${line.tab} tab` }, el('span', { className: 'target', text: line.title }), el('span', { className: 'snippet', text: line.detail }));
      item.tabIndex = 0;
      const open = () => channel.post({ type: 'showTab', tab: line.tab });
      item.addEventListener('click', open);
      item.addEventListener('keydown', (ev) => {
        if ((ev as KeyboardEvent).key === 'Enter') open();
      });
      list.append(item);
      drawn.labels.push(line.title, line.detail);
    }
    section.append(list);
  }
  drawn.counts.insideActions = actions.children.length;
  drawn.counts.insideResults = lines.length;
  return section;
}

function render(): void {
  clear(app);
  drawn = { labels: [], counts: {} };
  if (!state) return;
  app.append(
    modelSection(state.model),
    engineSection(state),
    el(
      'section',
      { className: 'card' },
      el('h2', { text: 'Quick actions' }),
      el(
        'div',
        { className: 'actions' },
        action('Explain Selection', 'explainSelection', false, 'Ctrl+Alt+E'),
        action('Attention', 'showAttention'),
        action('Activations', 'showActivations'),
        action('Compare Methods', 'compareMethods'),
        action('Export…', 'exportExplanation'),
        action('Clear Highlights', 'clearHighlights'),
        action('Panel', 'showPanel'),
        action('Open Model…', 'openModel'),
        action('Cached Models', 'manageCachedModels'),
      ),
    ),
    liveSection(state),
    insideSection(state),
    settingsSection(state),
    recentSection(state),
  );
  drawn.counts.sections = app.children.length;
}

channel.handle('describe', (): DrawnSummary => ({
  view: 'sidebar',
  cells: drawn.counts.recent ?? 0,
  labels: drawn.labels,
  counts: drawn.counts,
  text: app.innerText,
  error: state?.engine.state === 'error' || state?.engine.state === 'crashed' ? state.engine.message : state?.lastError,
  unnamedControls: unnamedControls(app),
  foreignMarkup: foreignMarkup(document, /\/dist\/webview\/sidebar\.js$/),
}));
channel.handle('snapshot', () => undefined);

window.addEventListener('message', (event: MessageEvent) => {
  const message = event.data as HostToSidebar;
  if (!message || typeof message.type !== 'string') return;
  if (channel.dispatch(message)) return;
  if (message.type === 'state') {
    state = message.state;
    render();
  }
});

channel.post({ type: 'ready' });
