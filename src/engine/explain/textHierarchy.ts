import type { FeatureTree } from './featureTree';

/** A word (feature) of the text with its UTF-16 offsets. */
export interface TextWord {
  text: string;
  start: number;
  end: number;
}

const SENTENCE_END = /[.!?。！？]/;
/** Clause breaks: commas, semicolons, colons, dashes, brackets and double quotes (not apostrophes). */
const CLAUSE_BREAK = /[,;:—–()[\]{}"“”«»„、，；：]/;
const OPENERS = /^[([{"“«„]/;
const PARAGRAPH = /\n\s*\n/;

/**
 * A hierarchy over the words of a text for Partition SHAP, following the text's own structure: sentences
 * (split after . ! ? and at blank lines), then clauses (split at , ; : dashes, brackets and double quotes),
 * then balanced binary splits of each run of words, so neighbouring words share the lowest groups. Every
 * level is binary: a list of sentences or clauses is split where the word counts on both sides are closest to
 * even. Feature i is words[i]; the words are taken in the order given.
 */
export function buildTextHierarchy(words: TextWord[], text: string): FeatureTree {
  if (words.length === 0) throw new Error('a text hierarchy needs at least one word');
  let clause: number[] = [];
  const clauses: number[][][] = [];
  let currentClauses: number[][] = [];
  for (let i = 0; i < words.length; i++) {
    clause.push(i);
    if (i === words.length - 1) break;
    const gap = text.slice(words[i].end, words[i + 1].start);
    const endsSentence = SENTENCE_END.test(gap) || /[.!?。！？]["'”’)\]]*$/.test(words[i].text) || PARAGRAPH.test(gap);
    const endsClause =
      endsSentence || CLAUSE_BREAK.test(gap) || /[,;:—–)\]}"”»]$/.test(words[i].text) || OPENERS.test(words[i + 1].text);
    if (endsClause) {
      currentClauses.push(clause);
      clause = [];
    }
    if (endsSentence) {
      clauses.push(currentClauses);
      currentClauses = [];
    }
  }
  currentClauses.push(clause);
  clauses.push(currentClauses);

  const sentenceTrees = clauses.map((cs) => balancedBySize(cs.map((c) => ({ tree: balancedRun(c), size: c.length }))));
  return balancedBySize(sentenceTrees).tree;
}

interface Sized {
  tree: FeatureTree;
  size: number;
}

/** Balanced binary tree over consecutive word indices. */
function balancedRun(indices: number[]): FeatureTree {
  if (indices.length === 1) return { feature: indices[0] };
  const mid = Math.ceil(indices.length / 2);
  return { children: [balancedRun(indices.slice(0, mid)), balancedRun(indices.slice(mid))] };
}

/** Binary tree over consecutive groups, splitting where the word counts on the two sides are most even. */
function balancedBySize(parts: Sized[]): Sized {
  if (parts.length === 1) return parts[0];
  const total = parts.reduce((s, p) => s + p.size, 0);
  let best = 1;
  let bestGap = Infinity;
  let left = 0;
  for (let k = 1; k < parts.length; k++) {
    left += parts[k - 1].size;
    const gap = Math.abs(2 * left - total);
    if (gap < bestGap) {
      bestGap = gap;
      best = k;
    }
  }
  const l = balancedBySize(parts.slice(0, best));
  const r = balancedBySize(parts.slice(best));
  return { tree: { children: [l.tree, r.tree] }, size: total };
}

/** A word of a sentence pair: `segment` says which text it is in, and its offsets are into that text. */
export interface PairWord extends TextWord {
  segment: 0 | 1;
}

/**
 * A hierarchy over the words of a sentence pair: the two texts are the root's two groups, each with its own
 * structure (buildTextHierarchy over that text). Partition SHAP then first splits the credit between the
 * texts, then within each. Feature i is words[i]; a text without words leaves the other as the whole tree.
 */
export function buildPairHierarchy(words: PairWord[], text: string, textPair: string): FeatureTree {
  const sides = ([0, 1] as const).map((segment) => {
    const indices = words.flatMap((w, i) => (w.segment === segment ? [i] : []));
    if (indices.length === 0) return undefined;
    const tree = buildTextHierarchy(indices.map((i) => words[i]), segment === 0 ? text : textPair);
    return renumber(tree, indices);
  });
  const present = sides.filter((t): t is FeatureTree => t !== undefined);
  if (present.length === 0) throw new Error('a text hierarchy needs at least one word');
  return present.length === 1 ? present[0] : { children: present };
}

/** The same tree with leaf k standing for feature indices[k]. */
function renumber(tree: FeatureTree, indices: number[]): FeatureTree {
  return 'feature' in tree ? { feature: indices[tree.feature] } : { children: tree.children.map((c) => renumber(c, indices)) };
}
