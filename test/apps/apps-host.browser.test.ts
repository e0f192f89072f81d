/**
 * The MCP Apps view (showPrimesApp's ui:// resource) inside a REAL host in
 * headless Chromium, against the real server:
 *
 * - the server runs in-process (startServer, port 0) and the test holds an SDK
 *   v2 client with a token from the real OAuth flow;
 * - the client lists the tool, reads its `_meta.ui.resourceUri` resource and
 *   calls the tool, as a chat client would;
 * - test/apps/host-page.js (ext-apps' AppBridge, bundled with esbuild now)
 *   renders the HTML in a sandboxed, opaque-origin iframe under the CSP built
 *   from the resource's `_meta.ui.csp`, runs the ui/initialize handshake and
 *   sends tool input + result;
 * - the view's tools/call goes View -> AppBridge -> `mcpCallTool` (exposed by
 *   Playwright) -> SDK client -> the server, and back.
 *
 * Both protocol eras: 2026-07-28 and a 2025-11-25 session; structuredContent is
 * {"primes": [...]} in both.
 * Screenshots go to test-artifacts/apps/.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { Client, StreamableHTTPClientTransport, type CallToolResult, type Tool } from '@modelcontextprotocol/client';
import { build } from 'esbuild';
import type { Browser, BrowserContext, Frame, Page } from 'playwright-core';

import { startServer, type RunningServer } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { APP_RESOURCE_URI, APP_TOOL_NAME } from '../../src/mcp/features/apps.js';
import { firstPrimes } from '../../src/mcp/features/tools.js';
import { launchChromium } from '../helpers/browser.js';
import { obtainTokens } from '../helpers/oauth.js';

const ARTIFACTS = 'test-artifacts/apps';
const HERE = dirname(fileURLToPath(import.meta.url));

type Era = '2026' | '2025';

/** Host styles a dark-themed host would pass in `hostContext.styles.variables`. */
const DARK_VARIABLES = {
  '--color-background-primary': 'rgb(22, 24, 29)',
  '--color-text-primary': 'rgb(236, 237, 240)',
  '--color-background-info': 'rgb(38, 50, 79)',
  '--color-text-info': 'rgb(188, 208, 255)',
  '--font-sans': 'system-ui, sans-serif'
};
const LIGHT_VARIABLES = {
  '--color-background-primary': 'rgb(255, 255, 255)',
  '--color-text-primary': 'rgb(31, 35, 40)',
  '--color-background-info': 'rgb(232, 238, 252)',
  '--color-text-info': 'rgb(29, 58, 138)',
  '--font-sans': 'system-ui, sans-serif'
};

interface HostState {
  initialized: boolean;
  delivered: boolean;
  appVersion: { name: string; version: string } | null;
  sizes: Array<{ width?: number; height?: number }>;
  toolCalls: Array<{ name: string; arguments?: Record<string, unknown> }>;
  csp: string;
}
type HostWindow = {
  hostState: HostState;
  startHost(args: unknown): Promise<void>;
  setHostContext(context: unknown): void;
};
type Styles = { getComputedStyle(el: unknown): { backgroundColor: string; color: string }; document: { body: unknown } };

let server: RunningServer;
let token: string;
let browser: Browser;
let hostServer: http.Server;
let hostUrl: string;
let bundleDir: string;

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  server = await startServer(loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', RATE_LIMIT_MAX: '100000' }));
  token = (await obtainTokens(server.config.baseUri, { scope: 'mcp', clientName: 'Apps host test' })).accessToken;

  // The host page's script: ext-apps' AppBridge bundled for the browser.
  bundleDir = mkdtempSync(join(tmpdir(), 'apps-host-'));
  const hostJs = join(bundleDir, 'host.js');
  await build({ entryPoints: [join(HERE, 'host-page.js')], bundle: true, format: 'esm', platform: 'browser', target: 'chrome120', outfile: hostJs, logLevel: 'warning' });
  const hostScript = readFileSync(hostJs);
  const hostHtml =
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Reference test host</title>' +
    '<style>body{margin:0;padding:16px;background:#0b0c0f;font:13px system-ui,sans-serif;color:#aaa}' +
    'iframe{display:block;width:560px;height:120px;border:1px solid #3a3d44;border-radius:8px;background:transparent}</style>' +
    '<script type="module" src="/host.js"></script></head><body><p>Test host: showPrimesApp</p><div id="slot"></div></body></html>';
  hostServer = http.createServer((req, res) => {
    if (req.url === '/host.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(hostScript);
    else if (req.url === '/') res.writeHead(200, { 'content-type': 'text/html' }).end(hostHtml);
    else if (req.url === '/favicon.ico') res.writeHead(204).end();
    else res.writeHead(404).end();
  });
  await new Promise<void>(resolve => hostServer.listen(0, '127.0.0.1', resolve));
  hostUrl = `http://127.0.0.1:${(hostServer.address() as AddressInfo).port}/`;

  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  if (hostServer) await new Promise<void>(resolve => hostServer.close(() => resolve()));
  await server?.close();
  if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
});

async function connectClient(era: Era): Promise<Client> {
  const client = new Client(
    { name: `apps-host-${era}`, version: '1.0.0' },
    era === '2026' ? { versionNegotiation: { mode: { pin: '2026-07-28' } } } : { versionNegotiation: { mode: 'legacy' } }
  );
  await client.connect(new StreamableHTTPClientTransport(new URL(server.config.mcpUrl), { authProvider: { token: async () => token } }));
  return client;
}

/** Loads the host page and starts the AppBridge host on it with `args` (the view, tool, input, result, context). */
async function startHostPage(page: Page, args: Record<string, unknown>): Promise<void> {
  await page.goto(hostUrl);
  await page.waitForFunction(() => typeof (globalThis as unknown as HostWindow).startHost === 'function');
  await page.evaluate(hostArgs => (globalThis as unknown as HostWindow).startHost(hostArgs), args);
}

/** POST /mcp requests the server itself has counted (its Prometheus counter). */
async function serverMcpPosts(): Promise<number> {
  const { values } = await server.metrics.httpRequests.get();
  return values.filter(v => v.labels.route === '/mcp' && v.labels.method === 'POST').reduce((sum, v) => sum + v.value, 0);
}

async function viewFrame(page: Page): Promise<Frame> {
  const handle = await page.waitForSelector('#slot iframe');
  const frame = await handle.contentFrame();
  assert.ok(frame, 'the app iframe has a frame');
  return frame;
}

const chips = async (frame: Frame) => (await frame.locator('#primes li').allInnerTexts()).map(Number);

/** Waits until the view shows `n` primes; on timeout, says what the view's status line says. */
async function waitForChips(frame: Frame, n: number): Promise<void> {
  try {
    await frame.locator('#primes li').nth(n - 1).waitFor({ timeout: 15_000 });
  } catch (err) {
    const status = await frame.locator('#status').innerText().catch(() => '(no status)');
    throw new Error(`the view did not show ${n} primes; its status: ${status}`, { cause: err });
  }
}

/** A fresh page for the host, collecting console errors, CSP violations and page errors. */
async function openHostPage(height: number): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 620, height } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', msg => {
    if (msg.type() === 'error' || /Content Security Policy|Refused to/i.test(msg.text())) problems.push(`${msg.type()}: ${msg.text()}`);
  });
  page.on('pageerror', err => problems.push(`pageerror: ${err.message}`));
  return { context, page, problems };
}

for (const era of ['2026', '2025'] as const) {
  describe(`MCP Apps view in a real host (Chromium, ${era === '2026' ? '2026-07-28' : '2025-11-25 session'})`, () => {
    test('handshake, tool result rendering, tools/call through the host, host theme', async () => {
      const client = await connectClient(era);
      const { context, page, problems } = await openHostPage(420);
      try {
        // What a chat client does: find the tool's UI, read it, call the tool.
        const { tools } = await client.listTools();
        const tool = tools.find(t => t.name === APP_TOOL_NAME) as Tool;
        const uiMeta = (tool._meta as { ui?: { resourceUri?: string } } | undefined)?.ui;
        assert.equal(uiMeta?.resourceUri, APP_RESOURCE_URI);
        const { contents } = await client.readResource({ uri: APP_RESOURCE_URI });
        const item = contents[0] as { text: string; mimeType: string; _meta?: { ui?: { csp?: Record<string, string[]>; prefersBorder?: boolean } } };
        assert.equal(item.mimeType, 'text/html;profile=mcp-app');
        assert.deepEqual(item._meta?.ui?.csp, { connectDomains: [], resourceDomains: [], frameDomains: [] }, 'no network origins declared');
        assert.equal(item._meta?.ui?.prefersBorder, true);
        const toolArguments = { count: 7 };
        const toolResult = (await client.callTool({ name: APP_TOOL_NAME, arguments: toolArguments })) as CallToolResult;
        assert.deepEqual(toolResult.structuredContent, { primes: firstPrimes(7) });

        const viewCalls: unknown[] = [];
        await page.exposeFunction('mcpCallTool', async (params: { name: string; arguments?: Record<string, unknown> }) => {
          // Forward what the view asked for; its `_meta.progressToken` belongs to the view<->host channel.
          viewCalls.push(params);
          return client.callTool({ name: params.name, arguments: params.arguments });
        });
        await startHostPage(page, {
          html: item.text,
          csp: item._meta?.ui?.csp,
          tool,
          toolArguments,
          toolResult,
          hostContext: {
            theme: 'dark',
            styles: { variables: DARK_VARIABLES },
            displayMode: 'inline',
            availableDisplayModes: ['inline'],
            platform: 'web',
            locale: 'en-US',
            containerDimensions: { width: 560, maxHeight: 600 }
          }
        });

        // 1. Handshake: ui/initialize answered, ui/notifications/initialized received, input + result sent.
        await page.waitForFunction(() => (globalThis as unknown as HostWindow).hostState.delivered, undefined, { timeout: 15_000 });
        const state1 = await page.evaluate(() => (globalThis as unknown as HostWindow).hostState);
        assert.equal(state1.initialized, true);
        assert.equal(state1.appVersion?.name, 'reference-primes-app');
        assert.match(state1.csp, /connect-src 'none'/);
        const frame = await viewFrame(page);
        assert.equal(await frame.locator('html').getAttribute('data-connected'), 'true');

        // 2. The view shows the primes of the real tool result.
        await waitForChips(frame, 7);
        assert.deepEqual(await chips(frame), firstPrimes(7));
        assert.match(await frame.locator('#status').innerText(), /The first 7 primes \(tool result\)/);

        // 3. It follows the host theme: data-theme and the host's CSS variables.
        assert.equal(await frame.locator('html').getAttribute('data-theme'), 'dark');
        assert.equal(await frame.locator('body').evaluate(el => (globalThis as unknown as Styles).getComputedStyle(el).backgroundColor), DARK_VARIABLES['--color-background-primary']);
        assert.equal(await frame.locator('#primes li').first().evaluate(el => (globalThis as unknown as Styles).getComputedStyle(el).color), DARK_VARIABLES['--color-text-info']);

        // Size reports (ui/notifications/size-changed) reached the host, which resized the iframe.
        await page.waitForFunction(() => (globalThis as unknown as HostWindow).hostState.sizes.some(s => (s.height ?? 0) > 0));
        await page.screenshot({ path: `${ARTIFACTS}/primes-${era}-dark.png` });

        // 4. The button: tools/call from the view, through the host, to the real server.
        const postsBefore = await serverMcpPosts();
        const button = frame.getByRole('button', { name: 'Ask the server for 17 primes' });
        assert.equal(await button.isEnabled(), true);
        await button.click();
        await waitForChips(frame, 17);
        assert.deepEqual(await chips(frame), firstPrimes(17));
        assert.match(await frame.locator('#status').innerText(), /The first 17 primes \(tools\/call through the host\)/);
        const state2 = await page.evaluate(() => (globalThis as unknown as HostWindow).hostState);
        assert.deepEqual(
          state2.toolCalls.map(({ name, arguments: args }) => ({ name, arguments: args })),
          [{ name: APP_TOOL_NAME, arguments: { count: 17 } }],
          'the view sent one tools/call to the host'
        );
        assert.equal(viewCalls.length, 1, 'the host forwarded it once');
        assert.ok((await serverMcpPosts()) > postsBefore, 'the server received the tools/call over HTTP');
        await frame.getByRole('button', { name: 'Ask the server for 27 primes' }).waitFor();
        await page.screenshot({ path: `${ARTIFACTS}/primes-${era}-after-click.png` });

        // 5. ui/notifications/host-context-changed: the host switches to light.
        await page.evaluate(
          variables => (globalThis as unknown as HostWindow).setHostContext({ theme: 'light', styles: { variables }, displayMode: 'inline', platform: 'web', locale: 'en-US' }),
          LIGHT_VARIABLES
        );
        await frame.locator('html[data-theme="light"]').waitFor();
        await frame.waitForFunction(bg => { const g = globalThis as unknown as Styles; return g.getComputedStyle(g.document.body).backgroundColor === bg; }, LIGHT_VARIABLES['--color-background-primary']);
        await page.screenshot({ path: `${ARTIFACTS}/primes-${era}-light.png` });

        assert.deepEqual(problems, [], 'no CSP violations or errors in the host or the view');
      } finally {
        await context.close();
        await client.close();
      }
    });
  });
}

describe('MCP Apps view in a host without serverTools, given a text-only result (Chromium)', () => {
  test('renders the primes from the text and disables the button', async () => {
    const client = await connectClient('2025');
    const { context, page, problems } = await openHostPage(300);
    try {
      const { tools } = await client.listTools();
      const tool = tools.find(t => t.name === APP_TOOL_NAME) as Tool;
      const { contents } = await client.readResource({ uri: APP_RESOURCE_URI });
      const item = contents[0] as { text: string; _meta?: { ui?: { csp?: Record<string, string[]> } } };
      const full = (await client.callTool({ name: APP_TOOL_NAME, arguments: { count: 5 } })) as CallToolResult;
      // A host that drops structuredContent (or an older one that never had it).
      const toolResult = { content: full.content };
      await startHostPage(page, {
        html: item.text,
        csp: item._meta?.ui?.csp,
        tool,
        toolArguments: { count: 5 },
        toolResult,
        hostContext: { theme: 'light', displayMode: 'inline', platform: 'web' },
        hostCapabilities: { logging: {} }
      });
      const frame = await viewFrame(page);
      await waitForChips(frame, 5);
      assert.deepEqual(await chips(frame), firstPrimes(5));
      assert.equal(await frame.getByRole('button').isDisabled(), true);
      assert.match(await frame.locator('#host-note').innerText(), /does not let apps call server tools/);
      await page.screenshot({ path: `${ARTIFACTS}/primes-no-server-tools.png` });
      assert.deepEqual(problems, [], 'no CSP violations or errors in the host or the view');
    } finally {
      await context.close();
      await client.close();
    }
  });
});
