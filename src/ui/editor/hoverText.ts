/**
 * The Markdown of the hover over a highlighted word: its value and rank, what it pushes toward,
 * the words it attends to most and a link that opens the panel on it. Pure: tested without VS Code.
 */
import type { ResolvedTarget } from '../../protocol/engineApi';
import { escapeMarkdown } from '../../render/htmlEscape';

export interface HoverFacts {
  word: string;
  value: number;
  rank: number;
  of: number;
  method: string;
  /** What the value is, in the singular: "Shapley value", "Owen value", "LIME weight", … */
  valueName: string;
  target: ResolvedTarget;
  /** Other candidates of the prediction, for "pushes away from". */
  runnerUp?: string;
  attendsTo?: { word: string; weight: number }[];
  /** `command:` URI that opens the panel on this word. */
  openCommandUri?: string;
}

const signed = (v: number) => (v >= 0 ? '+' : '−') + Math.abs(v).toPrecision(3);

export function hoverMarkdown(f: HoverFacts): string {
  const toward = f.value >= 0;
  const label = f.target.contrastLabel ? `${f.target.label} (vs ${f.target.contrastLabel})` : f.target.label;
  const direction = toward
    ? `pushes toward **${escapeMarkdown(label)}**`
    : f.target.contrastLabel
      ? `pushes toward **${escapeMarkdown(f.target.contrastLabel)}**, away from **${escapeMarkdown(f.target.label)}**`
      : `pushes away from **${escapeMarkdown(label)}**${f.runnerUp ? ` (toward ${escapeMarkdown(f.runnerUp)})` : ''}`;
  const lines = [
    `**ONNX Lens** · _${escapeMarkdown(f.word)}_`,
    '',
    `${signed(f.value)} ${escapeMarkdown(f.valueName)} — rank ${f.rank} of ${f.of} (${escapeMarkdown(f.method)}); ${direction}`,
  ];
  if (f.attendsTo && f.attendsTo.length > 0) {
    lines.push('', `Attends most to (last layer, mean of heads): ${f.attendsTo.map((a) => `${escapeMarkdown(a.word)} ${(a.weight * 100).toFixed(0)}%`).join(', ')}`);
  }
  if (f.openCommandUri) lines.push('', `[Open in ONNX Lens panel](${f.openCommandUri})`);
  return lines.join('\n');
}
