import * as vscode from 'vscode';
import type { RunSettings } from '../protocol/webviewMessages';
import { affectsLens, readConfig } from './config';

/**
 * The settings of the next explanation run: the configured defaults, overridden by what the user
 * picks in the panel or the sidebar for this window (method, budget, target, contrast).
 */
export class RunSettingsState implements vscode.Disposable {
  private overrides: Partial<RunSettings> = {};
  private readonly changed = new vscode.EventEmitter<RunSettings>();
  private readonly subscription: vscode.Disposable;
  readonly onDidChange = this.changed.event;

  constructor() {
    this.subscription = vscode.workspace.onDidChangeConfiguration((e) => {
      if (affectsLens(e)) this.changed.fire(this.current);
    });
  }

  get current(): RunSettings {
    const c = readConfig();
    return { method: c.method, budget: c.budget, level: c.level, punctuation: c.punctuation, removal: c.removal, ...this.overrides };
  }

  update(patch: Partial<RunSettings>): RunSettings {
    this.overrides = { ...this.overrides, ...patch };
    for (const key of Object.keys(this.overrides) as (keyof RunSettings)[]) {
      if (this.overrides[key] === undefined || this.overrides[key] === '') delete this.overrides[key];
    }
    const current = this.current;
    this.changed.fire(current);
    return current;
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}
