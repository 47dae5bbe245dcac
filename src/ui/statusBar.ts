import * as vscode from 'vscode';
import { escapeMarkdown } from '../render/htmlEscape';
import { Commands } from './ids';
import type { Services } from './services';

/** Status bar item: the current model and the last prediction; a spinner while the engine works. */
export class LensStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('onnxLens.status', vscode.StatusBarAlignment.Right, 100);
  private readonly subscriptions: vscode.Disposable[];

  constructor(private readonly services: Services) {
    this.item.name = 'ONNX Lens';
    this.item.command = Commands.showPanel;
    this.subscriptions = [services.engine.onDidChange(() => this.update()), services.store.onDidChange(() => this.update())];
    this.update();
  }

  /** What the item shows now (empty text when it is hidden). */
  describe(): { text: string; tooltip: string } {
    const tooltip = this.item.tooltip;
    return { text: this.visible ? this.item.text : '', tooltip: typeof tooltip === 'string' ? tooltip : (tooltip?.value ?? '') };
  }

  private visible = false;

  private update(): void {
    const { engine, store } = this.services;
    const card = engine.card;
    const status = engine.status;
    const prediction = store.lastPrediction?.prediction;
    const top = prediction?.generated ? { label: prediction.generated.text, probability: NaN } : prediction?.candidates[0];
    if (status.state === 'busy') {
      const progress = status.total ? ` ${status.done ?? 0}/${status.total}` : '';
      this.item.text = `$(sync~spin) ${status.label ?? 'Working'}${progress}`;
    } else if (status.state === 'crashed' || status.state === 'error') {
      this.item.text = '$(error) ONNX Lens';
    } else if (card) {
      const shown = top ? ` · ${top.label.slice(0, 24)}${Number.isFinite(top.probability) ? ` ${(top.probability * 100).toFixed(0)}%` : ''}` : '';
      this.item.text = `$(telescope) ${card.name}${shown}`;
    } else {
      this.item.hide();
      this.visible = false;
      return;
    }
    const tooltip = new vscode.MarkdownString();
    if (card) tooltip.appendMarkdown(`**${escapeMarkdown(card.name)}** — ${card.family}, ${card.task}, ${card.variant}${card.quantized ? ' (quantized)' : ''}\n\n`);
    // Labels and messages come from the model: escaped, '<' included (appendText leaves it).
    if (status.state === 'crashed' || status.state === 'error') tooltip.appendMarkdown(escapeMarkdown(status.message));
    else if (prediction) tooltip.appendMarkdown(prediction.candidates.slice(0, 3).map((c) => `${escapeMarkdown(c.label)} ${(c.probability * 100).toFixed(1)}%`).join(' · '));
    this.item.tooltip = tooltip;
    this.item.show();
    this.visible = true;
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.item.dispose();
  }
}
