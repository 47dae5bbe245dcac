import { codePointLength, isAllWhitespace } from './unicodeClasses';

/**
 * A piece of text after normalization, remembering for each of its UTF-16 units which range of the
 * original text produced it (like Hugging Face's `NormalizedString`). Every transformation keeps the
 * alignment, so a token found in normalized text maps back to exact editor positions.
 *
 * Instances are immutable; slices share the alignment arrays.
 */
export class NormalizedString {
  private constructor(
    /** The original text of the whole sequence (not only this piece). */
    readonly original: string,
    /** The normalized text. */
    readonly text: string,
    /** `starts[i]`..`ends[i]`: the original UTF-16 range behind unit `i` of `text`. */
    readonly starts: Int32Array,
    readonly ends: Int32Array,
    /** Where this piece sits in the original, used when the text is empty. */
    readonly anchor: number,
  ) {}

  /** The identity alignment for `original.slice(start, end)`. Surrogate pairs align as a whole. */
  static fromOriginal(original: string, start = 0, end = original.length): NormalizedString {
    const n = end - start;
    const starts = new Int32Array(n);
    const ends = new Int32Array(n);
    for (let i = start; i < end; ) {
      const len = Math.min(codePointLength(original, i), end - i);
      for (let k = 0; k < len; k++) {
        starts[i - start + k] = i;
        ends[i - start + k] = i + len;
      }
      i += len;
    }
    return new NormalizedString(original, original.slice(start, end), starts, ends, start);
  }

  get length(): number {
    return this.text.length;
  }

  /** Where in the original this piece begins. */
  get originalStart(): number {
    return this.text.length > 0 ? this.starts[0] : this.anchor;
  }

  /** Units `a`..`b` of this piece, keeping their alignment. */
  slice(a: number, b: number): NormalizedString {
    const anchor = a < this.text.length ? this.starts[a] : this.text.length > 0 ? this.ends[this.text.length - 1] : this.anchor;
    return new NormalizedString(this.original, this.text.slice(a, b), this.starts.subarray(a, b), this.ends.subarray(a, b), anchor);
  }

  /**
   * Replaces each code point by `fn(codePoint)` (zero or more units). Every output unit aligns to the
   * range of the code point it came from, so lowercasing `İ` into two units or deleting a control
   * character keeps the neighbours exact.
   */
  mapCodePoints(fn: (ch: string) => string): NormalizedString {
    const b = new AlignmentBuilder(this);
    const t = this.text;
    for (let i = 0; i < t.length; ) {
      const len = codePointLength(t, i);
      const ch = len === 1 ? t[i] : t.slice(i, i + len);
      b.push(fn(ch), i, i + len);
      i += len;
    }
    return b.build();
  }

  /**
   * Unicode normalization with alignment. Text is cut into clusters (a code point and the combining
   * marks after it) — composition never crosses a cluster edge — and each cluster is normalized alone.
   * Inside a cluster, output aligns per code point when normalization works per code point (NFD of
   * `é`, NFKC of `ﬁ`), otherwise the whole output aligns to the whole cluster (`e` + U+0301 → `é`).
   */
  normalizeForm(form: 'NFC' | 'NFD' | 'NFKC' | 'NFKD'): NormalizedString {
    const t = this.text;
    if (t.normalize(form) === t) return this;
    const b = new AlignmentBuilder(this);
    let i = 0;
    while (i < t.length) {
      let j = i + codePointLength(t, i);
      while (j < t.length && isClusterContinuation(t, j)) j += codePointLength(t, j);
      const cluster = t.slice(i, j);
      const out = cluster.normalize(form);
      if (out === cluster) {
        b.copy(i, j);
      } else {
        const perChar: Array<[string, number, number]> = [];
        let joined = '';
        for (let k = i; k < j; ) {
          const len = codePointLength(t, k);
          const piece = t.slice(k, k + len).normalize(form);
          perChar.push([piece, k, k + len]);
          joined += piece;
          k += len;
        }
        if (joined === out) for (const [piece, a, z] of perChar) b.push(piece, a, z);
        else b.push(out, i, j);
      }
      i = j;
    }
    return b.build();
  }

  /**
   * Replaces every match of `pattern` (global) by `content`; the replacement aligns to the matched range.
   * Empty matches are skipped.
   */
  replaceAll(pattern: RegExp, content: string): NormalizedString {
    const t = this.text;
    const re = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : pattern.flags + 'g');
    const b = new AlignmentBuilder(this);
    let last = 0;
    let changed = false;
    for (let m = re.exec(t); m !== null; m = re.exec(t)) {
      if (m[0].length === 0) {
        re.lastIndex++;
        continue;
      }
      b.copy(last, m.index);
      b.push(content, m.index, m.index + m[0].length);
      last = m.index + m[0].length;
      changed = true;
    }
    if (!changed) return this;
    b.copy(last, t.length);
    return b.build();
  }

  /** Adds `prefix` in front; the added units align to an empty range where the text starts. */
  prepend(prefix: string): NormalizedString {
    if (this.text.length === 0 || prefix.length === 0) return this;
    const at = this.starts[0];
    const n = prefix.length + this.text.length;
    const starts = new Int32Array(n);
    const ends = new Int32Array(n);
    starts.fill(at, 0, prefix.length);
    ends.fill(at, 0, prefix.length);
    starts.set(this.starts, prefix.length);
    ends.set(this.ends, prefix.length);
    return new NormalizedString(this.original, prefix + this.text, starts, ends, this.anchor);
  }

  /** Removes leading and/or trailing whitespace. */
  strip(left: boolean, right: boolean): NormalizedString {
    const t = this.text;
    let a = 0;
    let z = t.length;
    if (left) while (a < z && isAllWhitespace(t[a])) a++;
    if (right) while (z > a && isAllWhitespace(t[z - 1])) z--;
    return a === 0 && z === t.length ? this : this.slice(a, z);
  }

  /**
   * The original range behind units `a`..`b`, without units that came from whitespace or from nothing
   * (a prepended `▁` or prefix space) at either end — the range an editor should highlight for a token
   * like `Ġhello`. A token made only of such units keeps its whole range.
   */
  originalRange(a: number, b: number): { start: number; end: number } {
    if (b <= a) {
      const at = a < this.text.length ? this.starts[a] : this.text.length > 0 ? this.ends[this.text.length - 1] : this.anchor;
      return { start: at, end: at };
    }
    let lo = a;
    let hi = b;
    while (lo < hi && this.isBlankUnit(lo)) lo++;
    while (hi > lo && this.isBlankUnit(hi - 1)) hi--;
    if (lo === hi) {
      lo = a;
      hi = b;
    }
    let start = Number.MAX_SAFE_INTEGER;
    let end = -1;
    for (let i = lo; i < hi; i++) {
      if (this.starts[i] < start) start = this.starts[i];
      if (this.ends[i] > end) end = this.ends[i];
    }
    return { start, end };
  }

  private isBlankUnit(i: number): boolean {
    const s = this.starts[i];
    const e = this.ends[i];
    return s === e || isAllWhitespace(this.original.slice(s, e));
  }

  /** @internal used by the alignment builder */
  static create(original: string, text: string, starts: Int32Array, ends: Int32Array, anchor: number): NormalizedString {
    return new NormalizedString(original, text, starts, ends, anchor);
  }
}

function isClusterContinuation(t: string, j: number): boolean {
  const c = t.codePointAt(j) ?? 0;
  // Hangul vowel and trailing jamo compose with the syllable before them without being marks.
  if ((c >= 0x1160 && c <= 0x11ff) || (c >= 0xd7b0 && c <= 0xd7ff)) return true;
  return /^\p{M}$/u.test(String.fromCodePoint(c));
}

/** Builds a new aligned string from pieces of an old one. */
class AlignmentBuilder {
  private readonly parts: string[] = [];
  private starts: Int32Array;
  private ends: Int32Array;
  private n = 0;

  constructor(private readonly from: NormalizedString) {
    this.starts = new Int32Array(Math.max(16, from.length + 16));
    this.ends = new Int32Array(this.starts.length);
  }

  private reserve(extra: number): void {
    if (this.n + extra <= this.starts.length) return;
    const size = Math.max(this.starts.length * 2, this.n + extra);
    const s = new Int32Array(size);
    const e = new Int32Array(size);
    s.set(this.starts.subarray(0, this.n));
    e.set(this.ends.subarray(0, this.n));
    this.starts = s;
    this.ends = e;
  }

  /** Appends `text`, every unit aligned to the union of the source units `a`..`b`. */
  push(text: string, a: number, b: number): void {
    if (text.length === 0) return;
    let start = this.from.starts[a];
    let end = this.from.ends[b - 1];
    for (let i = a + 1; i < b; i++) if (this.from.starts[i] < start) start = this.from.starts[i];
    for (let i = a; i < b - 1; i++) if (this.from.ends[i] > end) end = this.from.ends[i];
    this.reserve(text.length);
    this.starts.fill(start, this.n, this.n + text.length);
    this.ends.fill(end, this.n, this.n + text.length);
    this.n += text.length;
    this.parts.push(text);
  }

  /** Appends source units `a`..`b` unchanged. */
  copy(a: number, b: number): void {
    if (b <= a) return;
    this.reserve(b - a);
    this.starts.set(this.from.starts.subarray(a, b), this.n);
    this.ends.set(this.from.ends.subarray(a, b), this.n);
    this.n += b - a;
    this.parts.push(this.from.text.slice(a, b));
  }

  build(): NormalizedString {
    return NormalizedString.create(
      this.from.original,
      this.parts.join(''),
      this.starts.slice(0, this.n),
      this.ends.slice(0, this.n),
      this.from.originalStart,
    );
  }
}
