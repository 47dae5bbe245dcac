import type { ExplainParams, MethodName, ProgressEvent, FeatureValue } from '../../protocol/engineApi';
import type { RunSettings } from '../../protocol/webviewMessages';
import { durationText } from '../../render/durationText';

/**
 * The engine request for explaining `text` (and `textPair`, the second text of a sentence pair) with the run
 * settings (`auto` removal left to the engine).
 */
export function explainParams(text: string, settings: RunSettings, method: MethodName = settings.method, textPair?: string): ExplainParams {
  const params: ExplainParams = { text, method, budget: settings.budget, level: settings.level };
  if (textPair !== undefined) params.textPair = textPair;
  if (settings.removal !== 'auto') params.removal = settings.removal;
  if (settings.punctuation === 'omit') params.punctuation = 'omit';
  if (settings.target !== undefined && settings.target !== '') params.target = settings.target;
  if (settings.contrast !== undefined && settings.contrast !== '') params.contrast = settings.contrast;
  if (settings.outputIndex !== undefined) params.outputIndex = settings.outputIndex;
  if (settings.seed !== undefined) params.seed = settings.seed;
  return params;
}

/** The partial features a progress event carries, when it carries a usable partial explanation. */
export function partialFeatures(progress: ProgressEvent): FeatureValue[] | undefined {
  const partial = progress.partial as { features?: unknown } | FeatureValue[] | undefined;
  const list = Array.isArray(partial) ? partial : partial && Array.isArray(partial.features) ? partial.features : undefined;
  if (!list) return undefined;
  const ok = list.every((f) => typeof f === 'object' && f !== null && typeof (f as FeatureValue).value === 'number' && typeof (f as FeatureValue).start === 'number');
  return ok ? (list as FeatureValue[]) : undefined;
}

/** The engine's time estimate in words ("about 40 s left of an estimated 52 s"), when the progress carries one. */
export function estimateText(progress: ProgressEvent): string | undefined {
  const estimated = progress.estimatedMs;
  if (typeof estimated !== 'number' || !Number.isFinite(estimated) || estimated <= 0) return undefined;
  const elapsed = typeof progress.elapsedMs === 'number' && Number.isFinite(progress.elapsedMs) ? progress.elapsedMs : 0;
  const left = estimated - elapsed;
  if (elapsed <= 0 || progress.done === 0) return `estimated ${durationText(estimated)}`;
  return left > 0 ? `about ${durationText(left)} left of an estimated ${durationText(estimated)}` : `taking longer than the estimated ${durationText(estimated)}`;
}

/**
 * A progress line for the notification: "120 / 500 evaluations · about 40 s left of an estimated 52 s". With an
 * estimate the line is made of the numbers alone: the engine's own message says the time left too, and the
 * notification would say it twice.
 */
export function progressMessage(progress: ProgressEvent): string {
  const base = progress.total > 0 ? `${progress.done} / ${progress.total}` : `${progress.done}`;
  const estimate = estimateText(progress);
  if (estimate) return `${base} evaluations · ${estimate}`;
  return progress.message ? `${progress.message} (${base})` : `${base} evaluations`;
}
