import type { MethodName } from '../../protocol/engineApi';
import { BadInputError } from '../process/engineErrors';
import type { MethodName as PerturbationMethod } from './estimate';
import { MAX_EXACT_FEATURES } from './exactShapley';
import type { FeatureTree } from './featureTree';

/**
 * Evaluations a method gets when the request names no budget: for the explanation of one text, and for the
 * generation matrix, where every generated token shares each evaluation. Attention rollout and flow read
 * attention and evaluate no coalitions.
 */
export const DEFAULT_BUDGET: Record<MethodName, number> = {
  'exact-shapley': 16384,
  'kernel-shap': 512,
  'partition-shap': 500,
  lime: 1000,
  occlusion: 0,
  'occlusion-window': 0,
  rollout: 0,
  flow: 0,
};

/**
 * The note on a budget the method could not use as given. A default lowered to what the method can use (exact
 * Shapley's 16,384 to the 2^n coalitions of a short text) is said nothing about: nobody asked for that budget.
 */
export function budgetClampNote(method: MethodName, asked: number | undefined, used: number, clamped: string | undefined): string | undefined {
  if (asked === undefined && used < DEFAULT_BUDGET[method]) return undefined;
  return clamped;
}

/**
 * The smaller default of the many per-word explanations of one request (the variants of a robustness check,
 * the lines of a dataset run).
 */
export const MANY_EXPLANATIONS_BUDGET: Record<PerturbationMethod, number> = {
  'exact-shapley': 4096,
  'kernel-shap': 256,
  'partition-shap': 256,
  lime: 256,
  occlusion: 0,
  'occlusion-window': 0,
};

/** The methods that explain by removing features: every method but attention rollout and flow. */
export const PERTURBATION_METHODS = Object.keys(MANY_EXPLANATIONS_BUDGET) as PerturbationMethod[];

export function isPerturbationMethod(method: string): method is PerturbationMethod {
  return (PERTURBATION_METHODS as string[]).includes(method);
}

/**
 * Exact Shapley values enumerate all 2^n coalitions, so more than MAX_EXACT_FEATURES features are refused as the
 * caller's mistake, naming the methods that estimate them. `whose`: "the text's", "the prompt's"; `unit`: words or tokens.
 */
export function refuseExactShapleyPastLimit(method: MethodName, features: number, whose: string, unit: string): void {
  if (method !== 'exact-shapley' || features <= MAX_EXACT_FEATURES) return;
  throw new BadInputError(
    `Exact Shapley values need all 2^${features} coalitions of ${whose} ${features} ${unit}; they are limited to ${MAX_EXACT_FEATURES} ${unit}. Use kernel-shap or partition-shap.`,
  );
}

/**
 * The hierarchy Partition SHAP works over. It exists to make the method affordable: when the budget covers all
 * 2^n coalitions, a flat hierarchy costs the same and its Owen values are the exact Shapley values, and the note
 * says so. Other methods get none.
 */
export function partitionHierarchy(
  method: MethodName,
  features: number,
  budget: number,
  textHierarchy: () => FeatureTree,
): { hierarchy?: FeatureTree; flatNote?: string } {
  if (method !== 'partition-shap') return {};
  if (2 ** features > budget) return { hierarchy: textHierarchy() };
  return {
    hierarchy: { children: Array.from({ length: features }, (_, feature) => ({ feature })) },
    flatNote: `Partition SHAP used a flat hierarchy: the budget covers all ${2 ** features} coalitions, so its Owen values are the exact Shapley values.`,
  };
}
