/**
 * One-line summaries of the inside-the-model analyses, for the sidebar: enough to see at a glance
 * whether a run found something (flips, low accuracy, a costly head) before opening its tab.
 */
import type { CompareResult, DatasetResult, HeadImportanceResult, LogitLensResult, RobustnessResult } from '../protocol/engineApi';
import type { InsideSummaryLine } from '../protocol/webviewMessages';

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const num = (x: number, digits = 3) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');

/** The head whose removal changes the target most (largest |change|), as "L1 H3". */
export function mostImportantHead(result: HeadImportanceResult): { layer: number; head: number; change: number } | undefined {
  const grid = result.grid;
  if (!grid) return undefined;
  let best: { layer: number; head: number; change: number } | undefined;
  grid.forEach((row, layer) =>
    row.forEach((change, head) => {
      if (!best || Math.abs(change) > Math.abs(best.change)) best = { layer, head, change };
    }),
  );
  return best;
}

export function headsSummary(result: HeadImportanceResult): InsideSummaryLine {
  const top = mostImportantHead(result);
  const parts = [`${result.layers} × ${result.heads} heads`];
  if (top) parts.push(`most important L${top.layer} H${top.head} (${top.change >= 0 ? '+' : ''}${num(top.change)})`);
  if (result.prune) parts.push(`pruning ${result.prune.heads.length}: ${result.prune.change >= 0 ? '+' : ''}${num(result.prune.change)}, flips ${pct(result.prune.flipRate)}`);
  return { tab: 'heads', title: 'Head importance', detail: parts.join(' · ') };
}

export function logitLensSummary(result: LogitLensResult): InsideSummaryLine {
  // The first layer from which the final prediction stays the top candidate.
  let settled = result.layers.length;
  for (let i = result.layers.length - 1; i >= 0 && result.layers[i].predictedRank === 0; i--) settled = i;
  const at = result.layers[settled]?.index;
  return {
    tab: 'activations',
    title: 'Logit lens',
    detail: `"${result.prediction.label}" ${at === undefined ? 'never leads' : `leads from hidden state ${at} of ${result.layers[result.layers.length - 1]?.index ?? 0}`}`,
  };
}

export function compareSummary(result: CompareResult, otherLabel: string): InsideSummaryLine {
  const parts = [
    result.drift.top1Agree ? 'same top prediction' : 'different top prediction',
    `max |Δp| ${num(result.drift.maxAbsProbabilityDiff)}`,
  ];
  if (result.attribution) parts.push(`Spearman ${num(result.attribution.spearman, 2)}`);
  parts.push(`size ×${num(result.sizeRatio, 2)}`, `time ×${num(result.speedRatio, 2)}`);
  return { tab: 'compare', title: `Compared with ${otherLabel}`, detail: parts.join(' · ') };
}

export function robustnessSummary(result: RobustnessResult): InsideSummaryLine {
  const s = result.summary;
  const flips = result.variants.filter((v) => v.flipped).length;
  const parts = [`${s.variants} variants`, `${flips} flip${flips === 1 ? '' : 's'} (${pct(s.flipRate)})`, `mean TV ${num(s.meanTotalVariation)}`];
  if (s.meanAttributionSpearman !== undefined) parts.push(`rank agreement ${num(s.meanAttributionSpearman, 2)}`);
  return { tab: 'robustness', title: 'Robustness', detail: parts.join(' · ') };
}

export function datasetSummary(result: DatasetResult, fileName: string): InsideSummaryLine {
  const parts = [`${result.examples} examples`];
  if (result.accuracy !== undefined) parts.push(`accuracy ${pct(result.accuracy)}`);
  if (result.labelled > 0) parts.push(`${result.misclassifiedTotal} misclassified`);
  parts.push(`${num(result.examplesPerSecond, 1)} examples/s`);
  return { tab: 'dataset', title: `Dataset ${fileName}`, detail: parts.join(' · ') };
}
