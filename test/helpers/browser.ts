/**
 * Headless Chromium for the browser tests: Debian's `chromium` package driven
 * by playwright-core (no browser download). The flags keep it off the
 * network this machine does not have (background networking, component
 * updates, sync) and let it run as root.
 */
import { existsSync } from 'node:fs';

import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/**
 * `false`, or why the browser tests are skipped here. Under CI a missing
 * browser is an error, never a silent skip: `.ci/run` installs it.
 */
export const browserSkip: false | string = (() => {
  if (existsSync(CHROMIUM)) return false;
  if (process.env.CI) throw new Error(`Chromium not found at ${CHROMIUM}: .ci/run should have installed it (apt-get install chromium)`);
  return `Chromium not installed at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`;
})();

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}
