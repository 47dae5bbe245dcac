import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeHtml, escapeMarkdown } from '../../../src/render/htmlEscape';
import { contentSecurityPolicy, makeNonce, webviewHtml } from '../../../src/ui/webview/webviewHtml';
import { hoverMarkdown } from '../../../src/ui/editor/hoverText';
import { isPanelMessage, isSidebarMessage } from '../../../src/protocol/webviewMessages';

const CSP_SOURCE = 'https://file+.vscode-resource.vscode-cdn.net';

describe('HTML escaping', () => {
  test('markup in text is inert', () => {
    assert.equal(escapeHtml('<img src=x onerror=alert(1)>'), '&lt;img src=x onerror=alert(1)&gt;');
    assert.equal(escapeHtml(`"a" & 'b'`), '&quot;a&quot; &amp; &#39;b&#39;');
  });
  test('markdown in a word cannot make a link or a command', () => {
    const md = escapeMarkdown('[x](command:workbench.action.terminal.new)');
    assert.ok(!md.includes('](command'));
    assert.equal(md, '\\[x\\]\\(command:workbench\\.action\\.terminal\\.new\\)');
  });
});

describe('webview HTML', () => {
  test('nonces are random, long and URL-safe', () => {
    const a = makeNonce();
    const b = makeNonce();
    assert.notEqual(a, b);
    assert.match(a, /^[A-Za-z0-9_-]{32}$/);
  });
  test('CSP: nothing by default, scripts by nonce only, styles and images from the webview source', () => {
    const csp = contentSecurityPolicy(CSP_SOURCE, 'abcdefghijklmnopqrstuvwx');
    assert.match(csp, /^default-src 'none'; /);
    assert.match(csp, /script-src 'nonce-abcdefghijklmnopqrstuvwx'(;|$)/);
    assert.match(csp, new RegExp(`style-src ${CSP_SOURCE.replace(/[.+]/g, '\\$&')}(;|$)`));
    assert.ok(!csp.includes('unsafe-inline'));
    assert.ok(!csp.includes('unsafe-eval'));
    assert.throws(() => contentSecurityPolicy(CSP_SOURCE, 'short'));
  });
  test('the page has one nonce\'d script, no inline state, and escapes what it is given', () => {
    const nonce = makeNonce();
    const html = webviewHtml({ cspSource: CSP_SOURCE, nonce, scriptUri: 'https://x/dist/webview/panel.js', styleUris: ['https://x/media/webview.css'], title: '<b>t</b>' });
    const scripts = html.match(/<script\b[^>]*>/g) ?? [];
    assert.equal(scripts.length, 1);
    assert.ok(scripts[0].includes(`nonce="${nonce}"`));
    assert.ok(html.includes('<title>&lt;b&gt;t&lt;/b&gt;</title>'));
    assert.ok(/<script[^>]*><\/script>/.test(html), 'the script tag has no inline body');
    assert.ok(html.includes('http-equiv="Content-Security-Policy"'));
  });
});

describe('hover text', () => {
  const target = { kind: 'class' as const, id: 1, label: 'POSITIVE', description: 'class POSITIVE' };
  test('value, rank, direction, attention and the panel link', () => {
    const md = hoverMarkdown({ word: 'great', value: 0.42, rank: 1, of: 5, method: 'partition-shap', valueName: 'Owen value', target, attendsTo: [{ word: 'movie', weight: 0.31 }], openCommandUri: 'command:onnxLens.showPanel?%5B%5D' });
    assert.match(md, /\+0\.420 Owen value — rank 1 of 5 \(partition\\-shap\)/);
    assert.match(md, /pushes toward \*\*POSITIVE\*\*/);
    assert.match(md, /Attends most to .*movie 31%/);
    assert.match(md, /\[Open in ONNX Lens panel\]\(command:onnxLens\.showPanel\?%5B%5D\)/);
  });
  test('a negative word pushes away, toward the runner-up; markup in the word stays text', () => {
    const md = hoverMarkdown({ word: '<img src=x onerror=alert(1)>', value: -0.2, rank: 2, of: 5, method: 'lime', valueName: 'LIME weight', target, runnerUp: 'NEGATIVE' });
    assert.match(md, /pushes away from \*\*POSITIVE\*\* \(toward NEGATIVE\)/);
    assert.ok(md.includes('\\<img src=x onerror=alert\\(1\\)\\>'));
  });
});

describe('message validation', () => {
  test('only known message types pass', () => {
    assert.ok(isPanelMessage({ type: 'ready' }));
    assert.ok(isPanelMessage({ type: 'response', inReplyTo: 1, ok: true, result: {} }));
    assert.ok(!isPanelMessage({ type: 'eval' }));
    assert.ok(!isPanelMessage('ready'));
    assert.ok(!isPanelMessage(null));
    assert.ok(isSidebarMessage({ type: 'action', action: 'openModel' }));
    assert.ok(!isSidebarMessage({ type: 'runExplain' }));
  });
});
