import * as vscode from 'vscode';
import type { AttentionResult, ExplanationResult, Prediction } from '../../protocol/engineApi';
import type { RankAgreement, RecentExplanation, RunSettings } from '../../protocol/webviewMessages';
import { valuesName } from '../../render/explanationValues';

/** One explanation of a piece of a document, with what else was computed for the same text. */
export interface ExplainedSelection {
  id: string;
  /** Document the text came from (undefined when explained from the panel without an editor). */
  uri?: string;
  /** Document offset of the first character of `result.text`. */
  offset: number;
  /** A sentence pair: document offset of the first character of `result.textPair`. */
  pairOffset?: number;
  result: ExplanationResult;
  settings: RunSettings;
  /** A second method on the same text (Compare Methods) and how far the two agree. */
  secondary?: ExplanationResult;
  agreement?: RankAgreement;
}

/** The key the attention of a text, or of a sentence pair, is kept under (a pair never matches a single text). */
export function attentionKey(text: string, textPair?: string): string {
  return textPair === undefined ? text : `${text}\u0000${textPair}`;
}

const RECENT_LIMIT = 12;
/** Live explanations kept for their highlights' hovers (one per line explained recently). */
const LIVE_LIMIT = 64;

/** The attention kept for the views and the hover, with the text and model it was computed for. */
export interface KeptAttention {
  text: string;
  /** SHA-256 of the model file that computed it. */
  modelSha256: string;
  offset: number;
  uri?: string;
  result: AttentionResult;
}

/** The explanations of this window: the current one and the recent ones the sidebar lists. */
export class ExplanationStore implements vscode.Disposable {
  private readonly items: ExplainedSelection[] = [];
  private readonly liveItems = new Map<string, ExplainedSelection>();
  private currentId: string | undefined;
  private predictionValue: { text: string; prediction: Prediction } | undefined;
  private attentionValue: KeptAttention | undefined;
  private readonly changed = new vscode.EventEmitter<ExplainedSelection | undefined>();
  private counter = 0;
  readonly onDidChange = this.changed.event;

  get current(): ExplainedSelection | undefined {
    return this.items.find((i) => i.id === this.currentId);
  }

  get lastPrediction(): { text: string; prediction: Prediction } | undefined {
    return this.predictionValue;
  }

  /**
   * Attention and hidden states of the text the attention views show. Only the latest is kept: for
   * a 512-token input they are hundreds of megabytes.
   */
  get attention(): KeptAttention | undefined {
    return this.attentionValue;
  }

  /** Keeps the attention of `text` as computed by the model whose file hash is `modelSha256`. */
  setAttention(text: string, modelSha256: string, result: AttentionResult, where: { offset: number; uri?: string }): void {
    this.attentionValue = { text, modelSha256, result, ...where };
  }

  /** Attention of exactly this text by exactly this model, if it is the one kept. */
  attentionFor(text: string, modelSha256: string | undefined): AttentionResult | undefined {
    const kept = this.attentionValue;
    return kept && kept.text === text && kept.modelSha256 === modelSha256 ? kept.result : undefined;
  }

  /**
   * Another model replaced the open one: the prediction, the attention and the current explanation
   * described the previous model, so they go (the recent list keeps its explanations, each with its
   * provenance, to be reopened).
   */
  forgetModel(): void {
    this.predictionValue = undefined;
    this.attentionValue = undefined;
    this.currentId = undefined;
    this.changed.fire(undefined);
  }

  setPrediction(text: string, prediction: Prediction): void {
    this.predictionValue = { text, prediction };
    this.changed.fire(this.current);
  }

  add(entry: Omit<ExplainedSelection, 'id'>): ExplainedSelection {
    const item: ExplainedSelection = { ...entry, id: `e${Date.now().toString(36)}${(this.counter++).toString(36)}` };
    this.items.unshift(item);
    this.items.splice(RECENT_LIMIT);
    this.currentId = item.id;
    this.predictionValue = { text: item.result.text, prediction: item.result.fullOutput };
    this.changed.fire(item);
    return item;
  }

  /** Updates the current item in place (comparison, attention). */
  update(id: string, patch: Partial<Omit<ExplainedSelection, 'id'>>): void {
    const item = this.items.find((i) => i.id === id);
    if (!item) return;
    Object.assign(item, patch);
    this.changed.fire(item);
  }

  get(id: string): ExplainedSelection | undefined {
    return this.items.find((i) => i.id === id) ?? this.liveItems.get(id);
  }

  /**
   * Keeps a live-mode explanation, so the hover over its words can read it, without listing it among the
   * recent explanations (live mode makes one per pause in typing) and without telling the views (live mode
   * sets the latest prediction itself, once per text).
   */
  addLive(entry: Omit<ExplainedSelection, 'id'>): ExplainedSelection {
    const item: ExplainedSelection = { ...entry, id: `live${Date.now().toString(36)}${(this.counter++).toString(36)}` };
    this.liveItems.set(item.id, item);
    while (this.liveItems.size > LIVE_LIMIT) this.liveItems.delete(this.liveItems.keys().next().value as string);
    return item;
  }

  /** True for the id of a live-mode explanation. */
  isLive(id: string): boolean {
    return id.startsWith('live');
  }

  select(id: string): ExplainedSelection | undefined {
    const item = this.get(id);
    if (item) {
      this.currentId = id;
      this.predictionValue = { text: item.result.text, prediction: item.result.fullOutput };
      this.changed.fire(item);
    }
    return item;
  }

  recent(): RecentExplanation[] {
    return this.items.map((i) => ({
      id: i.id,
      snippet: i.result.text.length > 60 ? `${i.result.text.slice(0, 59)}…` : i.result.text,
      method: i.result.provenance.method,
      values: valuesName(i.result),
      target: i.result.target.label,
      createdAt: i.result.provenance.createdAt,
    }));
  }

  dispose(): void {
    this.changed.dispose();
  }
}
