/**
 * The landing page at `/` (src/ops/landing.ts): content, security headers,
 * the feature list kept in step with the real server, and a look in headless
 * Chromium (screenshots under test-artifacts/ops/, light and dark) with a
 * basic accessibility check written here (lang, title, one h1 and no skipped
 * heading level, names for links and controls, computed text contrast).
 *
 * Palette (src/http/html.ts), WCAG 2.x contrast ratios worked out by hand
 * and re-measured below on the rendered page (AA: 4.5 normal text):
 *   light: fg #1b1f24 on card #fff ≈ 16.1; muted #57606a on #fff ≈ 6.3 and on
 *          bg #f4f5f7 ≈ 5.8; link #0a4fd6 on #fff ≈ 6.4, on #f4f5f7 ≈ 5.9.
 *   dark:  fg #e6edf3 on card #161b22 ≈ 15.0; muted #9da7b3 on #161b22 ≈ 7.0;
 *          link #79b0ff on #161b22 ≈ 7.5, on bg #0d1117 ≈ 8.2.
 * The landing page is mounted on its own express app here with the running
 * server's configuration (so every link points at the real server); the lead
 * wires the same router into src/app.ts.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import express from 'express';
import type { Browser } from 'playwright-core';

import { startServer, type RunningServer } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createLandingRouter, DEFAULT_FEATURES, PROTOCOL_REVISIONS, type FeatureCatalogue } from '../../src/ops/landing.js';
import { launchChromium } from '../helpers/browser.js';
import { obtainTokens } from '../helpers/oauth.js';

const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'ops');

async function serveLanding(options: Parameters<typeof createLandingRouter>[0]): Promise<{ url: string; close(): Promise<void> }> {
  const app = express();
  app.use(createLandingRouter(options));
  const server = http.createServer(app);
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, close: () => new Promise(r => server.close(() => r())) };
}

/**
 * The accessibility check, run in the page. Plain JavaScript source (a string),
 * so that neither DOM typings nor tsx's function wrappers reach the page.
 */
const A11Y_CHECK = `(() => {
          const issues = [];
          const lang = document.documentElement.getAttribute('lang');
          if (!lang) issues.push('html has no lang');
          if (!document.title.trim()) issues.push('empty <title>');
          const headings = [...document.querySelectorAll('h1,h2,h3,h4,h5,h6')].map(h => Number(h.tagName[1]));
          if (headings.filter(l => l === 1).length !== 1) issues.push(\`expected one h1, got \${headings.filter(l => l === 1).length}\`);
          if (headings[0] !== 1) issues.push('first heading is not h1');
          headings.forEach((l, i) => {
            if (i > 0 && l > headings[i - 1] + 1) issues.push(\`heading level skips from h\${headings[i - 1]} to h\${l}\`);
          });
          if (!document.querySelector('main')) issues.push('no <main> landmark');
          for (const a of document.querySelectorAll('a')) if (!a.textContent?.trim() && !a.getAttribute('aria-label')) issues.push(\`link without a name: \${a.getAttribute('href')}\`);
          for (const img of document.querySelectorAll('img')) if (!img.hasAttribute('alt')) issues.push('img without alt');
          for (const c of document.querySelectorAll('input:not([type=hidden]),select,textarea,button')) {
            const id = c.getAttribute('id');
            const labelled = (id && document.querySelector(\`label[for="\${id}"]\`)) || c.closest('label') || c.getAttribute('aria-label') || (c.tagName === 'BUTTON' && c.textContent?.trim());
            if (!labelled) issues.push(\`control without a label: \${c.outerHTML.slice(0, 60)}\`);
          }
          // Contrast: every element with its own text, against its effective background.
          const parse = (s) => (s.match(/[\d.]+/g) ?? []).map(Number);
          const lum = ([r, g, b]) => {
            const ch = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
            return 0.2126 * ch(r) + 0.7152 * ch(g) + 0.0722 * ch(b);
          };
          const background = (el) => {
            for (let e = el; e; e = e.parentElement) {
              const c = parse(getComputedStyle(e).backgroundColor);
              if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c.slice(0, 3);
            }
            return [255, 255, 255];
          };
          let lowest = Infinity;
          let checked = 0;
          for (const el of document.body.querySelectorAll('*')) {
            const ownText = [...el.childNodes].some(n => n.nodeType === Node.TEXT_NODE && n.textContent.trim());
            if (!ownText) continue;
            const fg = parse(getComputedStyle(el).color).slice(0, 3);
            const [l1, l2] = [lum(fg), lum(background(el))].sort((a, b) => b - a);
            const ratio = (l1 + 0.05) / (l2 + 0.05);
            checked++;
            lowest = Math.min(lowest, ratio);
            if (ratio < 4.5) issues.push(\`contrast \${ratio.toFixed(2)} < 4.5 on <\${el.tagName.toLowerCase()}> "\${el.textContent.trim().slice(0, 30)}"\`);
          }
          return { issues, lowest, checked, lang };
        })()`;

describe('landing page', () => {
  let server: RunningServer;
  let landing: { url: string; close(): Promise<void> };
  let browser: Browser;

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    server = await startServer(loadConfig({ NODE_ENV: 'test', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', RATE_LIMIT_MAX: '100000' }), { logger: createLogger('silent') });
    landing = await serveLanding({ config: server.config, storeKind: server.store.kind });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await landing?.close();
    await server?.close();
  });

  it('says what the server is, how to connect, the revisions, the mode and the features', async () => {
    const res = await fetch(landing.url);
    assert.equal(res.status, 200);
    const body = await res.text();
    assert.match(body, /<h1>MCP Feature Reference Server<\/h1>/);
    assert.ok(body.includes(`<code>${server.config.mcpUrl}</code>`));
    assert.ok(body.includes('npx @modelcontextprotocol/inspector'));
    assert.ok(body.includes('Streamable HTTP'));
    for (const r of ['2026-07-28', '2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05']) assert.ok(body.includes(`<code>${r}</code>`), r);
    assert.match(body, /internal: the authorization server and the MCP server run in this one process/);
    assert.match(body, /memory: state is lost when the process stops/);
    for (const t of DEFAULT_FEATURES.tools) assert.ok(body.includes(`<code>${t.name}</code>`), t.name);
    for (const p of DEFAULT_FEATURES.prompts) assert.ok(body.includes(`<code>${p.name}</code>`), p.name);
    assert.ok(body.includes(`href="${server.url}/.well-known/oauth-protected-resource/mcp"`));
    assert.ok(body.includes(`href="${server.url}/.well-known/oauth-authorization-server"`));
  });

  it('is served at / by the real server', async () => {
    const res = await fetch(`${server.url}/`);
    const body = await res.text();
    assert.equal(res.status, 200);
    assert.match(body, /<h1>MCP Feature Reference Server<\/h1>/);
    assert.ok(body.includes(`<code>${server.config.mcpUrl}</code>`));
    assert.match(body, /memory: state is lost/);
  });

  it('sends the same security headers as the authorization server pages', async () => {
    const page = await fetch(landing.url);
    await page.text();
    const consent = await fetch(`${server.url}/authorize`); // an error page: same template, same headers
    await consent.text();
    for (const h of ['x-frame-options', 'x-content-type-options', 'referrer-policy', 'cross-origin-opener-policy', 'cache-control']) {
      assert.equal(page.headers.get(h), consent.headers.get(h), h);
    }
    const csp = page.headers.get('content-security-policy')!;
    assert.match(csp, /^default-src 'none'; style-src 'nonce-[A-Za-z0-9+/=]+'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'$/);
    assert.equal(csp.replace(/nonce-[^']+/, ''), consent.headers.get('content-security-policy')!.replace(/nonce-[^']+/, ''));
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
  });

  it('every link on the page answers (metadata documents, health, readiness, metrics)', async () => {
    const body = await (await fetch(landing.url)).text();
    const links = [...body.matchAll(/href="([^"]+)"/g)].map(m => m[1]!.replace(/&amp;/g, '&'));
    assert.ok(links.length >= 6, links.join(' '));
    for (const link of links) {
      const res = await fetch(link);
      await res.body?.cancel();
      assert.equal(res.status, 200, link);
    }
  });

  it('lists exactly the tools, prompts and resource templates the server serves (conformance fixtures aside)', async () => {
    const t = await obtainTokens(server.url, { scope: 'mcp mcp:admin' });
    const client = new Client({ name: 'landing-test', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
    await client.connect(new StreamableHTTPClientTransport(new URL(server.config.mcpUrl), { authProvider: { token: async () => t.accessToken } }));
    try {
      // Conformance-suite fixtures are named test_* or described "[conformance fixture] …".
      const real = (list: Array<{ name: string; description?: string }>) =>
        list
          .filter(x => !x.name.startsWith('test_') && !x.description?.startsWith('[conformance fixture]'))
          .map(x => x.name)
          .sort();
      assert.deepEqual(DEFAULT_FEATURES.tools.map(x => x.name).sort(), real((await client.listTools()).tools));
      assert.deepEqual(DEFAULT_FEATURES.prompts.map(x => x.name).sort(), real((await client.listPrompts()).prompts));
      const templates = (await client.listResourceTemplates()).resourceTemplates.map(x => x.uriTemplate).filter(u => !u.startsWith('test://template'));
      assert.deepEqual(DEFAULT_FEATURES.resourceTemplates.map(x => x.name), templates);
      const first = (await client.listResources()).resources.map(r => r.uri);
      assert.ok(first.includes('ui://reference-server/primes-app.html'), first.join(' '));
      const read = await client.readResource({ uri: 'test://static/resource/100' });
      assert.equal(read.contents[0]!.uri, 'test://static/resource/100');
    } finally {
      await client.close();
    }
  });

  it('escapes every value it shows', async () => {
    const evil: FeatureCatalogue = { ...DEFAULT_FEATURES, tools: [{ name: '<img src=x onerror=alert(1)>', title: '"><script>alert(1)</script>' }] };
    const l = await serveLanding({ config: { ...server.config, mcpUrl: 'http://x/<b>' }, storeKind: 'memory', features: evil });
    try {
      const body = await (await fetch(l.url)).text();
      assert.equal(body.includes('<img src=x'), false);
      assert.equal(body.includes('<script>'), false);
      assert.equal(body.includes('<b>'), false);
      assert.ok(body.includes('&lt;img src=x onerror=alert(1)&gt;'));
    } finally {
      await l.close();
    }
  });

  it('describes Redis storage and external mode truthfully', async () => {
    const cfg = { ...server.config, mode: 'external' as const, issuer: 'https://as.example.com' };
    const l = await serveLanding({ config: cfg, storeKind: 'redis' });
    try {
      const body = await (await fetch(l.url)).text();
      assert.match(body, /Redis: state survives restarts/);
      assert.match(body, /external: this process is the MCP server only/);
      assert.ok(body.includes('href="https://as.example.com/.well-known/oauth-authorization-server"'));
      assert.equal(body.includes('openid-configuration'), false);
    } finally {
      await l.close();
    }
  });

  for (const colorScheme of ['light', 'dark'] as const) {
    it(`renders in headless Chromium (${colorScheme}) without errors and passes the basic accessibility check`, async () => {
      const context = await browser.newContext({ colorScheme, viewport: { width: 1100, height: 900 } });
      try {
        const page = await context.newPage();
        const problems: string[] = [];
        page.on('console', m => {
          if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
        });
        page.on('pageerror', e => problems.push(e.message));
        const res = await page.goto(landing.url);
        assert.equal(res?.status(), 200);
        await page.screenshot({ path: join(ARTIFACTS, `landing-${colorScheme}.png`), fullPage: true });
        assert.deepEqual(problems, [], 'no console errors (a CSP violation would show here)');

        // The stylesheet applied (CSP nonce works): the card has a border radius.
        assert.equal(await page.evaluate("getComputedStyle(document.querySelector('main.card')).borderTopLeftRadius"), '12px');

        const report = (await page.evaluate(A11Y_CHECK)) as { issues: string[]; lowest: number; checked: number; lang: string | null };
        assert.deepEqual(report.issues, []);
        assert.equal(report.lang, 'en');
        assert.ok(report.checked > 30, `checked ${report.checked} text elements`);

        // Keyboard: the first Tab lands on a link with a visible focus outline.
        await page.keyboard.press('Tab');
        const focus = (await page.evaluate('({ tag: document.activeElement.tagName, outline: getComputedStyle(document.activeElement).outlineStyle })')) as { tag: string; outline: string };
        assert.equal(focus.tag, 'A');
        assert.equal(focus.outline, 'solid');
      } finally {
        await context.close();
      }
    });
  }
});

describe('protocol revisions', () => {
  it('lists 2026-07-28 first, then the session revisions newest first', () => {
    assert.equal(PROTOCOL_REVISIONS[0]!.version, '2026-07-28');
    assert.equal(PROTOCOL_REVISIONS[1]!.version, '2025-11-25');
    assert.ok(PROTOCOL_REVISIONS.some(r => r.version === '2024-11-05' && /HTTP\+SSE/.test(r.how)));
  });
});
