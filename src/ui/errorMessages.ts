import * as vscode from 'vscode';
import { EngineError } from '../engine/process/engineClient';
import { Commands } from './ids';
import { ConsentDeclinedError } from './engine/lensEngine';
import { notices } from './notices';

/**
 * Shows an error the way its kind calls for: a cancel is quiet, a bad input says what to change,
 * a model error offers another model, a crash offers the log. Returns nothing the caller needs.
 */
export async function showLensError(error: unknown, what: string, retry?: () => unknown): Promise<void> {
  if (error instanceof EngineError && error.code === 'cancelled') {
    void vscode.window.setStatusBarMessage(`ONNX Lens: ${what} cancelled.`, 4000);
    return;
  }
  if (error instanceof ConsentDeclinedError) {
    void notices.info(error.message);
    return;
  }
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof EngineError ? error.code : 'internal';
  const actions: string[] = [];
  if (code === 'model') actions.push('Open Model…', 'Use Demo Model');
  if ((code === 'crash' || code === 'timeout') && retry) actions.push('Retry');
  actions.push('Show Log');
  const prefix = code === 'crash' ? 'The engine crashed' : code === 'timeout' ? 'Timed out' : `${what} failed`;
  const choice = await notices.error(`ONNX Lens: ${prefix}: ${message}`, ...actions);
  if (choice === 'Open Model…') await vscode.commands.executeCommand(Commands.openModel);
  else if (choice === 'Use Demo Model') await vscode.commands.executeCommand(Commands.useDemoModel);
  else if (choice === 'Retry') await retry?.();
  else if (choice === 'Show Log') await vscode.commands.executeCommand(Commands.showLog);
}
