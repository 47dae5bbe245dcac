import { TokenizerError } from './tokenizerError';

/**
 * Compiles a regular expression written for Oniguruma (the engine behind Hugging Face's Rust
 * tokenizers) into a JavaScript `RegExp` with the `u` flag. Covers what tokenizer files use:
 * `\s`/`\S` as the Unicode White_Space property, inline case-insensitive groups `(?i:…)` (expanded into
 * case classes, since Node 20 has no inline modifiers), atomic groups and possessive quantifiers
 * (accepted as ordinary ones), `\A`, `\z`, `\Z`, and `\h` (hex digit).
 */
export function compileOnigurumaPattern(pattern: string): RegExp {
  let out = '';
  let inClass = 0;
  const ciStack: boolean[] = [];
  let ci = false;
  // Whether the previous item was a quantifier, so a following `+` is possessive and `?` lazy.
  let afterQuantifier = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    const quantifierBefore = afterQuantifier;
    afterQuantifier = false;
    if (c === '\\') {
      const n = pattern[i + 1] ?? '';
      i++;
      if (n === 's') out += '\\p{White_Space}';
      else if (n === 'S') out += '\\P{White_Space}';
      else if (n === 'A' && !inClass) out += '^';
      else if (n === 'z' && !inClass) out += '$';
      else if (n === 'Z' && !inClass) out += '(?=\\n?$)';
      else if (n === 'h') out += inClass ? '0-9a-fA-F' : '[0-9a-fA-F]';
      else if (n === 'p' || n === 'P' || n === 'x' || n === 'u') {
        // Copy the escape with its braces untouched.
        let j = i + 1;
        if (pattern[j] === '{') {
          const close = pattern.indexOf('}', j);
          j = close < 0 ? pattern.length : close + 1;
        } else if (n === 'x') j = i + 3;
        else if (n === 'u') j = i + 5;
        out += '\\' + n + pattern.slice(i + 1, j);
        i = j - 1;
      } else out += '\\' + n;
      continue;
    }
    if (inClass) {
      if (c === '[') inClass++;
      else if (c === ']') inClass--;
      if (ci && /[a-zA-Z]/.test(c)) {
        if (pattern[i + 1] === '-' && /[a-zA-Z]/.test(pattern[i + 2] ?? '')) {
          const z = pattern[i + 2];
          out += `${c.toLowerCase()}-${z.toLowerCase()}${c.toUpperCase()}-${z.toUpperCase()}`;
          i += 2;
        } else out += c.toLowerCase() + c.toUpperCase();
        continue;
      }
      out += c;
      continue;
    }
    if (c === '[') {
      inClass = 1;
      out += c;
      if (pattern[i + 1] === '^') out += pattern[++i];
      continue;
    }
    if (c === '(') {
      ciStack.push(ci);
      if (pattern.startsWith('(?i:', i)) {
        ci = true;
        out += '(?:';
        i += 3;
      } else if (pattern.startsWith('(?>', i)) {
        out += '(?:';
        i += 2;
      } else out += c;
      continue;
    }
    if (c === ')') {
      ci = ciStack.pop() ?? false;
      out += c;
      continue;
    }
    if ((c === '+' || c === '?') && quantifierBefore) {
      if (c === '+') continue; // possessive quantifier: JavaScript has none; the greedy one matches the same here
      out += c; // lazy quantifier
      continue;
    }
    if (c === '*' || c === '+' || c === '?') {
      out += c;
      afterQuantifier = true;
      continue;
    }
    if (c === '{' && /^\{\d*(,\d*)?\}/.test(pattern.slice(i))) {
      const close = pattern.indexOf('}', i);
      out += pattern.slice(i, close + 1);
      i = close;
      afterQuantifier = true;
      continue;
    }
    if (ci && /[a-zA-Z]/.test(c)) {
      out += `[${c.toLowerCase()}${c.toUpperCase()}]`;
      continue;
    }
    out += c;
  }
  try {
    return new RegExp(out, 'gu');
  } catch (e) {
    throw new TokenizerError(
      `The tokenizer's regular expression /${pattern}/ cannot be used here (${(e as Error).message}).`,
      'unsupported',
    );
  }
}

/** Escapes a literal string for use inside a `RegExp`. */
export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\\/-]/g, '\\$&');
}
