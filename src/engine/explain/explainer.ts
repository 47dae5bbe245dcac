import { MAX_BUDGET, coalitionCount, resolveBudget, type ResolvedBudget } from './budget';
import { CoalitionCache, emptyCoalition, fullCoalition } from './coalitionCache';
import { exactShapley, MAX_EXACT_FEATURES } from './exactShapley';
import { kernelShap } from './kernelShap';
import { lime, type LimeOptions } from './lime';
import { occlusion, occlusionWindow } from './occlusion';
import { balancedTree, flattenTree } from './featureTree';
import { fullExpansionCost, partitionShap } from './partitionShap';

import type { Estimate, ExplainOptions, MethodEstimate, MethodName, ValueFunction } from './estimate';

/** Options of explain() beyond the common ones. */
export type ExplainCallOptions = ExplainOptions & { window?: number; lime?: LimeOptions };

/** Default window of occlusion-window, in features. */
export const DEFAULT_OCCLUSION_WINDOW = 3;

/**
 * Explains f over nFeatures features with the chosen method. Yields progressively better estimates, one per
 * round of evaluations (each round is one call to f with every new coalition of that round); the last has
 * final=true. Throws CancelledError when options.isCancelled returns true between rounds, and a plain Error
 * for input it cannot work with (no features, exact Shapley over too many features, a bad hierarchy).
 */
export async function* explain(
  method: MethodName,
  nFeatures: number,
  f: ValueFunction,
  options: ExplainCallOptions,
): AsyncGenerator<Estimate> {
  const n = nFeatures;
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`there is nothing to explain: the input has ${n} features (at least one is needed)`);
  }
  if (method === 'exact-shapley' && n > MAX_EXACT_FEATURES) {
    throw new Error(
      `exact Shapley values need all 2^${n} = ${coalitionCount(n).toLocaleString('en-US')} coalitions; ` +
        `it is limited to ${MAX_EXACT_FEATURES} features. Use 'kernel-shap' or 'partition-shap' instead.`,
    );
  }
  const windowSize = options.window ?? DEFAULT_OCCLUSION_WINDOW;
  if (method === 'occlusion-window' && (!Number.isInteger(windowSize) || windowSize < 1)) {
    throw new Error(`the occlusion window must be a whole number of features ≥ 1, got ${windowSize}`);
  }
  const resolved = budgetFor(method, n, options.budget, windowSize);
  const cache = new CoalitionCache(n, f, options.isCancelled);
  const decorate = (e: MethodEstimate): Estimate => ({
    ...e,
    evaluations: cache.evaluations,
    budgetUsed: resolved.budget,
    ...(resolved.clamped !== undefined ? { budgetClamped: resolved.clamped } : {}),
  });

  if (n === 1) {
    // One feature: every method's answer is the whole difference f(full) − f(empty).
    const [full, empty] = await cache.evaluate([fullCoalition(1), emptyCoalition(1)]);
    const estimate: MethodEstimate = {
      values: Float64Array.of(full - empty),
      baseValue: empty,
      fullValue: full,
      final: true,
      error: { perFeature: new Float64Array(1), max: 0, kind: 'exact' },
    };
    if (method === 'lime') estimate.fit = { r2: 1, intercept: empty };
    yield decorate(estimate);
    return;
  }

  let inner: AsyncGenerator<MethodEstimate>;
  switch (method) {
    case 'exact-shapley':
      inner = exactShapley(n, cache);
      break;
    case 'kernel-shap':
      inner = kernelShap(n, cache, resolved.budget, options.seed);
      break;
    case 'partition-shap':
      inner = partitionShap(n, cache, resolved.budget, options.seed, options.hierarchy);
      break;
    case 'lime':
      inner = lime(n, cache, resolved.budget, options.seed, options.lime);
      break;
    case 'occlusion':
      inner = occlusion(n, cache);
      break;
    case 'occlusion-window':
      inner = occlusionWindow(n, cache, windowSize);
      break;
    default:
      throw new Error(`unknown explanation method '${String(method)}'`);
  }
  for await (const e of inner) yield decorate(e);
}

/** Runs explain() to completion and returns the final estimate. */
export async function explainFinal(method: MethodName, nFeatures: number, f: ValueFunction, options: ExplainCallOptions): Promise<Estimate> {
  let last: Estimate | undefined;
  for await (const e of explain(method, nFeatures, f, options)) last = e;
  if (!last) throw new Error('the explanation produced no estimate');
  return last;
}

/**
 * The budget each method works under. Methods that need a fixed number of evaluations (exact, occlusion) are
 * raised to it; Kernel SHAP and LIME get at least enough for a determined regression (2n + 2, or 2^n when that is
 * smaller), Partition SHAP at least f(∅) and f(full); all at most MAX_BUDGET.
 */
export function budgetFor(method: MethodName, n: number, requested: number, windowSize = DEFAULT_OCCLUSION_WINDOW): ResolvedBudget {
  const all = coalitionCount(n);
  switch (method) {
    case 'exact-shapley':
      return resolveBudget(requested, all, all, 'exact Shapley');
    case 'occlusion': {
      const need = n === 1 ? 2 : n + 2;
      // 0 is occlusion's default: no budget asked for, so none is raised.
      return requested === 0 ? { budget: need } : resolveBudget(requested, need, Math.max(need, MAX_BUDGET), 'occlusion');
    }
    case 'occlusion-window': {
      const need = Math.min(all, Math.max(1, n - windowSize + 1) + 2);
      return requested === 0 ? { budget: need } : resolveBudget(requested, need, Math.max(need, MAX_BUDGET), 'occlusion-window');
    }
    case 'kernel-shap':
    case 'lime': {
      const minimum = Math.min(all, 2 * n + 2);
      return resolveBudget(requested, minimum, Math.max(minimum, MAX_BUDGET), method);
    }
    case 'partition-shap':
      // No regression to determine: f(∅) and f(full) already give an estimate (the difference spread evenly),
      // and every further evaluation refines it.
      return resolveBudget(requested, Math.min(all, 2), MAX_BUDGET, method);
    default:
      throw new Error(`unknown explanation method '${String(method)}'`);
  }
}

/**
 * The most distinct evaluations a run will make: the resolved budget, or less where the method needs less
 * (exact Shapley: 2^n; occlusion: n + 2; Partition SHAP: the full expansion of its hierarchy).
 */
export function plannedEvaluations(method: MethodName, n: number, options: ExplainCallOptions): number {
  if (n === 1) return 2;
  const windowSize = options.window ?? DEFAULT_OCCLUSION_WINDOW;
  const budget = budgetFor(method, n, options.budget, windowSize).budget;
  switch (method) {
    case 'exact-shapley':
      return coalitionCount(n);
    case 'occlusion':
      return n + 2;
    case 'occlusion-window':
      return Math.min(coalitionCount(n), Math.max(1, n - windowSize + 1) + 2);
    case 'partition-shap':
      return Math.min(budget, fullExpansionCost(flattenTree(options.hierarchy ?? balancedTree(n), n)));
    default:
      return budget;
  }
}
