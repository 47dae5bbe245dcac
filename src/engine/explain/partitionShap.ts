import type { CoalitionCache } from './coalitionCache';
import { emptyCoalition, fullCoalition } from './coalitionCache';
import { changeBetween } from './convergence';
import type { MethodEstimate } from './estimate';
import { balancedTree, flattenTree, type FeatureTree, type FlatTree } from './featureTree';
import { binomial } from './kernelRegression';
import { SeededRandom } from './random';

/** A group's children play an exact Shapley game of 2^k coalitions, so k is kept small. */
export const MAX_GROUP_CHILDREN = 14;

interface Item {
  /** Features fixed present outside this node (the context chosen by the ancestors' games). */
  context: Uint8Array;
  /** f(context), f(context ∪ node). */
  f00: number;
  f11: number;
  node: number;
  weight: number;
  priority: number;
  tie: number;
}

/**
 * Owen values over a feature hierarchy, computed as the shap library's Partition explainer does (with no fixed
 * context): starting at the root with f(∅) and f(full), a group's children play a Shapley game in the group's
 * current context (the other features fixed as the ancestors' games left them); each child then inherits every
 * context its siblings can give it, weighted by the Shapley weight of that sibling coalition, and recurses.
 * For a binary split this is shap's four calls per node (left/right, with the sibling absent or present, weight
 * ½ each). On a flat hierarchy this is exactly the Shapley value; efficiency holds exactly at any budget.
 *
 * Budget: pending (node, context) items sit in a priority queue ordered by |f11 − f00|·weight, as shap's
 * max_evals queue; the most important are expanded first, a round at a time (one call per round). When the
 * budget runs out, each pending item's credit is spread over its features in proportion to their number.
 * Full expansion of a balanced binary tree costs O(n²) evaluations (a node at depth d has 2^d contexts).
 */
export async function* partitionShap(
  n: number,
  cache: CoalitionCache,
  budget: number,
  seed: number,
  hierarchy?: FeatureTree,
): AsyncGenerator<MethodEstimate> {
  const tree = flattenTree(hierarchy ?? balancedTree(n), n);
  for (const kids of tree.children) {
    if (kids.length > MAX_GROUP_CHILDREN) {
      throw new Error(
        `a group in the feature hierarchy has ${kids.length} children; at most ${MAX_GROUP_CHILDREN} are supported ` +
          `(its children's Shapley game needs 2^${kids.length} coalitions). Split it into subgroups.`,
      );
    }
  }
  const rng = new SeededRandom(seed);
  const leafCredit = new Float64Array(n);
  const heap = new ItemHeap();
  const full = fullCoalition(n);
  const empty = emptyCoalition(n);
  // f(∅) and f(full) travel with the first round; the root's item gets them once they are known.
  const root = makeItem(empty, Number.NaN, Number.NaN, 0, 1, rng);
  heap.push(root);
  const roundCap = Math.max(64, Math.ceil(budget / 8));
  let baseValue = Number.NaN;
  let fullValue = Number.NaN;

  let pending: MethodEstimate | undefined;
  let previous: Float64Array | undefined;
  let lastYielded: Float64Array | undefined;
  for (let round = 0; ; round++) {
    const batch: Array<{ item: Item; masks: Uint8Array[] }> = [];
    const newKeys = new Set<string>();
    if (round === 0) for (const m of [full, empty]) newKeys.add(cache.key(m));
    while (heap.size > 0) {
      const item = heap.peek();
      const masks = childCoalitions(tree, item);
      const fresh = new Set<string>();
      for (const m of masks) {
        const k = cache.key(m);
        if (!newKeys.has(k) && !cache.has(m)) fresh.add(k);
      }
      if (cache.evaluations + newKeys.size + fresh.size > budget) break;
      if (batch.length > 0 && newKeys.size + fresh.size > roundCap) break;
      heap.pop();
      for (const k of fresh) newKeys.add(k);
      batch.push({ item, masks });
    }
    if (batch.length === 0 && round > 0) break;
    if (pending) {
      lastYielded = pending.values;
      yield pending;
    }

    const asked = batch.flatMap((b) => b.masks);
    const values = await cache.evaluate(round === 0 ? [full, empty, ...asked] : asked);
    let offset = 0;
    if (round === 0) {
      fullValue = values[0];
      baseValue = values[1];
      root.f00 = baseValue;
      root.f11 = fullValue;
      offset = 2;
      if (batch.length === 0) break;
    }
    for (const { item, masks } of batch) {
      const kids = tree.children[item.node];
      const k = kids.length;
      const fv = new Float64Array(1 << k);
      fv[0] = item.f00;
      fv[(1 << k) - 1] = item.f11;
      for (let t = 1; t < (1 << k) - 1; t++) fv[t] = values[offset + t - 1];
      offset += masks.length;
      for (let i = 0; i < k; i++) {
        const child = kids[i];
        const bit = 1 << i;
        for (let t = 0; t < 1 << k; t++) {
          if (t & bit) continue;
          const w = item.weight * shapleyWeight(popcount(t), k);
          const f0 = fv[t];
          const f1 = fv[t | bit];
          if (tree.feature[child] >= 0) {
            leafCredit[tree.feature[child]] += (f1 - f0) * w;
          } else {
            const context = t === 0 ? item.context : masks[t - 1];
            heap.push(makeItem(context, f0, f1, child, w, rng));
          }
        }
      }
    }
    const current = currentValues(tree, leafCredit, heap);
    pending = { values: current, baseValue, fullValue, final: false };
    if (previous) pending.error = changeBetween(current, previous);
    previous = current;
  }

  const values = currentValues(tree, leafCredit, heap);
  const final: MethodEstimate = { values, baseValue, fullValue, final: true };
  // Fully expanded, these are the exact Owen values of the hierarchy; only a flat one makes them Shapley values.
  const flat = tree.children[0].every((child) => tree.feature[child] >= 0);
  if (heap.size === 0) final.error = { perFeature: new Float64Array(n), max: 0, kind: flat ? 'exact' : 'exact-owen' };
  else if (lastYielded) final.error = changeBetween(values, lastYielded);
  yield final;
}

/**
 * The most distinct evaluations Partition SHAP can make on a hierarchy: f(∅), f(full), and every group's
 * 2^k − 2 child coalitions in every context its ancestors give it (a child inherits 2^(k−1) contexts from each
 * of its parent's). Fewer when coalitions coincide.
 */
export function fullExpansionCost(tree: FlatTree): number {
  const contexts = new Float64Array(tree.children.length);
  contexts[0] = 1;
  let cost = 2;
  for (const node of tree.preorder) {
    const kids = tree.children[node];
    if (kids.length === 0) continue;
    cost += contexts[node] * (2 ** kids.length - 2);
    for (const child of kids) contexts[child] += contexts[node] * 2 ** (kids.length - 1);
  }
  return cost;
}

/** The coalitions of a group's children in its context, t = 1 … 2^k − 2 (t's bits say which children are present). */
function childCoalitions(tree: FlatTree, item: Item): Uint8Array[] {
  const kids = tree.children[item.node];
  const k = kids.length;
  const out: Uint8Array[] = [];
  for (let t = 1; t < (1 << k) - 1; t++) {
    const low = t & -t;
    const i = 31 - Math.clz32(low);
    const rest = t ^ low;
    const base = rest === 0 ? item.context : out[rest - 1];
    const mask = Uint8Array.from(base);
    const members = tree.members[kids[i]];
    for (let j = 0; j < mask.length; j++) if (members[j]) mask[j] = 1;
    out.push(mask);
  }
  return out;
}

/** Leaf credit plus every unexpanded credit spread over its node's features in proportion to their number. */
function currentValues(tree: FlatTree, leafCredit: Float64Array, heap: ItemHeap): Float64Array {
  const credit = new Float64Array(tree.children.length);
  for (const item of heap.items()) credit[item.node] += (item.f11 - item.f00) * item.weight;
  const values = Float64Array.from(leafCredit);
  for (const node of tree.preorder) {
    const c = credit[node];
    if (c === 0) continue;
    if (tree.feature[node] >= 0) values[tree.feature[node]] += c;
    else for (const child of tree.children[node]) credit[child] += (c * tree.size[child]) / tree.size[node];
  }
  return values;
}

/** Shapley weight of a coalition of s of the other k−1 players: s!(k−s−1)!/k!. */
function shapleyWeight(s: number, k: number): number {
  return 1 / (k * binomial(k - 1, s));
}

function popcount(m: number): number {
  let c = 0;
  while (m) {
    m &= m - 1;
    c++;
  }
  return c;
}

function makeItem(context: Uint8Array, f00: number, f11: number, node: number, weight: number, rng: SeededRandom): Item {
  return { context, f00, f11, node, weight, priority: Math.abs(f11 - f00) * weight, tie: rng.nextFloat() };
}

/** Max-heap on priority; equal priorities ordered by a seeded random key so the order is reproducible. */
class ItemHeap {
  private readonly data: Item[] = [];

  get size(): number {
    return this.data.length;
  }

  items(): readonly Item[] {
    return this.data;
  }

  peek(): Item {
    return this.data[0];
  }

  push(item: Item): void {
    const d = this.data;
    d.push(item);
    let i = d.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(d[i], d[p])) break;
      [d[i], d[p]] = [d[p], d[i]];
      i = p;
    }
  }

  pop(): Item {
    const d = this.data;
    const top = d[0];
    const last = d.pop() as Item;
    if (d.length > 0) {
      d[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < d.length && before(d[l], d[best])) best = l;
        if (r < d.length && before(d[r], d[best])) best = r;
        if (best === i) break;
        [d[i], d[best]] = [d[best], d[i]];
        i = best;
      }
    }
    return top;
  }
}

function before(a: Item, b: Item): boolean {
  return a.priority > b.priority || (a.priority === b.priority && a.tie < b.tie);
}
