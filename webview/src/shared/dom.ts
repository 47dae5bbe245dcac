/**
 * Building DOM without HTML strings: every piece of text from a model or a document goes in
 * through textContent, so `<img src=x onerror=...>` in a selection shows as text.
 */
type Child = Node | string | undefined | null | false;

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: { className?: string; text?: string; title?: string; attrs?: Record<string, string>; on?: Partial<Record<keyof HTMLElementEventMap, (e: Event) => void>> } = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.className) node.className = props.className;
  if (props.text !== undefined) node.textContent = props.text;
  if (props.title !== undefined) node.title = props.title;
  for (const [k, v] of Object.entries(props.attrs ?? {})) node.setAttribute(k, v);
  for (const [k, fn] of Object.entries(props.on ?? {})) if (fn) node.addEventListener(k, fn);
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    node.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return node;
}

export function clear(node: Element): void {
  while (node.firstChild) node.removeChild(node.firstChild);
}

/** A <select> with the given options; `value` picks the selected one. */
export function select(options: readonly { value: string; label: string }[], value: string, onChange: (v: string) => void, title?: string): HTMLSelectElement {
  const s = el('select', { title });
  for (const o of options) {
    const opt = el('option', { text: o.label });
    opt.value = o.value;
    if (o.value === value) opt.selected = true;
    s.append(opt);
  }
  s.addEventListener('change', () => onChange(s.value));
  return s;
}

export function button(label: string, onClick: () => void, opts: { title?: string; secondary?: boolean } = {}): HTMLButtonElement {
  const b = el('button', { text: label, title: opts.title, className: opts.secondary ? 'secondary' : undefined });
  b.addEventListener('click', onClick);
  return b;
}

export function fmt(v: number, digits = 3): string {
  if (!Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  return a !== 0 && (a < 0.001 || a >= 1e5) ? v.toExponential(2) : v.toFixed(digits);
}
