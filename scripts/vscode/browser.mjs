// Chromium through playwright-core, for code-server's workbench. Never downloads a browser:
// it uses the system Chromium (ONNX_LENS_CHROMIUM, default /usr/bin/chromium).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { toolPaths } from './codeServer.mjs';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-dev-shm-usage',
];

/**
 * Launches Chromium with a fresh profile inside the code-server scratch folder (HOME there too).
 * @param {{ scratch: string, env: Record<string,string> }} server  what startCodeServer returned
 * @param {object} [o] extra launchPersistentContext options (viewport, colorScheme, ...)
 */
export async function launchBrowser(server, o = {}) {
  const profile = join(server.scratch, 'chromium-profile');
  mkdirSync(profile, { recursive: true });
  return chromium.launchPersistentContext(profile, {
    executablePath: toolPaths().chromium,
    args: CHROMIUM_ARGS,
    env: server.env,
    headless: true,
    viewport: { width: 1280, height: 800 },
    ...o,
  });
}
