import type { ExplainParams, MethodName, ProgressEvent, FeatureValue } from '../../protocol/engineApi';
import type { RunSettings } from '../../protocol/webviewMessages';

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

/** Progress with the engine's time estimate, which engines that make one add to their progress events. */
export interface TimedProgress extends ProgressEvent {
  /** The engine's estimate of the whole request's time (ms), said before the work starts and refined as it runs. */
  estimatedMs?: number;
  /** Time since the request started (ms). */
  elapsedMs?: number;
}

/** "8 s", "1 min 20 s", "about 2 h". */
export function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 3600) {
    const m = Math.floor(seconds / 60);
    const s = Math.round(seconds - m * 60);
    return s > 0 && m < 10 ? `${m} min ${s} s` : `${Math.round(seconds / 60)} min`;
  }
  return `about ${(seconds / 3600).toFixed(1)} h`;
}

/** The engine's time estimate in words ("about 40 s left of an estimated 52 s"), when the progress carries one. */
export function estimateText(progress: TimedProgress): string | undefined {
  const estimated = progress.estimatedMs;
  if (typeof estimated !== 'number' || !Number.isFinite(estimated) || estimated <= 0) return undefined;
  const elapsed = typeof progress.elapsedMs === 'number' && Number.isFinite(progress.elapsedMs) ? progress.elapsedMs : 0;
  const left = estimated - elapsed;
  if (elapsed <= 0 || progress.done === 0) return `estimated ${formatSeconds(estimated / 1000)}`;
  return left > 0 ? `about ${formatSeconds(left / 1000)} left of an estimated ${formatSeconds(estimated / 1000)}` : `taking longer than the estimated ${formatSeconds(estimated / 1000)}`;
}

/** A progress line for the notification: "120 / 500 evaluations · estimated 52 s". */
export function progressMessage(progress: TimedProgress): string {
  const base = progress.total > 0 ? `${progress.done} / ${progress.total}` : `${progress.done}`;
  const line = progress.message ? `${progress.message} (${base})` : `${base} evaluations`;
  const estimate = estimateText(progress);
  return estimate ? `${line} · ${estimate}` : line;
}
