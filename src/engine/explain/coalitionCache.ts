import { throwIfCancelled } from '../run/cancellation';

/** Same shape as ValueFunction in explainer.ts; restated here so this module does not depend on the dispatcher. */
type BatchValueFunction = (coalitions: Uint8Array[]) => Promise<Float64Array>;

/**
 * Wraps a value function so that every coalition is evaluated at most once, whole rounds go out in a
 * single call, and the number of distinct evaluations (the cost the budget limits) is counted.
 */
export class CoalitionCache {
  private readonly values = new Map<string, number>();
  private callCount = 0;

  constructor(
    readonly nFeatures: number,
    private readonly f: BatchValueFunction,
    private readonly isCancelled?: () => boolean,
  ) {}

  /** Distinct coalitions evaluated so far. */
  get evaluations(): number {
    return this.values.size;
  }

  /** Calls made to the wrapped value function so far. */
  get calls(): number {
    return this.callCount;
  }

  /** Key of a coalition: 16 membership bits per UTF-16 code unit. */
  key(coalition: Uint8Array): string {
    return coalitionKey(coalition, this.nFeatures);
  }

  has(coalition: Uint8Array): boolean {
    return this.values.has(this.key(coalition));
  }

  /** Cached value of a coalition, or undefined when it has not been evaluated. */
  peek(coalition: Uint8Array): number | undefined {
    return this.values.get(this.key(coalition));
  }

  /** How many of these coalitions are not yet evaluated (duplicates within the list counted once). */
  countNew(coalitions: Uint8Array[]): number {
    const seen = new Set<string>();
    for (const c of coalitions) {
      const k = this.key(c);
      if (!this.values.has(k)) seen.add(k);
    }
    return seen.size;
  }

  /**
   * Values of all the coalitions, in order. Coalitions not seen before are sent to the value function in one
   * call (none when all are cached). Checks cancellation before calling.
   */
  async evaluate(coalitions: Uint8Array[]): Promise<Float64Array> {
    const keys = coalitions.map((c) => this.key(c));
    const pending: Uint8Array[] = [];
    const pendingKeys: string[] = [];
    const queued = new Set<string>();
    keys.forEach((k, i) => {
      if (!this.values.has(k) && !queued.has(k)) {
        queued.add(k);
        pending.push(coalitions[i]);
        pendingKeys.push(k);
      }
    });
    if (pending.length > 0) {
      throwIfCancelled(this.isCancelled);
      for (const c of pending) {
        if (c.length !== this.nFeatures) throw new Error(`coalition has ${c.length} entries, expected ${this.nFeatures}`);
      }
      this.callCount++;
      const out = await this.f(pending);
      if (out.length !== pending.length) {
        throw new Error(`the value function returned ${out.length} values for ${pending.length} coalitions`);
      }
      for (let i = 0; i < pending.length; i++) {
        const v = out[i];
        if (!Number.isFinite(v)) throw new Error(`the value function returned a non-finite value (${v})`);
        this.values.set(pendingKeys[i], v);
      }
      throwIfCancelled(this.isCancelled);
    }
    const result = new Float64Array(coalitions.length);
    for (let i = 0; i < keys.length; i++) result[i] = this.values.get(keys[i]) as number;
    return result;
  }
}

/** A string equal for equal coalitions of n features: 16 membership bits per UTF-16 code unit. */
export function coalitionKey(coalition: ArrayLike<number>, n = coalition.length): string {
  const codes: number[] = new Array(Math.ceil(n / 16));
  for (let c = 0, base = 0; base < n; c++, base += 16) {
    let word = 0;
    const end = Math.min(n, base + 16);
    for (let j = base; j < end; j++) if (coalition[j]) word |= 1 << (j - base);
    codes[c] = word;
  }
  return String.fromCharCode(...codes);
}

/** A coalition with every feature present. */
export function fullCoalition(n: number): Uint8Array {
  return new Uint8Array(n).fill(1);
}

/** A coalition with every feature removed. */
export function emptyCoalition(n: number): Uint8Array {
  return new Uint8Array(n);
}
