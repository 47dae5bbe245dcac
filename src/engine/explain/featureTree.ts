/** A hierarchy over the features: a leaf names one feature, an inner node groups its children. */
export type FeatureTree = { children: FeatureTree[] } | { feature: number };

/** The tree flattened into arrays, children before nothing in particular; node 0 is the root. */
export interface FlatTree {
  /** For each node, the ids of its children (empty for a leaf). */
  children: number[][];
  /** For each node, its feature index, or −1 for an inner node. */
  feature: Int32Array;
  /** For each node, how many features it holds. */
  size: Int32Array;
  /** For each node, membership of its features (1 = in the node). */
  members: Uint8Array[];
  /** Node ids in pre-order (parents before children). */
  preorder: number[];
}

/**
 * Checks that the tree names every feature 0..n−1 exactly once and flattens it. Inner nodes with a single
 * child are collapsed into that child (they add no structure); empty inner nodes are an error.
 */
export function flattenTree(tree: FeatureTree, n: number): FlatTree {
  const children: number[][] = [];
  const feature: number[] = [];
  const size: number[] = [];
  const members: Uint8Array[] = [];
  const preorder: number[] = [];
  const seen = new Uint8Array(n);

  const visit = (node: FeatureTree, depth: number): number => {
    if (depth > 10_000) throw new Error('the feature hierarchy is too deep');
    if ('feature' in node) {
      const j = node.feature;
      if (!Number.isInteger(j) || j < 0 || j >= n) throw new Error(`the feature hierarchy names feature ${j}, but there are ${n} features`);
      if (seen[j]) throw new Error(`the feature hierarchy names feature ${j} twice`);
      seen[j] = 1;
      const id = children.length;
      children.push([]);
      feature.push(j);
      size.push(1);
      const m = new Uint8Array(n);
      m[j] = 1;
      members.push(m);
      preorder.push(id);
      return id;
    }
    if (!Array.isArray(node.children) || node.children.length === 0) throw new Error('the feature hierarchy has a group with no children');
    if (node.children.length === 1) return visit(node.children[0], depth + 1);
    const id = children.length;
    children.push([]);
    feature.push(-1);
    size.push(0);
    members.push(new Uint8Array(n));
    preorder.push(id);
    const kids = node.children.map((c) => visit(c, depth + 1));
    children[id] = kids;
    const m = members[id];
    let s = 0;
    for (const k of kids) {
      s += size[k];
      const km = members[k];
      for (let j = 0; j < n; j++) if (km[j]) m[j] = 1;
    }
    size[id] = s;
    return id;
  };

  const root = visit(tree, 0);
  if (root !== 0) throw new Error('internal: root must be node 0');
  for (let j = 0; j < n; j++) if (!seen[j]) throw new Error(`the feature hierarchy does not contain feature ${j}`);
  return { children, feature: Int32Array.from(feature), size: Int32Array.from(size), members, preorder };
}

/** A balanced binary tree over features 0..n−1 in order, so neighbours share the lowest groups. */
export function balancedTree(n: number): FeatureTree {
  if (n < 1) throw new Error('a feature hierarchy needs at least one feature');
  const build = (lo: number, hi: number): FeatureTree => {
    if (hi - lo === 1) return { feature: lo };
    const mid = lo + Math.ceil((hi - lo) / 2);
    return { children: [build(lo, mid), build(mid, hi)] };
  };
  return build(0, n);
}
