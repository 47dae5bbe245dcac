/**
 * A list that builds DOM rows only for what is visible: fixed row height, a spacer of the full
 * height and absolutely placed rows. A dataset run may list thousands of examples; the panel stays
 * responsive because only a screenful of rows exists at a time.
 */
export class VirtualList<T> {
  readonly element: HTMLDivElement;
  private readonly inner: HTMLDivElement;
  private items: readonly T[] = [];
  private frame = 0;
  private renderedRows = 0;

  constructor(
    private readonly rowHeight: number,
    private readonly renderRow: (item: T, index: number) => HTMLElement,
    maxHeight = 320,
  ) {
    this.element = document.createElement('div');
    this.element.className = 'virtual-list';
    this.element.style.position = 'relative';
    this.element.style.overflowY = 'auto';
    this.element.style.maxHeight = `${maxHeight}px`;
    this.element.style.border = '1px solid var(--vscode-panel-border)';
    this.element.setAttribute('role', 'list');
    this.inner = document.createElement('div');
    this.inner.style.position = 'relative';
    this.element.append(this.inner);
    this.element.addEventListener('scroll', () => this.schedule(), { passive: true });
    new ResizeObserver(() => this.schedule()).observe(this.element);
  }

  setItems(items: readonly T[]): void {
    this.items = items;
    this.inner.style.height = `${items.length * this.rowHeight}px`;
    this.element.scrollTop = 0;
    this.render();
  }

  /** Rows currently in the DOM (at most a screenful plus a margin). */
  get rendered(): number {
    return this.renderedRows;
  }

  get length(): number {
    return this.items.length;
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  render(): void {
    const top = this.element.scrollTop;
    // Before layout (hidden tab) clientHeight is 0: render the first screenful of the max height.
    const height = this.element.clientHeight || Number.parseInt(this.element.style.maxHeight, 10) || 320;
    const first = Math.max(0, Math.floor(top / this.rowHeight) - 5);
    const last = Math.min(this.items.length, Math.ceil((top + height) / this.rowHeight) + 5);
    while (this.inner.firstChild) this.inner.removeChild(this.inner.firstChild);
    for (let i = first; i < last; i++) {
      const row = this.renderRow(this.items[i], i);
      row.style.position = 'absolute';
      row.style.top = `${i * this.rowHeight}px`;
      row.style.left = '0';
      row.style.right = '0';
      row.style.height = `${this.rowHeight}px`;
      row.style.overflow = 'hidden';
      row.setAttribute('role', 'listitem');
      this.inner.append(row);
    }
    this.renderedRows = last - first;
  }
}
