/**
 * Canvas and chart colours come from the workbench theme's CSS variables, read again whenever the
 * theme changes (VS Code swaps the body class and the variables).
 */
export interface ThemeColors {
  foreground: string;
  muted: string;
  background: string;
  border: string;
  accent: string;
  /** Base colour of attention heatmaps. */
  heat: [number, number, number];
  positive: string;
  negative: string;
  font: string;
  highContrast: boolean;
  dark: boolean;
}

function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.body).getPropertyValue(name).trim();
  return v || fallback;
}

export function readTheme(): ThemeColors {
  const cls = document.body.classList;
  const highContrast = cls.contains('vscode-high-contrast') || cls.contains('vscode-high-contrast-light');
  const dark = cls.contains('vscode-dark') || (cls.contains('vscode-high-contrast') && !cls.contains('vscode-high-contrast-light'));
  return {
    foreground: cssVar('--vscode-editor-foreground', dark ? '#cccccc' : '#333333'),
    muted: cssVar('--vscode-descriptionForeground', '#888888'),
    background: cssVar('--vscode-editor-background', dark ? '#1e1e1e' : '#ffffff'),
    border: cssVar('--vscode-panel-border', '#80808059'),
    accent: cssVar('--vscode-focusBorder', '#007fd4'),
    heat: dark ? [255, 166, 77] : [214, 84, 0],
    positive: cssVar('--vscode-charts-red', '#ef4444'),
    negative: cssVar('--vscode-charts-blue', '#3b82f6'),
    font: cssVar('--vscode-font-family', 'sans-serif'),
    highContrast,
    dark,
  };
}

/** Calls `onChange` with fresh colours after every theme switch. */
export function watchTheme(onChange: (theme: ThemeColors) => void): void {
  new MutationObserver(() => onChange(readTheme())).observe(document.body, { attributes: true, attributeFilter: ['class'] });
}
