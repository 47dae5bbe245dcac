#!/usr/bin/env node
// "The extension itself": what the extension and its panel add on top of the engine, in a real VS Code
// (code-server, the web workbench in headless Chromium through playwright-core, as test/e2e does).
//
//   node bench/uiLatency.mjs [--vsix out/onnx-lens.vsix | --dev] [--repeats 3] [--part explain|attention]
//   (also: node out/bench/index.js --only ui)
//
// 1. Explain Selection on a 20-word selection with the demo model: time from running the command to the
//    first attribution picture in the panel and to the final one, against the engine's own time for the
//    same requests (the durations in the "ONNX Lens" output log, and the same requests through EngineClient
//    in this process). Twice: the first explanation of a window (the panel is created by the command) and
//    again with the panel open.
// 2. Show Attention on a 512-token selection with a 12-layer × 12-head model (make_bench_model.py --hidden
//    192 --heads 12, random weights, in a temporary folder): bytes of the attention messages the webview
//    receives and the time from their arrival to the canvas showing them; also one head's full matrix.
//
// Nothing inside the extension or the webview is instrumented: times come from the output log's time
// stamps, DOM polling and listeners added to the webview's document through playwright. Every clock read is
// Date.now() on one machine (Node, extension host and Chromium share it).
// Needs scripts/vscode/installTools.sh; with --dev, `node esbuild.mjs`. Prints markdown tables.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { repoRoot, sleep } from '../scripts/vscode/codeServer.mjs';
import {
  findWebview,
  loggedMs,
  logLines,
  openFile,
  outputLog,
  prepareCommand,
  runCommand,
  selectLine,
  waitForLog,
  waitWorkbench,
  workbenchErrors,
} from '../scripts/vscode/workbenchDriver.mjs';
import { fmt, kb, log, median, openBenchWorkbench, printBenchHeading, printTable, range, runBenchmark, sentences, tempDir, uiBenchArguments, words } from './uiBenchSupport.mjs';

const args = uiBenchArguments();
const opt = args.option;
const REPEATS = Number(opt('--repeats', 3));
const DEMO = join(repoRoot, 'models', 'demo-sentiment');
const TITLES = { useDemo: 'ONNX Lens: Use Demo Model', explain: 'ONNX Lens: Explain Selection', attention: 'ONNX Lens: Show Attention' };
const openWorkbench = (settings, files) => openBenchWorkbench(settings, files, args);

/** The 12-layer × 12-head model, 192 wide (ONNX_LENS_BENCH_MODEL_12X12 reuses one). */
function narrowModel() {
  const given = process.env.ONNX_LENS_BENCH_MODEL_12X12;
  if (given) return resolve(given);
  const folder = join(tempDir(), 'bert-12x12');
  const r = spawnSync('/usr/bin/python3', [join(repoRoot, 'bench', 'make_bench_model.py'), folder, '--hidden', '192', '--heads', '12'], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`make_bench_model.py failed (exit ${r.status})`);
  return folder;
}

/** The panel's webview document (<body class="panel">). */
async function panelFrame(page, timeoutMs = 60_000, pollMs = 10) {
  return (await findWebview(page, 'panel', { timeoutMs, pollMs })).frame;
}

// ------------------------------------------------------------------- 1. Explain Selection timing

/**
 * Installed in the panel's document: every animation frame, notes the first frame where the Attributions
 * tab shows coloured words of the expected text, as a partial estimate and as the final explanation.
 */
function attributionWatcher({ expect }) {
  const st = { installedAt: Date.now(), partialAt: null, finalAt: null, partialSeenAtInstall: false, finalSeenAtInstall: false, words: 0 };
  const look = () => {
    const body = document.querySelector('.tab.attributions .body');
    if (!body) return {};
    const coloured = (root) =>
      root ? [...root.querySelectorAll('.colored-text .feature')].filter((f) => !/rgba\(.*,\s*0\)$|transparent/.test(getComputedStyle(f).backgroundColor)) : [];
    const matches = (p) => (p?.textContent ?? '').replace(/\s+/g, ' ').trim().startsWith(expect);
    const finalText = body.querySelector('.explanation-block .colored-text');
    const partialText = !finalText && /partial estimate/.test(body.textContent ?? '') ? body.querySelector('.colored-text') : null;
    return {
      partial: partialText && matches(partialText) && coloured(partialText.parentElement).length > 0,
      final: finalText && matches(finalText) ? coloured(finalText.closest('.explanation-block')).length : 0,
    };
  };
  const first = look();
  if (first.partial) st.partialSeenAtInstall = true;
  if (first.final) {
    st.finalSeenAtInstall = true;
    st.finalAt = st.installedAt;
    st.words = first.final;
  }
  const tick = () => {
    const s = look();
    const t = Date.now();
    if (s.partial && st.partialAt === null) st.partialAt = t;
    if (s.final && st.finalAt === null) {
      st.finalAt = t;
      st.words = s.final;
    }
    if (st.finalAt === null) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  window.__lensBench = st;
}

/** One Explain Selection, timed: with `frame` the panel is open and watched from before the command. */
async function timedExplain(wb, line, text, frame) {
  const { page, server } = wb;
  await selectLine(page, line);
  const expect = text.split(' ').slice(0, 4).join(' ');
  if (frame) await frame.evaluate(attributionWatcher, { expect });
  const cmd = await prepareCommand(page, TITLES.explain);
  const t0 = await cmd.go();
  let cold = false;
  if (!frame) {
    cold = true;
    frame = await panelFrame(page, 60_000, 5);
    await frame.evaluate(attributionWatcher, { expect });
  }
  const deadline = Date.now() + 120_000;
  let st;
  while (Date.now() < deadline) {
    st = await frame.evaluate(() => window.__lensBench);
    if (st?.finalAt) break;
    await sleep(20);
  }
  if (!st?.finalAt) throw new Error('the explanation was not drawn');
  const done = await waitForLog(server, /^Explained "/, t0);
  const lines = logLines(server).filter((l) => l.at >= t0 - 5 && l.at <= done.at + 5);
  const find = (re) => lines.find((l) => re.test(l.text));
  const predictDone = find(/^Predicting: done in [\d.]+ m?s/);
  const explainStart = find(/^Explaining \(.*\)…$/);
  const explainDone = find(/^Explaining \(.*\): done in/);
  const engineExplain = find(/^engine: explain [\w-]+: .* (\d+) ms$/);
  const predictStart = find(/^Predicting…$/);
  const predictMs = predictDone ? loggedMs(predictDone.text) : NaN;
  const engineMs = engineExplain ? Number(/(\d+) ms$/.exec(engineExplain.text)[1]) : NaN;
  const evaluations = engineExplain ? Number(/(\d+) evaluations/.exec(engineExplain.text)?.[1]) : NaN;
  return {
    cold,
    first: (st.partialAt ?? st.finalAt) - t0,
    partial: st.partialAt !== null,
    final: st.finalAt - t0,
    /** The explanation was already on screen when the watcher came in (cold panel): `final` is an upper bound. */
    upperBound: st.finalSeenAtInstall || st.partialSeenAtInstall,
    words: st.words,
    engine: predictMs + engineMs,
    engineExplain: engineMs,
    evaluations,
    /** As the extension saw it: "Predicting…" to "Explaining: done", the engine plus its message round trips. */
    hostRequests: predictStart && explainDone ? explainDone.at - predictStart.at : NaN,
    commandToPredict: predictStart ? predictStart.at - t0 : NaN,
    explainDoneToFinal: explainDone ? st.finalAt - explainDone.at : NaN,
    explainStartSeen: !!explainStart,
  };
}

async function explainBench(texts) {
  const file = texts.map((t) => t).join('\n') + '\n';
  const cold = [];
  const warm = [];
  let wb;
  try {
    wb = await openWorkbench({}, { 'bench.txt': file });
    for (let r = 0; r < REPEATS + 1; r++) {
      // A fresh window each time: a new extension host, engine and panel (the first explanation the window shows).
      if (r > 0) {
        await runCommand(wb.page, 'Developer: Reload Window');
        await sleep(1500);
        await waitWorkbench(wb.page);
      }
      await openFile(wb.page, 'bench.txt');
      const since = Date.now();
      await runCommand(wb.page, TITLES.useDemo);
      await waitForLog(wb.server, /^Model /, since);
      await sleep(1000);
      const c = await timedExplain(wb, 1 + (r % texts.length), texts[r % texts.length], undefined);
      log(`explain, new panel (${r === 0 ? 'warm-up' : `repeat ${r}`}): first ${c.first} ms, final ${c.final} ms, engine ${c.engine} ms`);
      if (r > 0) cold.push(c);
      // The same window with the panel open: explain the other texts.
      if (r === REPEATS) {
        const frame = await panelFrame(wb.page);
        await sleep(1000);
        for (let k = 0; k < REPEATS + 1; k++) {
          const i = (r + 1 + k) % texts.length;
          const w = await timedExplain(wb, i + 1, texts[i], frame);
          log(`explain, panel open (${k === 0 ? 'warm-up' : `repeat ${k}`}): final ${w.final} ms, engine ${w.engine} ms`);
          if (k > 0) warm.push(w);
          await sleep(1000);
        }
      }
    }
  } finally {
    await wb?.close();
  }
  return { cold, warm };
}

/** The same predict + explain requests through EngineClient (the engine process the extension forks). */
async function engineClientBench(texts) {
  const require = createRequire(import.meta.url);
  const clientJs = join(repoRoot, 'out', 'src', 'engine', 'process', 'engineClient.js');
  const entry = join(repoRoot, 'dist', 'engine.js');
  if (!existsSync(clientJs) || !existsSync(entry)) return undefined;
  const { EngineClient } = require(clientJs);
  const runs = [];
  for (let r = 0; r < REPEATS + 1; r++) {
    // A fresh engine each time, as after a window reload; then the panel-open case on the same engine.
    const client = new EngineClient({ entry });
    try {
      await client.request('open', { modelPath: DEMO, variant: 'fp32', options: { executionProviders: ['cpu'], maxTokens: 512 } });
      const once = async (text) => {
        const t0 = Date.now();
        let firstPartial = NaN;
        await client.request('predict', { text, topK: 10 });
        await client.request('explain', { text, method: 'partition-shap', budget: 500, level: 'word' }, {
          onProgress: (p) => {
            if (p.partial && Number.isNaN(firstPartial)) firstPartial = Date.now() - t0;
          },
        });
        return { total: Date.now() - t0, firstPartial };
      };
      const first = await once(texts[r % texts.length]);
      const again = await once(texts[(r + 1) % texts.length]);
      if (r > 0) runs.push({ first, again });
    } finally {
      client.dispose();
    }
  }
  return {
    cold: median(runs.map((x) => x.first.total)),
    coldPartial: median(runs.map((x) => x.first.firstPartial)),
    warm: median(runs.map((x) => x.again.total)),
    warmPartial: median(runs.map((x) => x.again.firstPartial)),
  };
}

// ----------------------------------------------------------------------------- 2. Attention tab

/** Installed in the panel's document: sizes and arrival of attention messages, and when the canvas shows them. */
function attentionWatcher() {
  const st = { arrive: null, handled: null, frame: null, painted: null, pixels: false, typed: 0, json: 0, info: '', matrix: null };
  const size = (data) => {
    let typed = 0;
    const json = JSON.stringify(data, (_k, v) => {
      if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) {
        typed += v.byteLength;
        return 0;
      }
      return v;
    });
    return { typed, json: json.length };
  };
  const canvas = () => document.querySelector('.attention-canvas canvas');
  const hasPixels = () => {
    const c = canvas();
    if (!c || !c.width || !c.height) return false;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) return true;
    return false;
  };
  // Blank the canvas, so that what it shows next is the new overview.
  const c = canvas();
  if (c) c.getContext('2d').clearRect(0, 0, c.width, c.height);
  st.blankBefore = !hasPixels();
  // Capturing listeners at the target run before the webview's own handler; bubbling ones after it.
  window.addEventListener(
    'message',
    (e) => {
      const m = e.data;
      if (m?.type === 'attention' && st.arrive === null) {
        st.arrive = Date.now();
        Object.assign(st, size(m));
      } else if (m?.type === 'response' && m.result && Array.isArray(m.result.heads) && st.matrix && st.matrix.arrive === null) {
        st.matrix.arrive = Date.now();
        Object.assign(st.matrix, size(m), { rows: m.result.rows, cols: m.result.cols, heads: m.result.heads.length });
      }
    },
    { capture: true },
  );
  window.addEventListener('message', (e) => {
    const m = e.data;
    if (m?.type === 'attention' && st.handled === null) {
      st.handled = Date.now();
      const poll = () => {
        st.frame = Date.now();
        if (hasPixels()) {
          st.pixels = true;
          // The frame is painted once the animation-frame callbacks and the paint after them are done.
          setTimeout(() => {
            st.painted = Date.now();
            st.info = document.querySelector('.tab.attention p.muted')?.textContent ?? '';
          }, 0);
        } else requestAnimationFrame(poll);
      };
      requestAnimationFrame(poll);
    } else if (m?.type === 'response' && st.matrix && st.matrix.arrive !== null && st.matrix.painted === null) {
      requestAnimationFrame(() => setTimeout(() => (st.matrix.painted = Date.now()), 0));
    }
  });
  window.__lensAttention = st;
}

async function attentionBench(modelFolder, texts) {
  const rows = [];
  let wb;
  try {
    wb = await openWorkbench({ 'onnxLens.modelPath': modelFolder, 'onnxLens.maxTokens': 512 }, { 'long.txt': texts.join('\n') + '\n' });
    const { page, server } = wb;
    await openFile(page, 'long.txt');
    // Activates the extension before the first measured command.
    await runCommand(page, 'ONNX Lens: Show Log');
    await sleep(3000);
    for (let r = 0; r < texts.length; r++) {
      await selectLine(page, r + 1);
      let frame;
      if (r > 0) {
        frame = await panelFrame(page);
        // Back to the model view (all heads), which is what Show Attention draws first.
        await frame.locator('.tab.attention .controls select').first().selectOption('model').catch(() => {});
        await sleep(300);
        await frame.evaluate(attentionWatcher);
      }
      const cmd = await prepareCommand(page, TITLES.attention);
      const t0 = await cmd.go();
      if (r === 0) {
        // Warm-up: opens the model, creates the panel and runs the engine once.
        frame = await panelFrame(page, 180_000);
        await waitForLog(server, /^Reading attention and hidden states: done in/, t0, 180_000);
        await sleep(3000);
        continue;
      }
      let st;
      const deadline = Date.now() + 180_000;
      while (Date.now() < deadline) {
        st = await frame.evaluate(() => window.__lensAttention);
        if (st?.painted) break;
        await sleep(50);
      }
      if (!st?.painted) throw new Error('the attention overview was not drawn');
      const done = await waitForLog(server, /^Reading attention and hidden states: done in [\d.]+ m?s/, t0);
      const engineMs = loggedMs(done.text);
      // One head's full matrix: click the first thumbnail (layer 1, head 1); the panel requests that layer.
      await frame.evaluate(() => (window.__lensAttention.matrix = { arrive: null, painted: null }));
      const canvas = frame.locator('.attention-canvas canvas');
      const clickAt = Date.now();
      await canvas.click({ position: { x: 40 + 28, y: 22 + 28 } });
      let m;
      const mDeadline = Date.now() + 60_000;
      while (Date.now() < mDeadline) {
        m = (await frame.evaluate(() => window.__lensAttention.matrix)) ?? {};
        if (m.painted) break;
        await sleep(50);
      }
      const row = {
        info: st.info.replace(/\s+/g, ' ').trim(),
        typed: st.typed,
        json: st.json,
        engine: engineMs,
        commandToPainted: st.painted - t0,
        hostToArrive: st.arrive - done.at,
        arriveToPainted: st.painted - st.arrive,
        handler: st.handled - st.arrive,
        blankBefore: st.blankBefore,
        matrixTyped: m?.typed ?? NaN,
        matrixJson: m?.json ?? NaN,
        matrixShape: m?.rows ? `${m.heads} × ${m.rows} × ${m.cols}` : '–',
        clickToPainted: m?.painted ? m.painted - clickAt : NaN,
      };
      log(`attention repeat ${r}: ${row.info}; ${kb(row.typed)} + ${kb(row.json)} JSON; command → painted ${row.commandToPainted} ms (engine ${engineMs} ms, host → webview ${row.hostToArrive} ms, arrival → painted ${row.arriveToPainted} ms); matrix ${row.matrixShape} ${kb(row.matrixTyped)} in ${row.clickToPainted} ms`);
      rows.push(row);
      await sleep(1000);
    }
  } catch (err) {
    if (wb) {
      const file = outputLog(wb.server);
      const notes = await workbenchErrors(wb.page);
      err.message += `\n  on screen: ${notes.join(' | ')}\n  log: ${file ? readFileSync(file, 'utf8').split('\n').slice(-8).join('\n  ') : 'none'}`;
    }
    throw err;
  } finally {
    await wb?.close();
  }
  return rows;
}

// ------------------------------------------------------------------------------------------ main

async function main() {
  const started = Date.now();
  printBenchHeading('The extension itself (VS Code UI)', args);
  const all = sentences();
  const short = Array.from({ length: 2 * (REPEATS + 1) }, (_, i) => words(all, 37 + i * 101, 20));
  const long = Array.from({ length: REPEATS + 1 }, (_, i) => words(all, 211 + i * 97, 640));

  const part = opt('--part', 'all');
  const ex = { cold: [], warm: [] };
  let ec;
  if (part !== 'attention') {
    log('explain: demo model, 20 words');
    Object.assign(ex, await explainBench(short));
    log('explain: the same requests through EngineClient');
    ec = await engineClientBench(short);
  }

  const rowOf = (name, xs, ecTotal, ecPartial) => [
    name,
    median(xs.map((x) => x.words)),
    median(xs.map((x) => x.evaluations)),
    median(xs.map((x) => x.engine)),
    xs.every((x) => x.partial) ? 'partial' : xs.some((x) => x.partial) ? 'partial (some)' : 'final',
    `${xs.some((x) => x.upperBound) ? '≤ ' : ''}${fmt(median(xs.map((x) => x.first)))}`,
    `${xs.some((x) => x.upperBound) ? '≤ ' : ''}${fmt(median(xs.map((x) => x.final)))}`,
    median(xs.map((x) => x.first / x.engine)),
    median(xs.map((x) => x.final / x.engine)),
    range(xs.map((x) => x.final / x.engine)),
    median(xs.map((x) => x.hostRequests)),
    median(xs.map((x) => x.commandToPredict)),
    median(xs.map((x) => x.explainDoneToFinal)),
    ecTotal !== undefined ? `${fmt(ecTotal)} (first partial ${fmt(ecPartial)})` : '–',
    ecTotal !== undefined ? median(xs.map((x) => x.final)) / ecTotal : NaN,
  ];
  if (part !== 'attention') printTable(
    'The extension itself — Explain Selection, demo model, 20 words (partition-shap, budget 500)',
    ['panel', 'words', 'evaluations', 'engine ms (log)', 'first picture', 'command → first picture ms', 'command → final picture ms', 'first ÷ engine', 'final ÷ engine', 'range (final ÷ engine)', 'extension-side requests ms', 'command → predict sent ms', 'explain done → final drawn ms', 'EngineClient predict + explain ms', 'final ÷ EngineClient'],
    [rowOf('new (first explanation of the window)', ex.cold, ec?.cold, ec?.coldPartial), rowOf('already open', ex.warm, ec?.warm, ec?.warmPartial)],
    [
      `Median of ${REPEATS} repeats after a warm-up. New panel: each repeat in a freshly reloaded window (new extension host and engine; Use Demo Model run first and finished), so the command creates the panel. Already open: the same window afterwards, other 20-word selections, the panel showing the previous explanation.`,
      'Command: the moment Enter runs "ONNX Lens: Explain Selection" in the Command Palette. Pictures: the first animation frame in the panel\'s webview where the Attributions tab shows coloured words of the new text — as a partial estimate (`first picture` says which came first) and as the final explanation (its word cells and bar chart). With a new panel the watcher is added as soon as the webview exists; "≤" marks medians where the picture was already there then (an upper bound).',
      'Engine ms: the engine\'s own durations from the "ONNX Lens" output log: the explain request as the engine logs it plus the predict request (the engine does not log predictions; its extension-side duration is used). `extension-side requests`: "Predicting…" to "Explaining: done" as the extension logs them (engine, message passing and the host\'s progress handling).',
      '`EngineClient`: the same predict and explain requests from this process through EngineClient to a freshly forked engine (dist/engine.js) with the demo model open, median over repeats: the first request pair after opening (as in a new window) and the next one (as with the panel open); in brackets, when the first partial result arrived.',
    ],
  );

  if (part === 'explain') return;
  log('attention: 12 × 12 heads, 512 tokens');
  const folder = narrowModel();
  const att = await attentionBench(folder, long);
  const a0 = att[0] ?? {};
  printTable(
    'The extension itself — Attention tab, 512 tokens, 12 layers × 12 heads (random-weight BERT, 192 wide)',
    ['what arrives', 'binary bytes (typed arrays)', 'JSON bytes (labels, structure)', 'engine ms (attention + hidden states)', 'engine result in host → message in webview ms', 'message → canvas painted ms', 'of which the webview handler ms', 'command → canvas painted ms', 'painted ÷ engine'],
    [
      [
        `overview: thumbnails of all 144 heads (${a0.info?.split('·')[0]?.trim() ?? ''})`,
        median(att.map((x) => x.typed)),
        median(att.map((x) => x.json)),
        median(att.map((x) => x.engine)),
        median(att.map((x) => x.hostToArrive)),
        median(att.map((x) => x.arriveToPainted)),
        median(att.map((x) => x.handler)),
        median(att.map((x) => x.commandToPainted)),
        median(att.map((x) => x.commandToPainted / x.engine)),
      ],
      [
        `one layer's full matrices after a click (${a0.matrixShape ?? '–'}: mean + 12 heads)`,
        median(att.map((x) => x.matrixTyped)),
        median(att.map((x) => x.matrixJson)),
        '–',
        '–',
        `click → painted ${fmt(median(att.map((x) => x.clickToPainted)))}`,
        '–',
        '–',
        '–',
      ],
    ],
    [
      `Median of ${att.length} repeats after a warm-up (which opens the model and the panel), each on a different selection of 640 words of heldout sentences, cut by onnxLens.maxTokens = 512 to 512 tokens; the overview is at word level (the default), so its rows and columns are words and special tokens.`,
      `The float32 tensors the engine sends to the extension host are 12 × 12 × 512 × 512 × 4 B = 151 MB of attention plus 13 × 512 × 192 × 4 B = 5.1 MB of hidden states (computed from the shapes); the webview receives 8-bit thumbnails (at most 64 × 64 per head) and labels.`,
      'Bytes: measured on the messages as the webview receives them (a capturing `message` listener added to its document): the byte length of every typed array, and the JSON length of the rest.',
      'Times: the engine\'s attention request and the moment its result reached the extension from the output log (its "done" line); the message\'s arrival in the webview (before the panel\'s handler), the handler\'s end, and the first animation frame where the attention canvas (blanked before the command) has pixels, plus the paint after it. The host-side post itself is not observable from outside, so "engine result in host → message in webview" includes building the thumbnails in the extension host and the transfer.',
      'Matrix: clicking the first thumbnail opens layer 1 in the matrix view; the panel requests that layer\'s full 8-bit matrices (mean over heads + 12 heads) and draws the visible cells.',
    ],
  );
  process.stderr.write(`ui: ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
}

runBenchmark(main);
