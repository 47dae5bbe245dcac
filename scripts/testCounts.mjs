// What each tier of `npm test` reports: passed, failed and skipped tests, read from the tier's own output, and
// the closing line that sums them. A skip is never silent: each is named, and counted per tier.

/**
 * Counts of a `node --test --test-reporter=spec` run. Skips are read from the reporter's `﹣ name (…ms) # reason`
 * lines, not from its `ℹ skipped` total, which leaves out a whole `describe` skipped with its tests.
 * @returns {{ passed: number, failed: number, skipped: string[] }}
 */
export function nodeTestCounts(text) {
  const pass = /^ℹ pass (\d+)/m.exec(text);
  const fail = /^ℹ fail (\d+)/m.exec(text);
  const skipped = [...text.matchAll(/^\s*﹣ (.+?) \([\d.]+m?s\)(?: # (.*))?$/gm)].map((m) => (m[2] && m[2] !== 'SKIP' ? `${m[1]} (${m[2]})` : m[1]));
  return { passed: pass ? Number(pass[1]) : 0, failed: fail ? Number(fail[1]) : 0, skipped };
}

/**
 * Counts of a tier that ends with `N passed, N failed` — optionally `(K skipped)`, with the skipped tests listed
 * above it as `  - name` after a line `K skipped …` (test/integration/index.ts); the last such line counts.
 * @returns {{ passed: number, failed: number, skipped: string[] }}
 */
export function summaryCounts(text) {
  const m = [...text.matchAll(/^(?:\S+: )?(\d+) passed, (\d+) failed(?: \((\d+) skipped\))?/gm)].pop();
  if (!m) return { passed: 0, failed: 0, skipped: [] };
  const listed = /^\d+ skipped\b.*\n((?: {2}- .*\n?)+)/m.exec(text);
  const names = listed ? listed[1].split('\n').filter(Boolean).map((l) => l.replace(/^ {2}- /, '')) : [];
  const count = Number(m[3] ?? 0);
  const skipped = names.length === count ? names : Array.from({ length: count }, (_, i) => names[i] ?? `skipped test ${i + 1}`);
  return { passed: Number(m[1]), failed: Number(m[2]), skipped };
}

/**
 * The closing line of a run: `N passed, N failed, N skipped (unit 0, integration 0, e2e 0)`; it starts with
 * `N passed, N failed` so that readers of the older line still find it.
 * @param {{ passed: number, failed: number, skippedByTier: Record<string, number> }} totals
 */
export function closingLine({ passed, failed, skippedByTier }) {
  const tiers = Object.entries(skippedByTier);
  const skipped = tiers.reduce((sum, [, n]) => sum + n, 0);
  return `${passed} passed, ${failed} failed, ${skipped} skipped${tiers.length ? ` (${tiers.map(([tier, n]) => `${tier} ${n}`).join(', ')})` : ''}`;
}

/**
 * What a run says about its skips: each skipped test named, by tier; and when the VS Code tools, Chromium included,
 * were installed (or found) for this run, nothing a test could need was missing, so the skips fail the run.
 * `addFailed` is what they add to the failed count: the integration tier counts its skips among its failures already.
 * @param {Record<string, string[]>} skippedByTier
 * @param {boolean} toolsInstalled
 * @returns {{ lines: string[], fails: boolean, addFailed: number }}
 */
export function skipReport(skippedByTier, toolsInstalled) {
  const skips = Object.entries(skippedByTier).flatMap(([tier, names]) => names.map((name) => `${tier}: ${name}`));
  if (skips.length === 0) return { lines: [], fails: false, addFailed: 0 };
  const lines = ['skipped:', ...skips.map((s) => `  - ${s}`)];
  if (!toolsInstalled) return { lines, fails: false, addFailed: 0 };
  lines.push(`${skips.length} skipped with the VS Code tools, Chromium included, installed for this run: a skip fails the run`);
  return { lines, fails: true, addFailed: skips.length - (skippedByTier.integration?.length ?? 0) };
}
