/**
 * What a view can say about itself for `describe`: which controls a screen reader could not name,
 * and whether any markup appeared that the view did not build (model or document text must only
 * ever become text).
 */

const CONTROLS = 'button, select, input, textarea, canvas, [role="img"], [role="tab"], [role="button"], [tabindex]:not([tabindex="-1"])';

/** The accessible name of an element, following the parts of the accname rules these views use. */
export function accessibleName(element: Element): string {
  const aria = element.getAttribute('aria-label');
  if (aria?.trim()) return aria.trim();
  const labelledBy = element.getAttribute('aria-labelledby');
  if (labelledBy) {
    const text = labelledBy
      .split(/\s+/)
      .map((id) => element.ownerDocument.getElementById(id)?.textContent?.trim() ?? '')
      .join(' ')
      .trim();
    if (text) return text;
  }
  if (element instanceof HTMLInputElement || element instanceof HTMLSelectElement || element instanceof HTMLTextAreaElement) {
    const own = [...(element.labels ?? [])].map((l) => l.textContent?.trim() ?? '').join(' ').trim();
    if (own) return own;
  }
  const role = element.getAttribute('role');
  const namedByContent = element instanceof HTMLButtonElement || role === 'tab' || role === 'button' || element instanceof HTMLLIElement || element instanceof HTMLAnchorElement;
  if (namedByContent && element.textContent?.trim()) return element.textContent.trim();
  const title = element.getAttribute('title');
  return title?.trim() ?? '';
}

/** Short descriptions ("select in .controls") of the controls under `root` that have no accessible name. */
export function unnamedControls(root: ParentNode): string[] {
  const out: string[] = [];
  for (const element of root.querySelectorAll(CONTROLS)) {
    if (!(element instanceof HTMLElement) || element.hidden || element.closest('[hidden], [aria-hidden="true"]')) continue;
    // A canvas that is only a drawing surface behind a named scroller or figure is decoration.
    if (element instanceof HTMLCanvasElement && !element.hasAttribute('role') && !element.hasAttribute('tabindex')) continue;
    if (accessibleName(element)) continue;
    const where = element.parentElement?.className ? ` in .${element.parentElement.className.split(/\s+/)[0]}` : '';
    out.push(`${element.tagName.toLowerCase()}${element.getAttribute('role') ? `[role=${element.getAttribute('role')}]` : ''}${where}`);
  }
  return out;
}

/**
 * Elements under `doc` that no view of ONNX Lens creates: scripts other than the view's own bundle,
 * images, frames, objects, and any element with an inline `on…` handler attribute.
 */
export function foreignMarkup(doc: Document, ownScript: RegExp): string[] {
  const out: string[] = [];
  for (const element of doc.querySelectorAll('*')) {
    const tag = element.tagName.toLowerCase();
    if (tag === 'script') {
      const src = element.getAttribute('src') ?? '';
      // VS Code's webview host puts the script defining acquireVsCodeApi into every webview.
      const workbench = !src && (element.textContent ?? '').includes('acquireVsCodeApi');
      if (!ownScript.test(src) && !workbench) out.push(`script${src ? ` src=${src}` : ` "${(element.textContent ?? '').slice(0, 40)}"`}`);
      continue;
    }
    if (tag === 'img' || tag === 'iframe' || tag === 'object' || tag === 'embed' || tag === 'frame') out.push(tag);
    for (const attribute of element.getAttributeNames()) if (/^on/i.test(attribute)) out.push(`${tag}[${attribute}]`);
  }
  return out;
}
