/**
 * A server whose gallery packages are not installed (a fresh clone after
 * `npm ci` alone): each slug answers 503 with a JSON-RPC error naming the
 * command that installs them, and the landing page says so too. Installing
 * them while the server runs is enough: the next request loads the app and
 * the page stops saying "not installed".
 *
 * The gallery folder is a temporary copy of gallery/package.json; "installing"
 * links the real gallery/node_modules into it (installed by `npm --prefix gallery ci`).
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';

import { startServer, type RunningServer } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { GALLERY_INSTALL_COMMAND } from '../../src/gallery/index.js';
import { GALLERY_ROOT } from '../../src/gallery/backend.js';
import { createLogger } from '../../src/logger.js';

const APP = 'basic-vanillajs';
const INITIALIZE = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } };

let server: RunningServer;
let root: string;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'gallery-not-installed-'));
  copyFileSync(join(GALLERY_ROOT, 'package.json'), join(root, 'package.json'));
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', NODE_ENV: 'test', LOG_LEVEL: 'silent', EXAMPLE_APPS_PUBLIC: 'true' });
  server = await startServer(config, { logger: createLogger('silent'), galleryRoot: root });
});
after(async () => {
  await server?.close();
  rmSync(root, { recursive: true, force: true });
});

const initialize = () =>
  fetch(`${server.url}/${APP}/mcp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify(INITIALIZE)
  });
const landing = async () => (await fetch(`${server.url}/`)).text();

it('a slug of an app that is not installed answers 503 naming the command, and installing it needs no restart', async () => {
  const res = await initialize();
  assert.equal(res.status, 503);
  const body = (await res.json()) as { jsonrpc: string; id: unknown; error: { code: number; message: string } };
  assert.equal(body.jsonrpc, '2.0');
  assert.equal(body.id, null);
  assert.equal(body.error.code, -32000);
  assert.ok(body.error.message.includes(`\`${GALLERY_INSTALL_COMMAND}\``), body.error.message);
  assert.match(body.error.message, new RegExp(`example app ${APP} is not installed`));
  assert.match(await landing(), /not installed: <code>npm --prefix gallery ci<\/code>/);

  // `npm --prefix gallery ci`, while the server runs.
  symlinkSync(join(GALLERY_ROOT, 'node_modules'), join(root, 'node_modules'), 'dir');
  const after = await initialize();
  assert.equal(after.status, 200, await after.clone().text());
  assert.match(await after.text(), /"serverInfo"/);
  assert.doesNotMatch(await landing(), /not installed/);
});
