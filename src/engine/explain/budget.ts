/** Largest budget any method accepts: beyond this the coalitions alone would not fit comfortably in memory. */
export const MAX_BUDGET = 100_000;

/** The budget a run will use, and why it differs from the one requested (absent when it does not). */
export interface ResolvedBudget {
  budget: number;
  clamped?: string;
}

/**
 * Clamps a requested evaluation budget into [minimum, maximum]. Non-finite or fractional requests are
 * rounded down / replaced by the minimum; the reason is returned so that the estimate can report it.
 */
export function resolveBudget(requested: number, minimum: number, maximum: number, what: string): ResolvedBudget {
  const max = Math.max(minimum, maximum);
  if (!Number.isFinite(requested)) {
    return { budget: minimum, clamped: `budget ${requested} is not a finite number; used the minimum ${minimum} for ${what}` };
  }
  const whole = Math.floor(requested);
  if (whole < minimum) {
    return { budget: minimum, clamped: `budget ${requested} raised to ${minimum}, the fewest evaluations ${what} needs` };
  }
  if (whole > max) {
    return { budget: max, clamped: `budget ${requested} lowered to ${max}, the most evaluations ${what} can use` };
  }
  if (whole !== requested) return { budget: whole, clamped: `budget ${requested} rounded down to ${whole}` };
  return { budget: whole };
}

/** 2^n as a number, saturating at a value far above any budget so large n cannot overflow comparisons. */
export function coalitionCount(n: number): number {
  return n >= 60 ? Number.MAX_SAFE_INTEGER : 2 ** n;
}
