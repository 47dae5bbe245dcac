import type { DrawnSummary, HostRequests, PanelToHost, WebviewRequests } from '../../../src/protocol/webviewMessages';
import type { HostChannel } from '../shared/host';
import type { ThemeColors } from '../shared/theme';

export type PanelChannel = HostChannel<PanelToHost, HostRequests, WebviewRequests>;

/** One tab of the panel. */
export interface TabView {
  readonly element: HTMLElement;
  /** What is drawn now: counts and labels for tests and for the host. */
  describe(): Pick<DrawnSummary, 'cells' | 'labels' | 'counts' | 'legends' | 'axes'>;
  /** The figure on this tab, as PNG data URL or SVG text. */
  snapshot(format: 'png' | 'svg'): Promise<{ name: string; data: string } | undefined>;
  setTheme(theme: ThemeColors): void;
  /** Called when the tab becomes visible (canvases measure their size then). */
  shown(): void;
  /** Another model was opened: forget every result of the previous one and show the empty state. */
  reset(): void;
}
