import * as vscode from 'vscode';
import { attentionUnits, topAttendedUnits, unitAt } from '../../render/attentionViews';
import { valuesName } from '../../render/explanationValues';
import { Commands } from '../ids';
import type { Services } from '../services';
import { hoverMarkdown } from './hoverText';

/** Hover over a highlighted word: its attribution, rank, direction and where it attends. */
export function registerAttributionHover(_context: vscode.ExtensionContext, services: Services): vscode.Disposable {
  return vscode.languages.registerHoverProvider(
    { scheme: '*' },
    {
      provideHover(document, position) {
        const h = services.highlights.at(document, position);
        if (!h) return undefined;
        const item = services.store.get(h.explanationId);
        if (!item) return undefined;
        const result = item.result;
        const feature = result.features[h.feature];
        let attendsTo: { word: string; weight: number }[] | undefined;
        const attention = services.store.attentionFor(result.text, result.provenance.modelSha256);
        if (attention && feature) {
          const units = attentionUnits(attention.encoded.tokens, attention.encoded.words, 'word');
          const index = unitAt(units, feature.start, feature.end);
          if (index >= 0) attendsTo = topAttendedUnits(attention, index, 'word').map((a) => ({ word: a.unit.label, weight: a.weight }));
        }
        const runnerUp = result.fullOutput.candidates.find((c) => c.label !== result.target.label)?.label;
        const args = encodeURIComponent(JSON.stringify([{ explanationId: item.id, feature: h.feature }]));
        const markdown = new vscode.MarkdownString(
          hoverMarkdown({
            word: h.text,
            value: h.value,
            rank: h.rank,
            of: result.features.length,
            method: result.provenance.method,
            valueName: valuesName(result, 'one'),
            target: result.target,
            runnerUp,
            attendsTo,
            openCommandUri: `command:${Commands.showPanel}?${args}`,
          }),
        );
        // Only the panel command may run from the link; nothing else in the text is trusted.
        markdown.isTrusted = { enabledCommands: [Commands.showPanel] };
        const range = new vscode.Range(document.positionAt(h.start), document.positionAt(h.end));
        return new vscode.Hover(markdown, range);
      },
    },
  );
}
