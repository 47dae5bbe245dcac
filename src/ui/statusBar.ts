import * as vscode from 'vscode';
import { Commands } from './ids';
import type { Services } from './services';

/** Status bar item: the current model and the last prediction; a spinner while the engine works. */
export function registerStatusBar(_context: vscode.ExtensionContext, services: Services): vscode.Disposable {
  const item = vscode.window.createStatusBarItem('onnxLens.status', vscode.StatusBarAlignment.Right, 100);
  item.name = 'ONNX Lens';
  item.command = Commands.showPanel;
  const update = () => {
    const card = services.engine.card;
    const status = services.engine.status;
    const prediction = services.store.lastPrediction?.prediction;
    const top = prediction?.generated ? { label: prediction.generated.text, probability: NaN } : prediction?.candidates[0];
    if (status.state === 'busy') {
      const progress = status.total ? ` ${status.done ?? 0}/${status.total}` : '';
      item.text = `$(sync~spin) ${status.label ?? 'Working'}${progress}`;
    } else if (status.state === 'crashed' || status.state === 'error') {
      item.text = '$(error) ONNX Lens';
    } else if (card) {
      const shown = top ? ` · ${top.label.slice(0, 24)}${Number.isFinite(top.probability) ? ` ${(top.probability * 100).toFixed(0)}%` : ''}` : '';
      item.text = `$(telescope) ${card.name}${shown}`;
    } else {
      item.hide();
      return;
    }
    const tooltip = new vscode.MarkdownString();
    if (card) tooltip.appendMarkdown(`**${card.name}** — ${card.family}, ${card.task}, ${card.variant}${card.quantized ? ' (quantized)' : ''}\n\n`);
    if (status.state === 'crashed' || status.state === 'error') tooltip.appendText(status.message);
    else if (prediction) tooltip.appendText(prediction.candidates.slice(0, 3).map((c) => `${c.label} ${(c.probability * 100).toFixed(1)}%`).join(' · '));
    item.tooltip = tooltip;
    item.show();
  };
  update();
  return vscode.Disposable.from(item, services.engine.onDidChange(update), services.store.onDidChange(update));
}
