import * as vscode from 'vscode';
import { readConfig } from '../config';
import { Commands } from '../ids';
import { notices } from '../notices';
import type { Services } from '../services';
import { AnalysisController, editorPair } from './analysisCommands';
import { requireModel } from './modelCommands';

/**
 * Explain Sentence Pair: the two selections of the active editor (the earlier one is segment A), or one
 * selection — or, with nothing selected, the cursor's line — split at the `onnxLens.pairSeparator` text,
 * explained as a pair (token type 1 for segment B) and painted on both texts.
 */
export function registerSentencePairCommand(services: Services, analysis: AnalysisController): vscode.Disposable {
  return vscode.commands.registerCommand(Commands.explainSentencePair, async () => {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void notices.info('ONNX Lens: open a file and select the two texts of the pair.');
      return undefined;
    }
    const pair = editorPair(editor, readConfig().pairSeparator);
    if ('problem' in pair) {
      void notices.info(`ONNX Lens: ${pair.problem}`);
      return undefined;
    }
    if (!(await requireModel(services))) return undefined;
    return analysis.explain(pair.input, services.runSettings.current);
  });
}
