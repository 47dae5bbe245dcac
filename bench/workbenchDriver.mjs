// Driving the real VS Code UI for the benchmarks that need it (uiLatency.mjs, liveMode.mjs): code-server with
// the extension, the workbench in headless Chromium through playwright-core, the Command Palette, the
// "ONNX Lens" output log read back with its time stamps, and the helpers that print the tables.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchBrowser } from '../scripts/vscode/browser.mjs';
import { repoRoot, sleep, startCodeServer } from '../scripts/vscode/codeServer.mjs';

const DEMO = join(repoRoot, 'models', 'demo-sentiment');
/** Progress lines on standard error (the tables go to standard output). */
export const log = (m) => process.stderr.write(`  ${m}\n`);


const temp = [];
/** A temporary folder, removed when the process exits (or by cleanTemp). */
export function tempDir() {
  const d = mkdtempSync(join(tmpdir(), 'onnx-lens-bench-'));
  temp.push(d);
  return d;
}
export function cleanTemp() {
  for (const d of temp.splice(0)) rmSync(d, { recursive: true, force: true });
}
process.on('exit', cleanTemp);

export const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
export const range = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x));
  return s.length ? `${fmt(Math.min(...s))}–${fmt(Math.max(...s))}` : '–';
};
export function fmt(x, digits = 2) {
  if (typeof x === 'string') return x;
  if (!Number.isFinite(x)) return '–';
  if (Number.isInteger(x)) return x.toLocaleString('en-US');
  if (Math.abs(x) >= 1000) return Math.round(x).toLocaleString('en-US');
  if (Math.abs(x) >= 100) return x.toFixed(0);
  if (Math.abs(x) >= 10) return x.toFixed(1);
  return x.toFixed(digits);
}
/** Prints a markdown table (numbers formatted by fmt) with notes under it. */
export function printTable(title, header, rows, notes = []) {
  const line = (r) => `| ${r.map((c) => fmt(c)).join(' | ')} |`;
  const out = [`\n### ${title}\n`, line(header), line(header.map(() => '---')), ...rows.map(line)];
  if (notes.length) out.push('', ...notes.map((n) => `- ${n}`));
  process.stdout.write(out.join('\n') + '\n');
}
export const kb = (bytes) => `${(bytes / 1024).toFixed(bytes < 10240 ? 1 : 0)} KiB`;

/** Sentences of the demo model's heldout.tsv. */
export function sentences() {
  return readFileSync(join(DEMO, 'heldout.tsv'), 'utf8')
    .split('\n')
    .map((l) => l.split('\t')[0].trim())
    .filter(Boolean);
}
/** `count` words of consecutive sentences from `start` on. */
export function words(all, start, count) {
  const out = [];
  for (let i = start; out.length < count; i++) out.push(...all[i % all.length].split(/\s+/).filter(Boolean));
  return out.slice(0, count).join(' ');
}


// ------------------------------------------------------------------------------- the output log

/** The newest "ONNX Lens" output channel log of a server (a reload starts a new one). */
export function outputLog(server) {
  const found = [];
  const walk = (dir) => {
    let entries = [];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/ONNX Lens\.log$/.test(e.name)) found.push(p);
    }
  };
  walk(join(server.userDataDir, 'logs'));
  found.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return found[0];
}

/** Log lines as { at: ms since the epoch, text }; the channel stamps UTC time of day to the millisecond. */
export function logLines(server) {
  const file = outputLog(server);
  if (!file) return [];
  const today = Date.now() - (Date.now() % 86_400_000);
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => /^(?:\S+ \S+ \[\w+\] )?(\d\d):(\d\d):(\d\d)\.(\d{3})\s+(.*)$/.exec(l))
    .filter(Boolean)
    .map((m) => {
      let at = today + ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1000 + Number(m[4]);
      if (at > Date.now() + 60_000) at -= 86_400_000;
      return { at, text: m[5] };
    });
}

export async function waitForLog(server, re, since, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const hit = logLines(server).find((l) => l.at >= since - 5 && re.test(l.text));
    if (hit) return hit;
    await sleep(100);
  }
  throw new Error(`no log line ${re} (log: ${outputLog(server) ?? 'none'})`);
}

/** The duration of a "…: done in 412 ms" or "…: done in 9.05 s" log line, in ms (the log switches to seconds at 1 s). */
export function loggedMs(text) {
  const m = /done in ([\d.]+) (ms|s)\b/.exec(text);
  return m ? Number(m[1]) * (m[2] === 's' ? 1000 : 1) : NaN;
}

// --------------------------------------------------------------------------------- the workbench

/**
 * code-server with the extension (the VSIX, or this folder as the development extension) and a workspace holding
 * `workspaceFiles`, opened in headless Chromium. `options`: { dev, vsixPath, verbose }.
 */
export async function openWorkbench(settings, workspaceFiles, { dev, vsixPath, verbose = false }) {
  const server = await startCodeServer({
    theme: 'dark',
    installExtensions: dev ? [] : [vsixPath],
    settings: {
      'editor.wordWrap': 'off',
      'editor.minimap.enabled': false,
      'workbench.editor.enablePreview': false,
      ...settings,
    },
    log: verbose ? undefined : () => {},
  });
  const workspace = join(server.scratch, 'workspace');
  mkdirSync(workspace, { recursive: true });
  for (const [name, text] of Object.entries(workspaceFiles)) writeFileSync(join(workspace, name), text);
  const context = await launchBrowser(server);
  await context.exposeFunction('codeAutomationLog', () => {});
  await context.exposeFunction('codeAutomationExit', () => {});
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(30_000);
  if (verbose) page.on('console', (m) => log(`[browser ${m.type()}] ${m.text()}`));
  let url = `${server.url}/?folder=${encodeURIComponent(workspace)}`;
  if (dev) {
    url += `&payload=${encodeURIComponent(JSON.stringify([['extensionDevelopmentPath', `vscode-remote://127.0.0.1:${server.port}${repoRoot}`], ['skipWelcome', 'true']]))}`;
  }
  await page.goto(url);
  await waitWorkbench(page);
  return {
    server,
    page,
    async close() {
      try {
        await context.close();
      } catch {}
      await server.stop();
    },
  };
}

export async function waitWorkbench(page) {
  await page.locator('.monaco-workbench').waitFor({ timeout: 90_000 });
  await page.locator('.activitybar').waitFor({ timeout: 60_000 });
}

export const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export async function closeQuickInput(page) {
  const focused = await page.evaluate(() => !!document.activeElement?.closest('.quick-input-widget')).catch(() => false);
  if (focused) {
    await page.keyboard.press('Escape');
    await page.locator('.quick-input-widget').first().waitFor({ state: 'hidden', timeout: 3000 }).catch(() => {});
  }
}

/**
 * Opens the Command Palette on `title` and waits until it is the focused row; `go()` then presses Enter and
 * returns the time it did (the command starts there).
 */
export async function prepareCommand(page, title, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  const input = page.locator('.quick-input-widget .quick-input-box input');
  while (true) {
    await closeQuickInput(page);
    await page.keyboard.press('F1');
    try {
      await input.waitFor({ state: 'visible', timeout: 5000 });
      await input.fill(`>${title}`);
      const focused = page
        .locator('.quick-input-list .monaco-list-row.focused')
        .filter({ has: page.locator('.label-name', { hasText: new RegExp(`^\\s*${escapeRe(title)}\\s*$`) }) })
        .first();
      await focused.waitFor({ state: 'visible', timeout: 2500 });
      return {
        async go() {
          const at = Date.now();
          await page.keyboard.press('Enter');
          return at;
        },
      };
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`command "${title}" not found: ${err.message}`);
      await sleep(1000);
    }
  }
}
export async function runCommand(page, title) {
  const c = await prepareCommand(page, title);
  const at = await c.go();
  await page.locator('.quick-input-widget').first().waitFor({ state: 'hidden', timeout: 5000 }).catch(() => {});
  return at;
}

export async function openFile(page, name) {
  const input = page.locator('.quick-input-widget .quick-input-box input');
  for (let i = 0; i < 15; i++) {
    await closeQuickInput(page);
    await page.keyboard.press('Control+P');
    await input.waitFor({ state: 'visible', timeout: 5000 });
    await input.fill(name);
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first();
    try {
      await row.waitFor({ state: 'visible', timeout: 3000 });
      await row.click();
      await page.locator('.editor-instance .monaco-editor .view-lines').first().waitFor({ timeout: 10_000 });
      return;
    } catch {
      await sleep(1000);
    }
  }
  throw new Error(`could not open ${name}`);
}

/** Selects one whole line of the first editor group (word wrap is off, so End is the end of the line). */
export async function selectLine(page, line) {
  await page.keyboard.press('Control+1');
  await page.keyboard.press('Control+G');
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ state: 'visible', timeout: 5000 });
  await input.fill(`:${line}`);
  await page.keyboard.press('Enter');
  await input.waitFor({ state: 'hidden', timeout: 5000 });
  await page.keyboard.press('Home');
  await page.keyboard.press('Home');
  await page.keyboard.press('Shift+End');
  await page.locator('.editor-instance .monaco-editor .selected-text').first().waitFor({ timeout: 5000 });
}

