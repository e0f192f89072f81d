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
 * A missing browser fails the browser tests, never skips them: `npm test`
 * installs it first (scripts/ensure-test-deps.mjs); when a test file is run
 * some other way, the message names the command.
 */
if (!existsSync(CHROMIUM)) {
  throw new Error(
    `Chromium not found at ${CHROMIUM}: run \`apt-get install chromium\` (Debian; or set CHROMIUM_PATH to a Chromium binary), or run the tests with \`npm test\`, which installs it`
  );
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}
