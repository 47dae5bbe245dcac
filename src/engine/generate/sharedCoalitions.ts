import type { ValueFunction } from '../explain/estimate';

/** Values of several targets for each coalition: one model row gives them all. */
export type VectorValueFunction = (coalitions: Uint8Array[]) => Promise<Float64Array[]>;

interface Waiting {
  target: number;
  coalitions: Uint8Array[];
  resolve: (values: Float64Array) => void;
  reject: (error: unknown) => void;
}

/**
 * Lets several explanations of different targets over the same features run side by side on one model.
 * Each target gets its own scalar value function; a coalition is evaluated once for all of them, and the
 * rounds of the explanations are pooled: the model is called when every explanation still running is waiting
 * for values, with the union of their new coalitions (one batched evaluation per round, not one per target).
 * Methods whose coalitions do not depend on the values (occlusion, KernelSHAP with one seed) then cost the
 * same for any number of targets as for one.
 */
export class SharedCoalitions {
  private readonly cache = new Map<string, Float64Array>();
  private waiting: Waiting[] = [];
  private running: number;
  /** Calls made to the vector value function. */
  calls = 0;

  constructor(
    private readonly evaluate: VectorValueFunction,
    targets: number,
  ) {
    this.running = targets;
  }

  /** Distinct coalitions evaluated so far. */
  get evaluations(): number {
    return this.cache.size;
  }

  /** The value function of one target. */
  valueFunction(target: number): ValueFunction {
    return (coalitions) =>
      new Promise<Float64Array>((resolve, reject) => {
        this.waiting.push({ target, coalitions, resolve, reject });
        this.flushWhenReady();
      });
  }

  /** Runs one target's explanation; when it ends (or fails) the others no longer wait for it. */
  async run<T>(body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } finally {
      this.running--;
      this.flushWhenReady();
    }
  }

  private flushWhenReady(): void {
    if (this.waiting.length === 0 || this.waiting.length < this.running) return;
    const batch = this.waiting;
    this.waiting = [];
    void this.flush(batch);
  }

  private async flush(batch: Waiting[]): Promise<void> {
    const fresh = new Map<string, Uint8Array>();
    for (const w of batch) {
      for (const c of w.coalitions) {
        const k = key(c);
        if (!this.cache.has(k) && !fresh.has(k)) fresh.set(k, c);
      }
    }
    try {
      if (fresh.size > 0) {
        this.calls++;
        const keys = [...fresh.keys()];
        const vectors = await this.evaluate([...fresh.values()]);
        keys.forEach((k, i) => this.cache.set(k, vectors[i]));
      }
      for (const w of batch) w.resolve(Float64Array.from(w.coalitions, (c) => (this.cache.get(key(c)) as Float64Array)[w.target]));
    } catch (error) {
      for (const w of batch) w.reject(error);
    }
  }
}

function key(c: Uint8Array): string {
  let s = '';
  for (let i = 0; i < c.length; i++) s += c[i] ? '1' : '0';
  return s;
}
