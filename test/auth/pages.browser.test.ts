/**
 * The consent and demo IdP pages in real headless Chromium: approve and deny
 * paths, no CSP violations, keyboard-reachable controls, and screenshots in
 * test-artifacts/auth/ for a person to look at.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';

import type { Browser, Page } from 'playwright-core';

import { launchChromium } from '../helpers/browser.js';
import { authorizationUrl, fetchMetadata, pkcePair, registerClient, type AsMetadata } from '../helpers/oauth.js';
import { startAs, type TestAs } from './server.js';

const ARTIFACTS = 'test-artifacts/auth';

let as: TestAs;
let md: AsMetadata;
let browser: Browser;
let callbackServer: http.Server;
let callbackBase: string;
const callbacks: URL[] = [];

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  as = await startAs();
  md = await fetchMetadata(as.url);
  callbackServer = http.createServer((req, res) => {
    const url = new URL(req.url!, callbackBase);
    if (url.pathname === '/callback') callbacks.push(url); // not /favicon.ico
    res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Client callback</title><p>Callback received.</p>');
  });
  await new Promise<void>(resolve => callbackServer.listen(0, '127.0.0.1', resolve));
  callbackBase = `http://127.0.0.1:${(callbackServer.address() as AddressInfo).port}`;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await new Promise<void>(resolve => callbackServer.close(() => resolve()));
  await as.close();
});

async function openConsent(clientName: string, state: string): Promise<{ page: Page; cspErrors: string[] }> {
  const client = await registerClient(as.url, { clientName, redirectUris: [`${callbackBase}/callback`] });
  const context = await browser.newContext({ viewport: { width: 900, height: 900 } });
  const page = await context.newPage();
  const cspErrors: string[] = [];
  page.on('console', msg => {
    if (/Content Security Policy|Refused to/i.test(msg.text())) cspErrors.push(msg.text());
  });
  await page.goto(authorizationUrl(md, { clientId: client.clientId, redirectUri: `${callbackBase}/callback`, challenge: pkcePair().challenge, scope: 'mcp mcp:admin offline_access', state }));
  return { page, cspErrors };
}

describe('consent and IdP pages in Chromium', () => {
  test('approving, then picking a demo identity, lands on the client callback with code, state and iss', async () => {
    const { page, cspErrors } = await openConsent('Inspector Gadget', 'approve-state');
    assert.equal(await page.title(), 'Authorize Inspector Gadget');
    await page.getByRole('heading', { level: 1 }).waitFor();
    assert.match(await page.locator('h1').innerText(), /Inspector Gadget wants to access your MCP server/);
    assert.match(await page.locator('body').innerText(), /127\.0\.0\.1/);
    await page.screenshot({ path: `${ARTIFACTS}/consent.png`, fullPage: true });

    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(/\/mock-upstream-idp\/authorize/);
    assert.match(await page.locator('body').innerText(), /stands in for a real identity provider/);
    await page.screenshot({ path: `${ARTIFACTS}/idp.png`, fullPage: true });

    await page.getByLabel(/Bob Example/).check();
    await page.getByRole('button', { name: 'Continue as selected identity' }).click();
    await page.waitForURL(/\/callback\?/);
    const cb = callbacks.at(-1)!;
    assert.equal(cb.searchParams.get('state'), 'approve-state');
    assert.equal(cb.searchParams.get('iss'), as.url);
    assert.ok(cb.searchParams.get('code'));
    assert.deepEqual(cspErrors, [], 'no CSP violations (styles load, form-action allows the redirect)');
    await page.context().close();
  });

  test('creating a demo identity by name works with the keyboard alone', async () => {
    const { page } = await openConsent('Keyboard Client', 'kbd-state');
    await page.getByRole('button', { name: 'Approve' }).focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/mock-upstream-idp\/authorize/);
    await page.getByLabel('Display name').fill('Grace Hopper');
    await page.getByLabel('Display name').press('Enter');
    await page.waitForURL(/\/callback\?/);
    assert.equal(callbacks.at(-1)!.searchParams.get('state'), 'kbd-state');
    await page.context().close();
  });

  test('denying sends access_denied to the client callback', async () => {
    const { page } = await openConsent('Deny Me', 'deny-state');
    await page.getByRole('button', { name: 'Deny' }).click();
    await page.waitForURL(/\/callback\?/);
    const cb = callbacks.at(-1)!;
    assert.equal(cb.searchParams.get('error'), 'access_denied');
    assert.equal(cb.searchParams.get('state'), 'deny-state');
    assert.equal(cb.searchParams.get('code'), null);
    await page.context().close();
  });

  test('the consent page refuses to be framed', async () => {
    const { page } = await openConsent('Framed', 'f');
    const consentUrl = page.url();
    const framer = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(`<iframe id="f" src="${consentUrl}"></iframe>`));
    await new Promise<void>(resolve => framer.listen(0, '127.0.0.1', resolve));
    try {
      const attacker = await page.context().newPage();
      await attacker.goto(`http://127.0.0.1:${(framer.address() as AddressInfo).port}/`);
      await attacker.waitForTimeout(500);
      const frame = attacker.frames().find(f => f !== attacker.mainFrame());
      const framedText = frame ? await frame.locator('body').innerText().catch(() => '') : '';
      assert.doesNotMatch(framedText, /wants to access/);
    } finally {
      await new Promise<void>(resolve => framer.close(() => resolve()));
      await page.context().close();
    }
  });

  test('an error page is shown for an unknown client, styled and with no redirect', async () => {
    const context = await browser.newContext({ viewport: { width: 900, height: 700 } });
    const page = await context.newPage();
    const res = await page.goto(authorizationUrl(md, { clientId: 'unknown-client', redirectUri: 'https://evil.example/cb', challenge: pkcePair().challenge }));
    assert.equal(res!.status(), 400);
    assert.equal(new URL(page.url()).origin, as.url);
    assert.match(await page.locator('h1').innerText(), /Unknown application/);
    await page.screenshot({ path: `${ARTIFACTS}/error.png`, fullPage: true });
    await context.close();
  });

  test('the pages render in dark mode too', async () => {
    const client = await registerClient(as.url, { clientName: 'Night Owl', redirectUris: [`https://night.example/cb`] });
    const context = await browser.newContext({ viewport: { width: 900, height: 900 }, colorScheme: 'dark' });
    const page = await context.newPage();
    await page.goto(authorizationUrl(md, { clientId: client.clientId, redirectUri: 'https://night.example/cb', challenge: pkcePair().challenge }));
    await page.screenshot({ path: `${ARTIFACTS}/consent-dark.png`, fullPage: true });
    await context.close();
  });
});
