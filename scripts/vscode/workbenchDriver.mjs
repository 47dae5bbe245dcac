// Driving VS Code's web workbench (code-server, shown in headless Chromium through playwright-core), for the
// end-to-end test (test/e2e/workbench.e2e.mjs), the UI benchmarks (bench/uiLatency.mjs, bench/liveMode.mjs)
// and the integration runner: the workbench's address, opening it on a workspace, the Command Palette, Quick
// Open, Go to Line, the webviews' frames, what the workbench shows when something fails, and the "ONNX Lens"
// output log read back with its time stamps.
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launchBrowser } from './browser.mjs';
import { repoRoot, sleep, startCodeServer } from './codeServer.mjs';

/**
 * The workbench's address for `folder`; with `extensionPath` that folder is loaded as the development extension,
 * with `testsPath` the workbench's smoke-test driver also runs that test entry (both paths as code-server sees them).
 */
export function workbenchUrl(server, folder, { extensionPath, testsPath } = {}) {
  let url = `${server.url}/?folder=${encodeURIComponent(folder)}`;
  if (extensionPath) {
    // The URIs must name the host and port the page is loaded from.
    const remote = (p) => `vscode-remote://127.0.0.1:${server.port}${p}`;
    const payload = [['extensionDevelopmentPath', remote(extensionPath)], ...(testsPath ? [['extensionTestsPath', remote(testsPath)]] : []), ['skipWelcome', 'true']];
    url += `&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  }
  return url;
}

/**
 * code-server with the extension — the VSIX `vsixPath` installed, or with `dev` the folder `extensionPath` as the
 * development extension — and a workspace folder, opened in Chromium. The workspace gets `files` (name → text),
 * then `prepareWorkspace(folder)` runs. `browser`: extra launch options (colorScheme, headless, …);
 * `smokeTestDriver`: see startCodeServer; `onPage(page)` runs before the workbench loads (listeners, a page to
 * picture on failure). When the workbench does not load, everything started is stopped again.
 * @returns {Promise<{ server: object, context: object, page: object, workspace: string, close(): Promise<void> }>}
 */
export async function openWorkbench({
  theme = 'dark',
  dev = false,
  vsixPath,
  extensionPath = repoRoot,
  settings = {},
  files = {},
  prepareWorkspace,
  browser = {},
  smokeTestDriver,
  verbose = false,
  serverLog,
  onPage,
} = {}) {
  const server = await startCodeServer({ theme, installExtensions: dev ? [] : [vsixPath], settings, smokeTestDriver, log: serverLog });
  let context;
  const close = async () => {
    try {
      await context?.close();
    } catch {}
    await server.stop();
  };
  try {
    const workspace = join(server.scratch, 'workspace');
    mkdirSync(workspace, { recursive: true });
    for (const [name, text] of Object.entries(files)) writeFileSync(join(workspace, name), text);
    await prepareWorkspace?.(workspace);
    context = await launchBrowser(server, browser);
    // Without a test runner in the payload these are never called; exposed anyway so a stray call is harmless.
    await context.exposeFunction('codeAutomationLog', () => {});
    await context.exposeFunction('codeAutomationExit', () => {});
    const page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(30_000);
    if (verbose) page.on('console', (m) => process.stderr.write(`[browser ${m.type()}] ${m.text()}\n`));
    await onPage?.(page);
    await page.goto(workbenchUrl(server, workspace, dev ? { extensionPath } : {}));
    await waitWorkbench(page);
    return { server, context, page, workspace, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Waits until the workbench shows its activity bar. */
export async function waitWorkbench(page) {
  await page.locator('.monaco-workbench').waitFor({ timeout: 90_000 });
  await page.locator('.activitybar').waitFor({ timeout: 60_000 });
}

/** `s` as a regular expression that matches it literally. */
export const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Closes the Command Palette or Quick Open when it has the focus (Escape in the editor would drop the selection). */
export async function closeQuickInput(page) {
  const focused = await page.evaluate(() => !!document.activeElement?.closest('.quick-input-widget')).catch(() => false);
  if (focused) {
    await page.keyboard.press('Escape');
    await page.locator('.quick-input-widget').first().waitFor({ state: 'hidden', timeout: 3000 }).catch(() => {});
  }
}

/**
 * Opens the Command Palette on `title` and waits until the command's row is there, retrying (contributions show
 * only after activation). `go()` then runs it — Enter on the focused row, or a click on the row — and returns the
 * time it did (where the command starts, for the benchmarks).
 */
export async function prepareCommand(page, title, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  const input = page.locator('.quick-input-widget .quick-input-box input');
  const label = new RegExp(`^\\s*${escapeRe(title)}\\s*$`);
  for (;;) {
    await closeQuickInput(page);
    await page.keyboard.press('F1');
    try {
      await input.waitFor({ state: 'visible', timeout: 5000 });
      await input.fill(`>${title}`);
      const row = page.locator('.quick-input-list .monaco-list-row').filter({ has: page.locator('.label-name', { hasText: label }) }).first();
      await row.waitFor({ state: 'visible', timeout: 2500 });
      return {
        async go() {
          const focused = await row.evaluate((el) => el.classList.contains('focused')).catch(() => false);
          const at = Date.now();
          if (focused) await page.keyboard.press('Enter');
          else await row.click();
          return at;
        },
      };
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`command "${title}" not found in the Command Palette: ${err.message}`);
      await sleep(1000);
    }
  }
}

/** Runs a command from the Command Palette by its title; returns the time it started. */
export async function runCommand(page, title, timeoutMs = 60_000) {
  const at = await (await prepareCommand(page, title, timeoutMs)).go();
  await page.locator('.quick-input-widget').first().waitFor({ state: 'hidden', timeout: 5000 }).catch(() => {});
  return at;
}

/** Opens a workspace file through Quick Open, retrying while the file index is not ready. */
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
      await page.locator(`.tabs-container .tab[data-resource-name="${name}"], .tabs-container .tab:has-text("${name}")`).first().waitFor({ timeout: 5000 });
      await page.locator('.editor-instance .monaco-editor .view-lines').first().waitFor({ timeout: 10_000 });
      return;
    } catch {
      await sleep(1000);
    }
  }
  throw new Error(`could not open ${name}`);
}

/** Puts the cursor at the start of a line (1-based) of the first editor group's editor. */
export async function gotoLine(page, line) {
  await page.keyboard.press('Control+1');
  await page.keyboard.press('Control+G');
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ state: 'visible', timeout: 5000 });
  await input.fill(`:${line}`);
  await page.keyboard.press('Enter');
  await input.waitFor({ state: 'hidden', timeout: 5000 });
  // Twice: the first Home may stop at the line's first non-blank character.
  await page.keyboard.press('Home');
  await page.keyboard.press('Home');
}

/** Selects one whole line of the first editor group's editor. */
export async function selectLine(page, line) {
  await gotoLine(page, line);
  // A wrapped line: the first End stops where the line wraps, the second goes on to its end.
  await page.keyboard.press('Shift+End');
  await page.keyboard.press('Shift+End');
  await page.locator('.editor-instance .monaco-editor .selected-text').first().waitFor({ timeout: 5000 });
}

/**
 * The visible webview whose document body has the class `bodyClass` (the panel, the sidebar): its inner frame
 * and the outer <iframe> element (for screenshots). Webview content lives two frames deep.
 */
export async function findWebview(page, bodyClass, { timeoutMs = 60_000, pollMs = 500 } = {}) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const frame of page.frames()) {
      if (!/\/webview\/browser\/pre\/index\.html/.test(frame.parentFrame()?.url() ?? '')) continue;
      try {
        if (!(await frame.evaluate((cls) => document.body?.classList.contains(cls) ?? false, bodyClass))) continue;
        // Playwright keeps the name a frame was created with: the inner frame starts as `pending-frame` and
        // becomes `active-frame` once loaded, so look at the element's current id.
        if ((await (await frame.frameElement()).getAttribute('id')) !== 'active-frame') continue;
        const outer = frame.parentFrame();
        const element = outer ? await outer.frameElement() : await frame.frameElement();
        if (await element.isVisible()) return { frame, element };
      } catch {}
    }
    await sleep(pollMs);
  }
  const seen = page.frames().map((f) => `${f.name() || '-'} ${f.url().slice(0, 80)}`);
  throw new Error(`no visible webview with <body class="${bodyClass}"> among ${seen.length} frames: ${seen.join(' | ')}`);
}

/** Text of the error dialogs and notifications on screen: what went wrong, for a failure's message. */
export async function workbenchErrors(page) {
  const texts = await page
    .locator('.monaco-dialog-box:visible, .notification-toast:visible')
    .allInnerTexts()
    .catch(() => []);
  return texts.map((t) => t.replace(/\s+/g, ' ').trim()).filter(Boolean);
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

/** The first log line matching `re` logged at `since` or later, waiting for it. */
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
