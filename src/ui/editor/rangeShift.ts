/**
 * Keeps highlighted ranges on their words while the document is edited. Ranges are character
 * offsets; a change is the offset, length and new text that VS Code reports. A range whose own
 * text changes is dropped (its attribution no longer describes what is there); ranges after a
 * change move by the change's length difference.
 */

const WORD_CHAR_AT_END = /[\p{L}\p{N}_]$/u;
const WORD_CHAR_AT_START = /^[\p{L}\p{N}_]/u;

export interface OffsetRange {
  start: number;
  end: number;
}

export interface TextChange {
  rangeOffset: number;
  rangeLength: number;
  text: string;
}

/**
 * Applies one change to a list of ranges. Returns the surviving ranges, in order, as new objects
 * carrying the other fields of each input.
 */
export function shiftRanges<T extends OffsetRange>(ranges: readonly T[], change: TextChange): T[] {
  const changeStart = change.rangeOffset;
  const changeEnd = change.rangeOffset + change.rangeLength;
  const delta = change.text.length - change.rangeLength;
  const out: T[] = [];
  for (const r of ranges) {
    if (changeEnd <= r.start) {
      // Letters typed right before the word make it another word; a space or punctuation does not.
      if (changeEnd === r.start && WORD_CHAR_AT_END.test(change.text)) continue;
      out.push({ ...r, start: r.start + delta, end: r.end + delta });
    } else if (changeStart >= r.end) {
      if (changeStart === r.end && WORD_CHAR_AT_START.test(change.text)) continue;
      out.push(r);
    } else {
      // Overlaps the word or inserts inside it: the word is no longer the one that was explained.
      continue;
    }
  }
  return out;
}

/**
 * Applies the changes of one change event. VS Code lists them with offsets into the document as it
 * was before the event, sorted from the end backwards for multi-cursor edits; applying from the
 * highest offset down keeps earlier offsets valid.
 */
export function applyChanges<T extends OffsetRange>(ranges: readonly T[], changes: readonly TextChange[]): T[] {
  const ordered = [...changes].sort((a, b) => b.rangeOffset - a.rangeOffset);
  let current = [...ranges];
  for (const c of ordered) current = shiftRanges(current, c);
  return current;
}
