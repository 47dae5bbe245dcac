// Hostile text and labels in what ONNX Lens exports: the HTML report and the SVG charts. Each file is
// opened in a real browser (the system Chromium through playwright-core, headless): nothing may execute,
// no element may come from the input's markup, no request may leave the file, and the report carries
// a Content-Security-Policy.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { attributionBarsSvg, curveSvg, heatmapSvg } from '../../../src/render/svgCharts';
import { classifierWithLabels } from '../../support/hostileModels';
import { describeRun, jsonOf, runCli } from '../cli/cliProcess';

const CHROMIUM = process.env.ONNX_LENS_CHROMIUM || '/usr/bin/chromium';
const noBrowser = !fs.existsSync(CHROMIUM) && `no Chromium at ${CHROMIUM} (set ONNX_LENS_CHROMIUM, or run scripts/vscode/installTools.sh)`;

/** Each payload sets window.__pwned to its own number if it ever runs. */
const PAYLOADS = {
  script: '<script>window.__pwned=1</script>',
  attribute: '"><img src=x onerror="window.__pwned=2">',
  closeScript: '</script><script>window.__pwned=3</script>',
  svg: "'><svg onload=window.__pwned=4><title>x</title></svg>",
  folder: '<img src=x onerror=window.__pwned=5>',
  style: '</style><style>body{background:url(http://127.0.0.1:9/x)}</style>',
};
const HOSTILE_TEXT = `a fine ${PAYLOADS.closeScript} movie ${PAYLOADS.svg} indeed ${PAYLOADS.style}`;

let browser: Browser | undefined;
let work: string;

before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-lens-export-faults-'));
  if (!noBrowser) {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
    });
  }
});
after(async () => {
  await browser?.close();
  fs.rmSync(work, { recursive: true, force: true });
});

interface Opened {
  pwned: unknown;
  dialogs: string[];
  requests: string[];
  violations: number;
  /** Elements the input could only have made by being parsed as markup. */
  injected: string[];
  csp: string | null;
  text: string;
}

/** Opens a file in Chromium and reports what ran, what it loaded and what it shows. */
async function open(file: string): Promise<Opened> {
  const page = await browser!.newPage();
  const dialogs: string[] = [];
  const requests: string[] = [];
  const own = pathToFileURL(file).href;
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('request', (r) => {
    if (r.url() !== own) requests.push(r.url());
  });
  // Page scripts as text: this file is compiled without the DOM's types.
  await page.addInitScript({ content: "window.__violations = 0; document.addEventListener('securitypolicyviolation', () => window.__violations++);" });
  await page.goto(own, { waitUntil: 'load' });
  await page.waitForTimeout(200);
  const seen = (await page.evaluate(`({
    pwned: window.__pwned,
    violations: window.__violations,
    injected: [...document.querySelectorAll('img, iframe, object, embed, style ~ style, script:not([type="application/json"]), [onerror], [onload], svg svg')].map((e) => e.outerHTML.slice(0, 80)),
    csp: document.querySelector('meta[http-equiv="Content-Security-Policy"]')?.getAttribute('content') ?? null,
    text: document.documentElement.textContent ?? '',
  })`)) as Omit<Opened, 'dialogs' | 'requests'>;
  await page.close();
  return { ...seen, dialogs, requests };
}

function assertInert(o: Opened, what: string): void {
  assert.equal(o.pwned, undefined, `${what}: a payload ran`);
  assert.deepEqual(o.dialogs, [], `${what}: dialogs`);
  assert.deepEqual(o.injected, [], `${what}: elements made from the input`);
  assert.deepEqual(o.requests, [], `${what}: requests`);
}

describe('exports with hostile text and labels', { skip: noBrowser }, () => {
  let report: string;
  let result: any;

  before(async () => {
    const model = classifierWithLabels([PAYLOADS.script, PAYLOADS.attribute], PAYLOADS.folder);
    report = path.join(work, 'report.html');
    const run = await runCli(['explain', '--model', model, '--method', 'occlusion', '--json', '--html', report, HOSTILE_TEXT]);
    assert.equal(run.code, 0, describeRun(run));
    result = jsonOf(run);
  });

  test('the HTML report: no payload runs, no element or request comes from the text, the labels or the folder name', async () => {
    const o = await open(report);
    assertInert(o, 'report');
    // What was hostile markup is shown as text.
    for (const p of [PAYLOADS.script, PAYLOADS.attribute, PAYLOADS.folder, PAYLOADS.closeScript, PAYLOADS.svg]) {
      assert.ok(o.text.includes(p), `the report shows ${JSON.stringify(p)} as text`);
    }
  });

  test('the HTML report has a Content-Security-Policy that allows no script and nothing remote', async () => {
    const o = await open(report);
    assert.ok(o.csp, 'a CSP meta element');
    assert.match(o.csp, /default-src 'none'/);
    assert.doesNotMatch(o.csp, /script-src|https?:|\*/);
    assert.equal(o.violations, 0, 'nothing even tried to load or run');
  });

  test('the result embedded in the report parses back to the same labels and text', async () => {
    const html = fs.readFileSync(report, 'utf8');
    const embedded = /<script type="application\/json" id="onnx-lens-result">([\s\S]*?)<\/script>/.exec(html);
    assert.ok(embedded);
    const data = JSON.parse(embedded[1]);
    assert.equal(data.result.text, HOSTILE_TEXT);
    assert.deepEqual(data.result.fullOutput.candidates.map((c: { label: string }) => c.label).sort(), [PAYLOADS.script, PAYLOADS.attribute].sort());
    assert.equal(data.result.text, result.text);
  });

  test('SVG charts (bars, heatmap, curves) opened as files: no payload runs, the labels are text', async () => {
    const labels = Object.values(PAYLOADS);
    // [file, svg, a piece of hostile markup it must show as text (long labels are clipped)]
    const files: [string, string, string][] = [
      ['bars.svg', attributionBarsSvg(labels.map((text, i) => ({ text, value: i - 2.5 })), { title: PAYLOADS.script, axisTitle: PAYLOADS.attribute, legend: { positive: PAYLOADS.closeScript, negative: PAYLOADS.svg } }), '"><img src=x onerror='],
      ['heatmap.svg', heatmapSvg({ title: PAYLOADS.closeScript, rows: labels, cols: labels, values: labels.flatMap(() => labels.map(() => 0.5)) }), '<script>window.'],
      ['curves.svg', curveSvg([{ name: PAYLOADS.attribute, values: [1, 0.5, 0], color: '"/><script>window.__pwned=6</script>' }], { title: PAYLOADS.svg }), PAYLOADS.svg],
    ];
    for (const [name, svg, shown] of files) {
      const file = path.join(work, name);
      fs.writeFileSync(file, svg);
      const o = await open(file);
      assertInert(o, name);
      assert.ok(o.text.includes(shown), `${name} shows ${JSON.stringify(shown)} as text`);
    }
  });
});
