#!/usr/bin/env node
// End-to-end: the packaged extension in a real VS Code (code-server) driven through the UI in Chromium.
//
// For each theme (dark, light): install the VSIX into a fresh code-server, open a workspace with review.txt,
// select a sentence, run "ONNX Lens: Use Demo Model" and "ONNX Lens: Explain Selection" from the Command
// Palette, then check and screenshot each panel tab (Prediction, Attributions, Attention, Activations), the
// ONNX Lens sidebar, and the editor heatmap with a hover open; then live mode switched on from the status bar,
// a sentence pair explained by an NLI fixture (its A and B texts, the attention across the pair) and Generate
// and Explain on a decoder fixture (the Generation tab). Screenshots of every run go to out/screenshots/
// (ignored by git); the README's pictures in docs/screenshots/ are refreshed only on request.
//
//   node test/e2e/workbench.e2e.mjs [--vsix out/onnx-lens.vsix | --dev] [--themes dark,light]
//                                   [--update-screenshots] [--out dir] [--timeout 600] [--headed] [--verbose]
//
//   --dev                 load this folder (or --extension-path dir) as the development extension instead of
//                         installing the VSIX
//   --update-screenshots  write the screenshots to docs/screenshots/ (the README's pictures); also
//                         ONNX_LENS_UPDATE_SCREENSHOTS=1
//   --out dir             write the screenshots to dir
//
// Needs scripts/vscode/installTools.sh, then scripts/vscode/packageVsix.sh (or `node esbuild.mjs` with --dev), and
// the compiled tests (`npx tsc -p tsconfig.test.json`: the fixtures' tokenizers are made from their recipes).
// Ends with `N passed, N failed` (one line per check above it); exits non-zero when a check fails.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, resolve } from 'node:path';
import { repoRoot, sleep } from '../../scripts/vscode/codeServer.mjs';
import { escapeRe, findWebview, openFile, openWorkbench, runCommand, selectLine, workbenchErrors } from '../../scripts/vscode/workbenchDriver.mjs';

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
const dev = argv.includes('--dev');
const vsix = resolve(repoRoot, opt('--vsix', join('out', 'onnx-lens.vsix')));
const extensionPath = resolve(opt('--extension-path', repoRoot));
const themes = opt('--themes', 'dark,light').split(',').filter(Boolean);
const updateScreenshots = argv.includes('--update-screenshots') || process.env.ONNX_LENS_UPDATE_SCREENSHOTS === '1';
const outDir = resolve(repoRoot, opt('--out', updateScreenshots ? join('docs', 'screenshots') : join('out', 'screenshots')));
const timeoutS = Number(opt('--timeout', process.env.ONNX_LENS_E2E_TIMEOUT ?? 600));
const headed = argv.includes('--headed');
const artifacts = join(repoRoot, '.test-artifacts', 'e2e');
const verbose = argv.includes('--verbose') || !!process.env.ONNX_LENS_VERBOSE;

const TITLES = { useDemo: 'ONNX Lens: Use Demo Model', explain: 'ONNX Lens: Explain Selection' };
/** A sentence pair for the NLI fixture, split at the default separator setting. */
const PAIR_LINE = 'a man plays the guitar [SEP] a man is asleep';
/** A prompt for the decoder fixture. */
const PROMPT_LINE = 'i loved this place and the food';
const TABS = ['Prediction', 'Attributions', 'Attention', 'Activations'];
const SENTENCE_LINE = 1; // review.txt, line 1 (1-based): the sentence that gets explained

// ---------------------------------------------------------------------------------------------------------
// checks

const results = [];
function check(name, ok, detail = '') {
  results.push({ name, ok: !!ok });
  console.log(`${ok ? '  ✔' : '  ✘'} ${name}${detail ? ` — ${detail}` : ''}`);
  return !!ok;
}
let currentPage;
async function step(name, fn) {
  const t = Date.now();
  try {
    const detail = await fn();
    check(name, true, [detail, `${((Date.now() - t) / 1000).toFixed(1)} s`].filter(Boolean).join(', '));
    return true;
  } catch (err) {
    const onScreen = currentPage ? await workbenchErrors(currentPage) : [];
    let picture = '';
    if (currentPage) {
      // What the workbench looked like, for the CI log (.test-artifacts/ is not committed).
      mkdirSync(artifacts, { recursive: true });
      picture = join(artifacts, `failed-${results.length + 1}.png`);
      await currentPage.screenshot({ path: picture }).catch(() => (picture = ''));
    }
    check(
      name,
      false,
      [String(err?.message ?? err).split('\n')[0], ...onScreen.map((t) => `on screen: "${t}"`), picture && `see ${picture}`]
        .filter(Boolean)
        .join('; '),
    );
    if (verbose) console.error(err);
    return false;
  }
}
function summary() {
  const passed = results.filter((r) => r.ok).length;
  return `${passed} passed, ${results.length - passed} failed`;
}

/** Labels the demo model can predict (from its config.json), for asserting the Prediction tab. */
function demoLabels() {
  for (const p of [join(repoRoot, 'models', 'demo-sentiment', 'config.json')]) {
    try {
      const cfg = JSON.parse(readFileSync(p, 'utf8'));
      const labels = Object.values(cfg.id2label ?? {}).map(String);
      if (labels.length) return labels;
    } catch {}
  }
  return ['positive', 'negative', 'POSITIVE', 'NEGATIVE'];
}

/** A screenshot; `checkOnly` ones record a check's state and never go to the README's folder. */
async function shot(target, file, checkOnly = false) {
  const dir = checkOnly ? join(repoRoot, 'out', 'screenshots') : outDir;
  mkdirSync(dir, { recursive: true });
  const path = join(dir, file);
  await target.screenshot({ path, animations: 'disabled' });
  return path;
}

// ---------------------------------------------------------------------------------------------------------
// one theme

async function runTheme(theme) {
  console.log(`\n[${theme}]`);
  let wb;
  try {
    const ok = await step(`${theme}: workbench loads`, async () => {
      wb = await openWorkbench({
        theme,
        dev,
        vsixPath: vsix,
        extensionPath,
        // The smoke-test driver hides notification toasts; only --dev needs it (to load the development extension).
        smokeTestDriver: dev,
        settings: {
          'editor.hover.delay': 300,
          'editor.wordWrap': 'on', // the whole sentence stays visible next to the panel
          'editor.minimap.enabled': false,
          'editor.occurrencesHighlight': 'off', // no grey box on the word under the cursor in the pictures
          'editor.selectionHighlight': false,
          'workbench.editor.enablePreview': false,
          'onnxLens.generation.maxNewTokens': 12, // a continuation that fits the Generation tab's picture
        },
        prepareWorkspace: (workspace) => {
          cpSync(join(repoRoot, 'scripts', 'vscode', 'workspace'), workspace, { recursive: true });
          // A second model, with a full-precision export only.
          cpSync(join(repoRoot, 'test', 'fixtures', 'models', 't5-op14'), join(workspace, 't5-model'), { recursive: true });
          // And a folder of text, which is no model.
          mkdirSync(join(workspace, 'not-a-model'));
          cpSync(join(repoRoot, 'scripts', 'vscode', 'workspace', 'notes.md'), join(workspace, 'not-a-model', 'notes.md'));
          // An NLI encoder and a decoder for text generation (fixtures: their tokenizers are made from recipes), and
          // a text for each.
          const fixtures = createRequire(import.meta.url)(join(repoRoot, 'out', 'test', 'support', 'fixtureModels.js'));
          cpSync(fixtures.fixtureModel('bert-nli-op14'), join(workspace, 'nli-model'), { recursive: true });
          cpSync(fixtures.generationFixture('llama-gen'), join(workspace, 'decoder-model'), { recursive: true });
          writeFileSync(join(workspace, 'pair.txt'), `${PAIR_LINE}\n`);
          writeFileSync(join(workspace, 'prompt.txt'), `${PROMPT_LINE}\n`);
        },
        browser: { headless: !headed, colorScheme: theme === 'light' ? 'light' : 'dark' },
        verbose,
        onPage: (page) => {
          currentPage = page;
          page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
        },
      });
    });
    if (!ok) return;
    const { page, workspace } = wb;

    await step(`${theme}: Open Model… on a folder that is not a model says what to pick`, async () => {
      await runCommand(page, 'ONNX Lens: Open Model…');
      await pickInOpenDialog(page, `${workspace}/not-a-model/`);
      const note = await waitForNotification(page, /No ONNX model in/, 60_000);
      if (!/model\.onnx/.test(note.text) || !note.buttons.includes('Open Model…')) throw new Error(`the message does not say what to pick: "${note.text}" [${note.buttons.join(', ')}]`);
      await clearNotifications(page);
      return `"${note.text.slice(0, 70)}…" [${note.buttons.join(', ')}]${note.toast ? '' : ' (notification centre: toasts are hidden with --dev)'}`;
    });

    if (!(await step(`${theme}: review.txt opens`, () => openFile(page, 'review.txt')))) return;

    await step(`${theme}: Ctrl+Alt+E with nothing selected says what to do`, async () => {
      await page.locator('.editor-instance .monaco-editor .view-lines').first().click();
      await page.keyboard.press('Control+Home');
      await page.keyboard.press('Control+Alt+E');
      const note = await waitForNotification(page, /nothing is selected/, 20_000);
      await clearNotifications(page);
      return `"${note.text}" [${note.buttons.join(', ')}]`;
    });

    if (!(await step(`${theme}: line ${SENTENCE_LINE} of review.txt is selected`, () => selectLine(page, SENTENCE_LINE)))) return;

    if (!(await step(`${theme}: "${TITLES.useDemo}" runs`, async () => {
      await runCommand(page, TITLES.useDemo);
    }))) return;
    // The command may leave focus elsewhere (a notification, the sidebar): re-select the sentence.
    await selectLine(page, SENTENCE_LINE).catch(() => {});
    if (!(await step(`${theme}: "${TITLES.explain}" runs`, async () => {
      await runCommand(page, TITLES.explain);
    }))) return;

    // --- the explanation panel -------------------------------------------------------------------------
    let panel;
    if (!(await step(`${theme}: the explanation panel opens`, async () => {
      panel = await findWebview(page, 'panel', { timeoutMs: 120_000 });
    }))) return;

    // More room for the panel's pictures: the sidebar comes back when its own step opens it.
    await runCommand(page, 'View: Close Primary Side Bar', 10_000).catch(() => {});

    const labels = demoLabels();
    await step(`${theme}: the panel has the tabs ${TABS.join(', ')}`, async () => {
      for (const t of TABS) await tabButton(panel.frame, t).waitFor({ state: 'visible', timeout: 30_000 });
    });

    let predicted;
    await step(`${theme}: Prediction shows the predicted class`, async () => {
      await tabButton(panel.frame, 'Prediction').click();
      predicted = await waitFor(async () => {
        // The candidates are listed most probable first; fall back to any label in the visible text.
        const first = await panel.frame.locator('.candidate .label').first().textContent({ timeout: 500 }).catch(() => null);
        if (first && labels.includes(first.trim())) return first.trim();
        const text = await visibleText(panel.frame);
        return labels.find((l) => new RegExp(`\\b${escapeRe(l)}\\b`).test(text));
      }, 180_000, `none of the labels ${labels.join(', ')} is visible`);
      await shot(panel.element, `${theme}-prediction.png`);
      return `predicted "${predicted}"`;
    });

    let panelCells = 0;
    await step(`${theme}: Attributions colours the words of the sentence`, async () => {
      await tabButton(panel.frame, 'Attributions').click();
      panelCells = await waitFor(async () => {
        const n = await countColouredWords(panel.frame);
        return n > 0 ? n : undefined;
      }, 180_000, 'no coloured words in the Attributions tab');
      const words = sentenceWords().length;
      // Word level: one cell per word, punctuation possibly its own cell.
      if (panelCells < Math.ceil(words * 0.8) || panelCells > 2 * words) {
        throw new Error(`${panelCells} coloured cells for a ${words}-word sentence`);
      }
      const bars = await waitFor(() => barChartInk(panel.frame), 30_000, 'the attribution bar chart is blank');
      await sleep(500);
      await shot(panel.element, `${theme}-attributions.png`);
      return `${panelCells} coloured word cells, bar chart ${bars}`;
    });

    await step(`${theme}: Attention draws`, async () => {
      await tabButton(panel.frame, 'Attention').click();
      const what = await waitFor(() => drawnGraphics(panel.frame), 180_000, 'nothing drawn in the Attention tab');
      await sleep(500);
      return what;
    });

    await step(`${theme}: Activations draws`, async () => {
      await tabButton(panel.frame, 'Activations').click();
      const what = await waitFor(() => drawnGraphics(panel.frame), 180_000, 'nothing drawn in the Activations tab');
      await sleep(500);
      await shot(panel.element, `${theme}-activations.png`);
      return what;
    });

    await step(`${theme}: arrow keys move between the tabs and focus stays on the tab; Run is one Tab away`, async () => {
      await tabButton(panel.frame, 'Prediction').click();
      const focused = () => panel.frame.evaluate(() => ({ text: document.activeElement?.textContent?.trim(), role: document.activeElement?.getAttribute('role'), selected: document.activeElement?.getAttribute('aria-selected') }));
      const expect = async (key, name) => {
        await page.keyboard.press(key);
        const f = await focused();
        if (f.role !== 'tab' || f.text !== name || f.selected !== 'true') throw new Error(`after ${key}: focus on ${JSON.stringify(f)}, expected the selected tab ${name}`);
      };
      await expect('ArrowRight', 'Attributions');
      await expect('End', 'Dataset');
      await expect('ArrowRight', 'Prediction');
      await expect('ArrowLeft', 'Dataset');
      await expect('Home', 'Prediction');
      await expect('ArrowRight', 'Attributions');
      await page.keyboard.press('Tab');
      const run = await focused();
      if (run.text !== 'Run') throw new Error(`Tab from the Attributions tab reaches "${run.text}", not Run`);
      return 'Right, End, Right (wraps), Left, Home, Right, then Tab → Run';
    });

    await step(`${theme}: the Attention tab's head view, model view and matrix have legends, names and text descriptions`, async () => {
      await tabButton(panel.frame, 'Attention').click();
      const view = panel.frame.locator('section.attention select').first();
      const check = async (mode) => {
        await view.selectOption(mode);
        return waitFor(() => panel.frame.evaluate((m) => {
          const canvas = document.querySelector('.attention-canvas canvas');
          const legend = document.querySelector('section.attention .legend-box svg.legend');
          const summary = document.querySelector('section.attention details.text-alternative summary');
          const rows = document.querySelectorAll('section.attention details.text-alternative tr').length;
          if (!canvas || !legend || !summary || rows < 2) return undefined;
          if (canvas.getAttribute('role') !== 'img' || !canvas.getAttribute('aria-label') || canvas.tabIndex !== 0) throw new Error(`${m}: the canvas has no role, name or tab stop`);
          return `${m}: legend "${legend.getAttribute('aria-label')}", ${rows - 1} rows of text`;
        }, mode), 30_000, `the ${mode} view is not drawn with its legend and text description`);
      };
      const model = await check('model');
      await sleep(300);
      await shot(panel.element, `${theme}-attention-model.png`);
      const head = await check('head');
      // Pick the third word with the keyboard: only its lines are drawn, and the line under the view says where it looks.
      await panel.frame.locator('.attention-canvas canvas').focus();
      for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowDown');
      const said = await waitFor(() => panel.frame.locator('.focus-line').textContent(), 10_000, 'picking a word says nothing');
      if (!/attends to/.test(said)) throw new Error(`the picked word is not described: "${said}"`);
      await sleep(300);
      await shot(panel.element, `${theme}-attention-head.png`);
      const matrix = await check('matrix');
      await sleep(300);
      await shot(panel.element, `${theme}-attention-matrix.png`);
      await view.selectOption('model');
      return [model, head, `picked: "${said.slice(0, 60)}…"`, matrix].join('; ');
    });

    await step(`${theme}: every tab stays reachable in a 345 px panel`, async () => {
      const width = await narrowPanel(page, panel, 345);
      const tabs = await panel.frame.evaluate(() => [...document.querySelectorAll('[role="tab"]')].map((t) => {
        const r = t.getBoundingClientRect();
        return { name: t.textContent.trim(), visible: r.width > 0 && r.left >= 0 && r.right <= document.documentElement.clientWidth + 0.5 };
      }));
      await shot(panel.element, `${theme}-narrow-panel.png`, true);
      await page.setViewportSize({ width: 1280, height: 800 });
      const hidden = tabs.filter((t) => !t.visible).map((t) => t.name);
      // Every tab of src/protocol/webviewMessages.ts PANEL_TABS, by the name it shows.
      const expected = ['Prediction', 'Attributions', 'Generation', 'Attention', 'Activations', 'Heads', 'Compare', 'Robustness', 'Dataset'];
      const missing = expected.filter((name) => !tabs.some((t) => t.name === name));
      if (missing.length || hidden.length) throw new Error(`in a ${width} px panel, tabs missing: ${missing.join(', ') || 'none'}; off screen: ${hidden.join(', ') || 'none'}`);
      return `${tabs.length} tabs on screen in a ${width} px panel`;
    });

    // --- the sidebar -----------------------------------------------------------------------------------
    await step(`${theme}: the ONNX Lens sidebar shows the model`, async () => {
      const item = page.locator('.activitybar .action-item a[aria-label^="ONNX Lens"], .activitybar .action-item[aria-label^="ONNX Lens"]').first();
      await item.click();
      const sidebarPart = page.locator('.part.sidebar');
      await sidebarPart.locator('.title-label', { hasText: /ONNX Lens/i }).first().waitFor({ timeout: 15_000 });
      const sidebar = await findWebview(page, 'sidebar');
      const text = await waitFor(async () => {
        const t = await visibleText(sidebar.frame);
        return /demo|sentiment|layers?|heads?/i.test(t) ? t : undefined;
      }, 60_000, 'the sidebar does not describe the model');
      await shot(sidebarPart, `${theme}-sidebar.png`);
      return `"${text.replace(/\s+/g, ' ').trim().slice(0, 60)}…"`;
    });

    // --- the editor heatmap and its hover --------------------------------------------------------------
    await step(`${theme}: the editor heatmap colours the words and a hover explains one`, async () => {
      // The panel beside shows the same words: the picture pairs the editor heatmap with it.
      await tabButton(panel.frame, 'Attributions').click().catch(() => {});
      // Focus review.txt in the first editor group (the panel opened beside it) and leave the selection.
      await page.keyboard.press('Control+1');
      await page.keyboard.press('Control+Home');
      const editor = page.locator('.editor-instance .monaco-editor').first();
      const cells = editor.locator('.view-overlays .cdr[class*="TextEditorDecorationType"], .view-lines span[class*="TextEditorDecorationType"]');
      const n = await waitFor(async () => ((await cells.count()) > 0 ? cells.count() : undefined), 60_000, 'no highlighted words in the editor');
      const words = sentenceWords();
      if (n > words.length + 2) throw new Error(`${n} highlights for a ${words.length}-word sentence`);
      // The editor leaves the weakest words uncoloured; the panel tints every feature.
      if (panelCells && n > panelCells) throw new Error(`${n} words coloured in the editor but only ${panelCells} in the panel`);
      // Hover the most strongly coloured-looking cell: the first one is enough to open the hover.
      // Hover the most strongly coloured word that is on screen.
      const editorBox = await editor.boundingBox();
      let box;
      let best = -1;
      for (let i = 0; i < n; i++) {
        const cell = cells.nth(i);
        const b = await cell.boundingBox();
        if (!b || b.width <= 4 || b.x < editorBox.x + 60 || b.x + b.width > editorBox.x + editorBox.width - 20) continue;
        const strength = await cell.evaluate((el) => {
          const m = getComputedStyle(el).backgroundColor.match(/[\d.]+/g)?.map(Number) ?? [];
          const [r = 0, g = 0, bl = 0, a = 1] = m;
          return a * (Math.max(r, g, bl) - Math.min(r, g, bl));
        });
        if (strength > best) [best, box] = [strength, b];
      }
      if (!box) throw new Error('no highlighted word is on screen');
      await page.mouse.move(box.x + box.width / 2 - 3, box.y + box.height / 2, { steps: 3 });
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2, { steps: 3 });
      const hover = page.locator('.monaco-hover:visible, .monaco-resizable-hover:visible').filter({ hasText: 'ONNX Lens' }).first();
      await hover.waitFor({ state: 'visible', timeout: 15_000 });
      const hoverText = (await hover.innerText()).replace(/\s+/g, ' ').trim();
      await shot(page, `${theme}-editor-hover.png`);
      return `${n} of ${words.length} words coloured; hover: "${hoverText.slice(0, 70)}…"`;
    });

    await step(`${theme}: after a theme change and a resize, each highlight still covers its word`, async () => {
      const other = THEME_NAMES[theme === 'dark' ? 'light' : 'dark'];
      await pickTheme(page, other);
      await page.setViewportSize({ width: 1000, height: 700 });
      await runCommand(page, 'View: Toggle Primary Side Bar Visibility').catch(() => {});
      await sleep(800);
      const words = new Set(sentenceWords());
      const boxes = await waitFor(async () => {
        const b = await highlightBoxes(page);
        return b.length > 0 ? b : undefined;
      }, 20_000, 'no highlights after the theme change');
      const wrong = boxes.filter((b) => b.offBy > 1.5 || !(words.has(b.text) || /^[^\p{L}\p{N}]+$/u.test(b.text)));
      await shot(page, `${theme}-editor-after-theme-change.png`, true);
      await page.setViewportSize({ width: 1280, height: 800 });
      if (wrong.length) throw new Error(`highlights apart from their words: ${wrong.map((b) => `"${b.text}" off by ${b.offBy.toFixed(1)} px`).join(', ')}`);
      return `${boxes.length} highlights, each on its word (${other}, 1000 × 700)`;
    });

    await step(`${theme}: after a larger editor font, a browser zoom of 125 % and a resize that rewraps the line, each highlight still covers its word`, async () => {
      await page.keyboard.press('Control+1');
      await runCommand(page, 'Increase Editor Font Size');
      await runCommand(page, 'Increase Editor Font Size');
      // Chromium's page zoom: more device pixels per CSS pixel and a narrower CSS viewport.
      const cdp = await page.context().newCDPSession(page);
      await cdp.send('Emulation.setDeviceMetricsOverride', { width: 1024, height: 640, deviceScaleFactor: 1.25, mobile: false });
      try {
        await sleep(800);
        const words = new Set(sentenceWords());
        const boxes = await waitFor(async () => {
          const b = await highlightBoxes(page);
          return b.length > 0 ? b : undefined;
        }, 20_000, 'no highlights after the zoom');
        const wrong = boxes.filter((b) => b.offBy > 1.5 || !(words.has(b.text) || /^[^\p{L}\p{N}]+$/u.test(b.text)));
        await shot(page, `${theme}-editor-after-zoom.png`, true);
        if (wrong.length) throw new Error(`highlights apart from their words: ${wrong.map((b) => `"${b.text}" off by ${b.offBy.toFixed(1)} px`).join(', ')}`);
        return `${boxes.length} highlights, each on its word`;
      } finally {
        await cdp.send('Emulation.clearDeviceMetricsOverride').catch(() => {});
        await page.setViewportSize({ width: 1280, height: 800 });
        await runCommand(page, 'Reset Editor Font Size').catch(() => {});
      }
    });

    await step(`${theme}: after the editor's font family, letter spacing and ligatures change and a resize rewraps the line, each highlight still covers its word`, async () => {
      const settingsFile = join(wb.server.userDataDir, 'User', 'settings.json');
      const saved = readFileSync(settingsFile, 'utf8');
      // A proportional font with ligatures and wider letters: every character's width changes.
      writeFileSync(settingsFile, JSON.stringify({ ...JSON.parse(saved), 'editor.fontFamily': "'DejaVu Serif', serif", 'editor.letterSpacing': 1.5, 'editor.fontLigatures': true, 'editor.fontSize': 16 }, null, 2));
      try {
        await sleep(1500);
        await page.setViewportSize({ width: 900, height: 700 });
        await sleep(800);
        const words = new Set(sentenceWords());
        const boxes = await waitFor(async () => {
          const b = await highlightBoxes(page);
          return b.length > 0 ? b : undefined;
        }, 20_000, 'no highlights after the font change');
        const lines = await page.locator('.editor-instance .monaco-editor .view-lines .view-line').count();
        const wrong = boxes.filter((b) => b.offBy > 1.5 || !(words.has(b.text) || /^[^\p{L}\p{N}]+$/u.test(b.text)));
        await shot(page, `${theme}-editor-after-font-change.png`, true);
        if (wrong.length) throw new Error(`highlights apart from their words: ${wrong.map((b) => `"${b.text}" off by ${b.offBy.toFixed(1)} px`).join(', ')}`);
        return `${boxes.length} highlights, each on its word (DejaVu Serif 16 px, letter spacing 1.5, ligatures, ${lines} view lines at 900 × 700)`;
      } finally {
        writeFileSync(settingsFile, saved);
        await page.setViewportSize({ width: 1280, height: 800 });
        await sleep(1500);
      }
    });

    await step(`${theme}: a comma typed right after the last highlighted word stays outside its box`, async () => {
      await page.keyboard.press('Control+1');
      const before = await waitFor(async () => {
        const b = await highlightBoxes(page);
        return b.length > 0 ? b : undefined;
      }, 20_000, 'no highlights to type next to');
      // The last highlight of the text: no highlight after it moves, so nothing else makes its colour repaint.
      const last = [...before].sort((a, b) => a.top - b.top || a.left - b.left).at(-1);
      await page.mouse.click(last.right - 1, (last.top + last.bottom) / 2);
      await page.keyboard.type(',');
      try {
        await sleep(800);
        const after = await highlightBoxes(page);
        const same = after.find((b) => Math.abs(b.top - last.top) < 2 && Math.abs(b.left - last.left) < 2);
        if (!same) throw new Error(`the highlight on "${last.text}" is gone after a comma after it`);
        if (same.text !== last.text || same.offBy > 1.5) throw new Error(`the highlight on "${last.text}" now covers "${same.text}" (off by ${same.offBy.toFixed(1)} px)`);
        return `"${last.text}," — the box still covers "${same.text}" only`;
      } finally {
        await page.keyboard.press('Control+z');
      }
    });

    await step(`${theme}: highlights of an editor hidden during a theme change and a resize come back on their words`, async () => {
      await openFile(page, 'pair.txt');
      await pickTheme(page, THEME_NAMES[theme]);
      await page.setViewportSize({ width: 1000, height: 700 });
      await sleep(800);
      await openFile(page, 'review.txt');
      try {
        const words = new Set(sentenceWords());
        const boxes = await waitFor(async () => {
          const b = await highlightBoxes(page);
          return b.length > 0 ? b : undefined;
        }, 20_000, 'no highlights when review.txt is shown again');
        const wrong = boxes.filter((b) => b.offBy > 1.5 || !(words.has(b.text) || /^[^\p{L}\p{N}]+$/u.test(b.text)));
        await shot(page, `${theme}-editor-shown-again.png`, true);
        if (wrong.length) throw new Error(`highlights apart from their words: ${wrong.map((b) => `"${b.text}" off by ${b.offBy.toFixed(1)} px`).join(', ')}`);
        return `${boxes.length} highlights, each on its word`;
      } finally {
        await page.setViewportSize({ width: 1280, height: 800 });
      }
    });

    await step(`${theme}: a long explanation shows a notification with Cancel, and Cancel stops it`, async () => {
      await page.keyboard.press('Control+1');
      await page.locator('.editor-instance .monaco-editor .view-lines').first().click();
      await page.keyboard.press('Control+A');
      await tabButton(panel.frame, 'Attributions').click();
      // KernelSHAP uses its whole budget: 100,000 evaluations take long enough to cancel.
      await panel.frame.locator('section.attributions select').first().selectOption('kernel-shap');
      const budget = panel.frame.locator('section.attributions input[type="number"]').first();
      await budget.fill('100000');
      await budget.press('Tab');
      await panel.frame.locator('section.attributions button', { hasText: /^Run$/ }).first().click();
      const note = await waitForNotification(page, /ONNX Lens: explaining/, 60_000);
      if (!note.buttons.includes('Cancel')) throw new Error(`the notification has no Cancel: [${note.buttons.join(', ')}]`);
      await note.click('Cancel');
      await waitFor(async () => ((await page.locator('.notification-toast, .notifications-center .notification-list-item').filter({ hasText: /ONNX Lens: explaining/ }).count()) === 0 ? true : undefined), 30_000, 'the notification stays after Cancel');
      await waitFor(async () => ((await panel.frame.locator('.status progress').count()) === 0 ? true : undefined), 30_000, 'the panel still shows the run as busy');
      await budget.fill('500');
      await budget.press('Tab');
      return `"${note.text.slice(0, 80)}" [${note.buttons.join(', ')}], cancelled`;
    });

    await step(`${theme}: the variant picked in the sidebar is that model's; the next model opens in its own`, async () => {
      const sidebar = await showSidebar(page);
      const variant = sidebar.frame.locator('label', { hasText: 'Variant' }).locator('select');
      await variant.selectOption('quantized');
      await waitFor(async () => (/quantized/.test(await visibleText(sidebar.frame)) && (await variant.inputValue().catch(() => '')) === 'quantized' ? true : undefined), 60_000, 'the demo model did not reopen as quantized');
      await runCommand(page, 'ONNX Lens: Open Model…');
      await pickInOpenDialog(page, `${workspace}/t5-model/`);
      const shown = await waitFor(async () => {
        const t = await visibleText(sidebar.frame);
        if (/No quantized model/.test(t)) throw new Error(`the quantized choice leaked to the next model: ${t.match(/No quantized model[^\n]*/)[0]}`);
        return /t5-model/.test(t) && /\bt5\b/.test(t) ? t : undefined;
      }, 60_000, 'the T5 model did not open');
      await runCommand(page, TITLES.useDemo);
      return `T5 opened as ${/variant\s+(\S+)/.exec(shown)?.[1] ?? '?'} after the demo model was switched to quantized`;
    });

    // --- live mode, sentence pairs and generation, in the run's own theme again ------------------------
    await step(`${theme}: the theme is ${THEME_NAMES[theme]} again`, () => pickTheme(page, THEME_NAMES[theme]));

    await step(`${theme}: the sidebar's run settings go back to partition-shap with a budget of 500`, async () => {
      const sidebar = await showSidebar(page);
      await sidebar.frame.locator('label', { hasText: /^Method/ }).locator('select').selectOption('partition-shap');
      const budget = sidebar.frame.locator('label', { hasText: /^Budget/ }).locator('input');
      await budget.fill('500');
      await budget.press('Tab');
      await waitFor(async () => ((await budget.inputValue()) === '500' && (await sidebar.frame.locator('label', { hasText: /^Method/ }).locator('select').inputValue()) === 'partition-shap' ? true : undefined), 10_000, 'the settings did not change');
    });

    await step(`${theme}: live mode switched on from the status bar paints the line being typed; the sidebar says it is on`, async () => {
      // Keys go to the workbench, not to the sidebar's webview that had the focus.
      await page.locator('.editor-instance .monaco-editor .view-lines').first().click();
      await page.keyboard.press('Control+1');
      await openFile(page, 'review.txt');
      const editorLines = page.locator('.editor-instance .monaco-editor .view-lines').first();
      await editorLines.click();
      await page.keyboard.press('Control+End');
      const toggle = page.locator('.statusbar-item', { hasText: /^\s*Live\s*$/ }).first();
      await toggle.click();
      await waitFor(async () => ((await page.locator('.statusbar-item .codicon-zap').count()) > 0 ? true : undefined), 20_000, 'the status bar does not show live mode on');
      await editorLines.click();
      await page.keyboard.press('Control+End');
      await page.keyboard.type('the acting was superb but the story dragged on', { delay: 60 });
      const painted = await waitFor(async () => {
        const b = await highlightBoxes(page);
        return b.filter((x) => /acting|superb|story|dragged/.test(x.text)).length >= 3 ? b : undefined;
      }, 60_000, 'live mode painted nothing on the typed line');
      const sidebar = await showSidebar(page);
      const said = await waitFor(async () => {
        const t = await visibleText(sidebar.frame);
        return /Live mode: on/.test(t) && /%/.test(t.slice(t.indexOf('Live mode: on'))) ? t : undefined;
      }, 60_000, 'the sidebar does not say live mode is on with its latest prediction');
      await sidebar.frame.locator('section.live').scrollIntoViewIfNeeded();
      await sleep(500);
      await shot(page, `${theme}-live-mode.png`);
      await toggle.click();
      await waitFor(async () => ((await highlightBoxes(page)).length === 0 ? true : undefined), 20_000, 'switching live mode off leaves its colours');
      const last = /Live mode: on\s+([^\n]*)\s+([^\n]*%[^\n]*)/.exec(said);
      return `${painted.length} words painted as typed; sidebar: "${(last?.[2] ?? '').slice(0, 60)}"`;
    });

    await step(`${theme}: a sentence pair explained by an NLI model shows its texts A and B and the attention across the pair`, async () => {
      await runCommand(page, 'ONNX Lens: Open Model…');
      await pickInOpenDialog(page, `${workspace}/nli-model/`);
      await runCommand(page, 'View: Close Primary Side Bar', 10_000).catch(() => {});
      await page.keyboard.press('Control+1');
      await openFile(page, 'pair.txt');
      await selectLine(page, 1);
      await runCommand(page, 'ONNX Lens: Explain Sentence Pair');
      panel = await findWebview(page, 'panel');
      await tabButton(panel.frame, 'Attributions').click();
      const texts = await waitFor(() => panel.frame.evaluate(() => {
        const labels = [...document.querySelectorAll('section.attributions .pair-text .segment-label')].map((l) => l.textContent.trim());
        const words = document.querySelectorAll('section.attributions .pair-text .feature').length;
        return labels.length === 2 && words > 0 && document.querySelector('svg.bars') ? { labels, words } : undefined;
      }), 120_000, 'the pair is not shown as texts A and B');
      await progressGone(page);
      await sleep(500);
      await shot(panel.element, `${theme}-pair-attributions.png`);
      await tabButton(panel.frame, 'Attention').click();
      const across = await waitFor(() => panel.frame.evaluate(() => {
        const cells = document.querySelectorAll('section.pair-attention .pair-share').length;
        const blocks = document.querySelectorAll('section.pair-attention table.pair-block').length;
        return cells > 0 && blocks >= 2 ? { cells, blocks } : undefined;
      }), 120_000, 'the Attention tab does not show the attention across the pair');
      await panel.frame.locator('section.pair-attention').scrollIntoViewIfNeeded();
      await sleep(500);
      await shot(panel.element, `${theme}-pair-attention.png`);
      return `texts ${texts.labels.join(' and ')} with ${texts.words} coloured words; across the pair: ${across.cells} layer × head shares, ${across.blocks} blocks`;
    });

    await step(`${theme}: Generate and Explain on a decoder streams the continuation and fills the Generation tab`, async () => {
      await runCommand(page, 'ONNX Lens: Open Model…');
      await pickInOpenDialog(page, `${workspace}/decoder-model/`);
      await runCommand(page, 'View: Close Primary Side Bar', 10_000).catch(() => {});
      await page.keyboard.press('Control+1');
      await openFile(page, 'prompt.txt');
      await selectLine(page, 1);
      await runCommand(page, 'ONNX Lens: Generate and Explain');
      panel = await findWebview(page, 'panel');
      await tabButton(panel.frame, 'Generation').click();
      const drawn = await waitFor(() => panel.frame.evaluate(() => {
        const tab = document.querySelector('section.generation');
        const tokens = tab?.querySelectorAll('.generation-tokens button').length ?? 0;
        const matrix = tab?.querySelectorAll('table.matrix td').length ?? 0;
        const prompt = tab?.querySelectorAll('.generation-prompt .feature').length ?? 0;
        return tokens > 1 && matrix > 0 && prompt > 0 ? { tokens, matrix, prompt } : undefined;
      }), 180_000, 'the Generation tab shows no tokens, prompt colours or matrix');
      await progressGone(page);
      await sleep(500);
      await shot(panel.element, `${theme}-generation.png`);
      const ghost = await page.locator('.editor-instance .monaco-editor .view-lines [class*="ced-"]').count();
      // The prompt's highlights share their line with the faded continuation: each still sits on its word.
      const boxes = await highlightBoxes(page);
      const wrong = boxes.filter((b) => b.offBy > 1.5 || !(b.text.trim() && PROMPT_LINE.includes(b.text.trim())));
      if (wrong.length) throw new Error(`prompt highlights apart from their words next to the faded text: ${wrong.map((b) => `"${b.text}" off by ${b.offBy.toFixed(1)} px`).join(', ')}`);
      return `${drawn.tokens - 1} generated tokens, ${drawn.prompt} prompt words coloured, ${drawn.matrix} matrix cells; faded text in the editor: ${ghost > 0 ? 'yes' : 'no'}; ${boxes.length} prompt highlights on their words`;
    });
  } finally {
    await wb?.close();
  }
}

/** Shows the ONNX Lens sidebar (its activity bar item toggles it: clicked only when the sidebar is not showing). */
async function showSidebar(page) {
  const title = page.locator('.part.sidebar .title-label', { hasText: /ONNX Lens/i }).first();
  if (!(await title.isVisible().catch(() => false))) {
    await page.locator('.activitybar .action-item a[aria-label^="ONNX Lens"], .activitybar .action-item[aria-label^="ONNX Lens"]').first().click();
  }
  await title.waitFor({ timeout: 15_000 });
  return findWebview(page, 'sidebar');
}

/** Waits until no ONNX Lens progress notification is on screen: a finished run's toast closes. */
async function progressGone(page) {
  const toasts = page.locator('.notification-toast').filter({ hasText: /ONNX Lens: (explaining|generating)/ });
  await waitFor(async () => ((await toasts.count()) === 0 ? true : undefined), 30_000, 'the progress notification stays after the run ended');
}

/** The colour themes of the two runs, as the theme picker names them. */
const THEME_NAMES = { dark: 'Dark Modern', light: 'Light Modern' };

/** Switches the colour theme through Preferences: Color Theme. */
async function pickTheme(page, name) {
  await runCommand(page, 'Preferences: Color Theme');
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.fill(name);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().click();
  await input.waitFor({ state: 'hidden', timeout: 5000 }).catch(() => {});
}

/** Accepts `folder` in VS Code's own open dialog (the one code-server shows): type the path, press its OK button. */
async function pickInOpenDialog(page, folder) {
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ state: 'visible', timeout: 10_000 });
  // The dialog puts its starting folder into the box a moment after it shows: wait for that, then type
  // ours, and type again if the dialog's own value arrived late and was joined to it.
  await waitFor(async () => ((await input.inputValue()) ? true : undefined), 10_000, 'the open dialog never showed its folder');
  for (let attempt = 0; attempt < 3; attempt++) {
    await input.fill(folder);
    await sleep(500);
    if ((await input.inputValue()) === folder) break;
  }
  const ok = page.locator('.quick-input-widget .quick-input-action .monaco-button, .quick-input-widget .monaco-button').filter({ hasText: /^Open Model$/ }).first();
  if (await ok.isVisible().catch(() => false)) await ok.click();
  else await page.keyboard.press('Enter');
  await input.waitFor({ state: 'hidden', timeout: 10_000 });
}

/** Makes the panel about `target` px wide by narrowing the window (the panel is half the editor area). */
async function narrowPanel(page, panel, target) {
  let viewport = 1280;
  let width = 0;
  for (let i = 0; i < 6; i++) {
    width = Math.round((await panel.element.boundingBox()).width);
    if (Math.abs(width - target) <= 6) break;
    viewport = Math.max(500, viewport - (width - target) * 2);
    await page.setViewportSize({ width: Math.round(viewport), height: 800 });
    await sleep(400);
  }
  return panel.frame.evaluate(() => document.documentElement.clientWidth);
}

/**
 * A notification whose text matches `pattern`: as a toast, or (when toasts are hidden: the smoke-test
 * driver of --dev hides them) in the notification centre. Returns its text, its buttons and a click().
 */
async function waitForNotification(page, pattern, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let openedCentre = false;
  while (Date.now() < deadline) {
    for (const selector of ['.notification-toast', '.notifications-center .notification-list-item']) {
      const item = page.locator(selector).filter({ hasText: pattern }).first();
      if (await item.isVisible().catch(() => false)) {
        const text = ((await item.locator('.notification-list-item-message').first().textContent().catch(() => '')) || (await item.innerText())).replace(/\s+/g, ' ').trim();
        const buttons = (await item.locator('.monaco-button').allInnerTexts()).map((b) => b.trim()).filter(Boolean);
        return { text, buttons, toast: selector === '.notification-toast', click: (name) => item.locator('.monaco-button', { hasText: name }).first().click() };
      }
    }
    if (dev && !openedCentre && Date.now() > deadline - timeoutMs + 1500) {
      await runCommand(page, 'Notifications: Show Notifications', 10_000).catch(() => {});
      openedCentre = true;
    }
    await sleep(250);
  }
  throw new Error(`no notification matching ${pattern}`);
}

async function clearNotifications(page) {
  await runCommand(page, 'Notifications: Clear All Notifications', 10_000).catch(() => {});
  await runCommand(page, 'Notifications: Hide Notifications', 5_000).catch(() => {});
}

/** Each highlight box in the editor, with the characters it covers and how far its edges are from theirs (px). */
function highlightBoxes(page) {
  return page.evaluate(() => {
    const editor = document.querySelector('.editor-instance .monaco-editor');
    const chars = [];
    for (const line of editor.querySelectorAll('.view-lines .view-line')) {
      const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        for (let i = 0; i < n.textContent.length; i++) {
          const range = document.createRange();
          range.setStart(n, i);
          range.setEnd(n, i + 1);
          const b = range.getBoundingClientRect();
          if (b.width > 0) chars.push({ c: n.textContent[i], x: b.left + b.width / 2, y: b.top + b.height / 2, l: b.left, r: b.right });
        }
      }
    }
    const out = [];
    for (const e of editor.querySelectorAll('.view-overlays .cdr')) {
      if (!/TextEditorDecorationType/.test(e.className)) continue;
      const b = e.getBoundingClientRect();
      if (b.width < 1) continue;
      const inside = chars.filter((ch) => ch.y > b.top && ch.y < b.bottom && ch.x > b.left && ch.x < b.right);
      const text = inside.map((ch) => ch.c).join('');
      const offBy = inside.length ? Math.max(Math.abs(inside[0].l - b.left), Math.abs(inside[inside.length - 1].r - b.right)) : Infinity;
      out.push({ text, offBy, left: b.left, right: b.right, top: b.top, bottom: b.bottom });
    }
    return out;
  });
}

// ---------------------------------------------------------------------------------------------------------
// the panel's tabs (found through the panel contract: tab buttons with their names as text)

function tabButton(frame, name) {
  return frame
    .locator('button, [role="tab"]')
    .filter({ hasText: new RegExp(`^\\s*${escapeRe(name)}\\s*$`) })
    .first();
}

/** Visible text of the webview document, SVG text included (innerText skips it). */
function visibleText(frame) {
  return frame.evaluate(() => {
    const parts = [document.body.innerText || ''];
    for (const t of document.querySelectorAll('svg text')) parts.push(t.textContent || '');
    return parts.join('\n');
  });
}

/** Words with a coloured background in the visible part of the panel (heatmap cells). */
function countColouredWords(frame) {
  return frame.evaluate(() => {
    const visible = (el) => {
      const r = el.getBoundingClientRect();
      const s = getComputedStyle(el);
      return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none';
    };
    const transparent = (c) => !c || c === 'transparent' || /rgba\(.*,\s*0\)$/.test(c);
    // The first coloured text of the tab (a comparison shows two); other markup as a fallback.
    const first = document.querySelector('.colored-text');
    const candidates = first ? first.querySelectorAll('.feature') : document.querySelectorAll('[data-word], .feature, .word, .heat, .cell');
    const cells = [...candidates].filter(
      (el) => visible(el) && !transparent(getComputedStyle(el).backgroundColor) && (el.textContent || '').trim().length > 0,
    );
    // Nested matches (a word made of sub-word spans) count once.
    return cells.filter((el) => !cells.some((o) => o !== el && o.contains(el))).length;
  });
}

/** The attribution bar chart (SVG): its bars, axis title and tick labels, or undefined while it is not drawn. */
function barChartInk(frame) {
  return frame.evaluate(() => {
    const svg = document.querySelector('svg.bars');
    if (!svg || svg.getBoundingClientRect().width === 0) return undefined;
    const bars = [...svg.querySelectorAll('rect')].filter((r) => r.querySelector('title') && Number(r.getAttribute('width')) > 0);
    const texts = [...svg.querySelectorAll('text')].map((t) => t.textContent);
    const axis = texts.find((t) => /^contribution to /.test(t));
    if (bars.length === 0 || !axis) return undefined;
    return `${bars.length} bars, axis "${axis}"`;
  });
}

/** What a chart tab drew: visible canvases with pixels, or SVG shapes. Undefined when nothing yet. */
function drawnGraphics(frame) {
  return frame.evaluate(() => {
    const visible = (el) => {
      const r = el.getBoundingClientRect();
      return r.width > 2 && r.height > 2 && getComputedStyle(el).visibility !== 'hidden';
    };
    let canvases = 0;
    for (const c of document.querySelectorAll('canvas')) {
      if (!visible(c) || !c.width || !c.height) continue;
      try {
        const d = c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data;
        if (d && d.some((v, i) => i % 4 === 3 && v > 0)) canvases++;
      } catch {
        canvases++;
      }
    }
    const shapes = [...document.querySelectorAll('svg rect, svg path, svg line, svg circle')].filter(visible).length;
    if (canvases === 0 && shapes < 3) return undefined;
    return `${canvases} canvas(es), ${shapes} SVG shapes`;
  });
}

async function waitFor(fn, timeoutMs, message) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined && v !== null && v !== false) return v;
    } catch (err) {
      last = err;
    }
    await sleep(500);
  }
  throw new Error(message + (last ? ` (${last.message.split('\n')[0]})` : ''));
}

function sentenceWords() {
  const text = readFileSync(join(repoRoot, 'scripts', 'vscode', 'workspace', 'review.txt'), 'utf8');
  return text.split('\n')[SENTENCE_LINE - 1].match(/[\p{L}\p{N}']+/gu) ?? [];
}

// ---------------------------------------------------------------------------------------------------------

const t0 = Date.now();
const timer = setTimeout(() => {
  console.error(`\ne2e: timed out after ${timeoutS} s`);
  check('finished in time', false);
  console.log(summary());
  process.exit(124); // the exit hooks of codeServer.mjs kill the servers
}, timeoutS * 1000);

if (!dev && !existsSync(vsix)) {
  console.error(`${vsix} is missing: run scripts/vscode/packageVsix.sh first (or pass --dev)`);
  process.exit(2);
}
rmSync(artifacts, { recursive: true, force: true }); // pictures of an earlier run's failures
try {
  for (const theme of themes) await runTheme(theme);
} catch (err) {
  check('harness', false, String(err?.message ?? err).split('\n')[0]);
  if (verbose) console.error(err);
}
clearTimeout(timer);
console.error(`e2e: ${((Date.now() - t0) / 1000).toFixed(1)} s; screenshots in ${relative(repoRoot, outDir) || '.'}`);
console.log(summary());
process.exit(results.every((r) => r.ok) && results.length > 0 ? 0 : 1);
