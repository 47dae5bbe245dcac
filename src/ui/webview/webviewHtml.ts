/**
 * The one place webview HTML is written. Nothing dynamic is spliced into it but URIs the extension
 * built itself and a fresh nonce: state goes in by message after the webview says it is ready.
 */
import { escapeHtml } from '../../render/htmlEscape';

export interface WebviewShell {
  /** `webview.cspSource`: the origin styles, images and fonts may come from. */
  cspSource: string;
  /** A fresh random nonce per render; the only scripts that run carry it. */
  nonce: string;
  /** Script and stylesheet URIs already converted with `asWebviewUri`. */
  scriptUri: string;
  styleUris: string[];
  title: string;
  /** Class on <body> so the first paint already has the right layout. */
  bodyClass?: string;
}

/** The Content-Security-Policy of every ONNX Lens webview. */
export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  if (!/^[A-Za-z0-9+/=_-]{16,}$/.test(nonce)) throw new RangeError('nonce must be at least 16 base64 characters');
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource}`,
    `img-src ${cspSource} data:`,
    `font-src ${cspSource}`,
  ].join('; ');
}

/** A nonce from a cryptographic source (Web Crypto, available in Node 20 and in browsers). */
export function makeNonce(): string {
  const bytes = new Uint8Array(24);
  globalThis.crypto.getRandomValues(bytes);
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The HTML document of a webview: CSP, stylesheets, an empty app root and the nonce'd script. */
export function webviewHtml(shell: WebviewShell): string {
  const csp = contentSecurityPolicy(shell.cspSource, shell.nonce);
  const styles = shell.styleUris.map((u) => `<link rel="stylesheet" href="${escapeHtml(u)}">`).join('\n    ');
  return `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
    <meta name="viewport" content="width=device-width, initial-scale=1.0">
    ${styles}
    <title>${escapeHtml(shell.title)}</title>
  </head>
  <body class="${escapeHtml(shell.bodyClass ?? '')}">
    <div id="app"></div>
    <script nonce="${escapeHtml(shell.nonce)}" src="${escapeHtml(shell.scriptUri)}"></script>
  </body>
</html>`;
}
