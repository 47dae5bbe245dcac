/** The types shared by the explanation methods and their dispatcher (`explainer.ts`). */
import type { FeatureTree } from './featureTree';

/** coalitions[i][j] = 1 when feature j is present (kept), 0 when removed. Returns one value per coalition. */
export type ValueFunction = (coalitions: Uint8Array[]) => Promise<Float64Array>;

export interface ExplainOptions {
  /** Most distinct evaluations of the value function, the full and empty coalitions included. */
  budget: number;
  seed: number;
  /** Checked between rounds of evaluations; when it returns true the explanation throws CancelledError. */
  isCancelled?: () => boolean;
  /** Grouping of the features for partition-shap (default: a balanced binary tree over the feature order). */
  hierarchy?: FeatureTree;
}

export interface Estimate {
  /** One attribution per feature. */
  values: Float64Array;
  /** f(all removed). */
  baseValue: number;
  /** f(all present). */
  fullValue: number;
  /** Distinct coalitions evaluated so far. */
  evaluations: number;
  final: boolean;
  /**
   * How far the values may still be from what the method converges to. 'exact': nothing left to estimate
   * (exact Shapley values, occlusion); 'exact-owen': the exact Owen values of the hierarchy, which are not
   * Shapley values unless the hierarchy is flat; 'std-error' and 'change-between-rounds': estimates.
   */
  error?: { perFeature?: Float64Array; max: number; kind: 'exact' | 'exact-owen' | 'std-error' | 'change-between-rounds' };
  /** LIME's surrogate: weighted R² and intercept. */
  fit?: { r2: number; intercept: number };
  /** The budget the run worked under, after clamping (evaluations never exceed it). */
  budgetUsed: number;
  /** Why the requested budget was changed, when it was. */
  budgetClamped?: string;
}

/** What a method yields; the dispatcher adds the bookkeeping fields. */
export type MethodEstimate = Omit<Estimate, 'evaluations' | 'budgetUsed' | 'budgetClamped'>;

export type MethodName = 'exact-shapley' | 'kernel-shap' | 'partition-shap' | 'lime' | 'occlusion' | 'occlusion-window';
