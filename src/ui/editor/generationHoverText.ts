/**
 * The Markdown of the hover over a prompt word after Generate and Explain: what the word did to each
 * token the model generated (the tokens it raised and lowered most), and its value for the token whose
 * colours are shown. Pure: tested without VS Code.
 */
import type { GenerationExplanation } from '../../protocol/engineApi';
import { visibleToken } from '../../render/tokenText';
import { escapeMarkdown } from '../../render/htmlEscape';

const signed = (v: number) => (v >= 0 ? '+' : '−') + Math.abs(v).toPrecision(3);

/** Markdown for prompt feature `feature`; `step` is the token shown in colour (−1: the whole continuation). */
export function generationHoverMarkdown(e: GenerationExplanation, feature: number, step: number, openCommandUri?: string): string {
  const f = e.features[feature];
  const per = e.targets.map((t, j) => ({ j, v: t.values[feature] }));
  const token = (j: number) => `“${escapeMarkdown(visibleToken(e.tokens[j].label))}”`;
  const raised = per.filter((x) => x.v > 0).sort((a, b) => b.v - a.v).slice(0, 3);
  const lowered = per.filter((x) => x.v < 0).sort((a, b) => a.v - b.v).slice(0, 3);
  const shown = step >= 0 && step < e.targets.length ? { name: `token ${step} ${token(step)}`, v: e.targets[step].values[feature] } : { name: 'the whole continuation', v: e.sequence.values[feature] };
  const lines = [
    `**ONNX Lens** · _${escapeMarkdown(f.text)}_ → what it did to the next tokens`,
    '',
    `${signed(shown.v)} to the log-probability of ${shown.name} (${escapeMarkdown(e.method)})`,
  ];
  if (raised.length) lines.push('', `Raised most: ${raised.map((x) => `${token(x.j)} ${signed(x.v)}`).join(', ')}`);
  if (lowered.length) lines.push('', `Lowered most: ${lowered.map((x) => `${token(x.j)} ${signed(x.v)}`).join(', ')}`);
  lines.push('', `Over the ${e.tokens.length} generated tokens: ${signed(e.sequence.values[feature])} to the continuation's log-probability.`);
  if (openCommandUri) lines.push('', `[Open the Generation tab](${openCommandUri})`);
  return lines.join('\n');
}
