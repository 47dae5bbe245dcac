/**
 * The stretch of a document live mode follows when it was switched on with text selected: a range of
 * offsets that follows the edits made to the document, growing as the user types inside it or at its ends.
 */
import type { OffsetRange, TextChange } from '../editor/rangeShift';

/**
 * The region after one edit (offsets as VS Code reports them, into the document before the edit): edits
 * before it move it, edits inside it or touching it grow or shrink it, edits after it leave it alone.
 * Undefined when the edit removed all of it.
 */
export function regionAfterEdit(region: OffsetRange, change: TextChange): OffsetRange | undefined {
  const changeStart = change.rangeOffset;
  const changeEnd = change.rangeOffset + change.rangeLength;
  const delta = change.text.length - change.rangeLength;
  if (changeEnd < region.start) return { start: region.start + delta, end: region.end + delta };
  if (changeStart > region.end) return region;
  const start = Math.min(region.start, changeStart);
  const end = Math.max(region.end, changeEnd) + delta;
  return end > start ? { start, end } : undefined;
}

/** The region after the changes of one change event (applied from the highest offset down, as VS Code lists them). */
export function regionAfterEdits(region: OffsetRange, changes: readonly TextChange[]): OffsetRange | undefined {
  let current: OffsetRange | undefined = region;
  for (const c of [...changes].sort((a, b) => b.rangeOffset - a.rangeOffset)) {
    if (!current) return undefined;
    current = regionAfterEdit(current, c);
  }
  return current;
}
