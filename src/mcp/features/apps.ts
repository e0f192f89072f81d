/**
 * MCP Apps (extension `io.modelcontextprotocol/ui`, package
 * `@modelcontextprotocol/ext-apps`): a tool whose `_meta.ui.resourceUri`
 * points at a `ui://` HTML resource that an Apps-capable host renders in a
 * sandboxed iframe. The page speaks the Apps postMessage protocol
 * (`ui/initialize`, `ui/notifications/tool-result`, and `tools/call` through
 * the host) with a few lines of plain JavaScript, so it needs no bundle.
 * Hosts without Apps support still get the tool's text result.
 */
import { RESOURCE_MIME_TYPE, registerAppResource, registerAppTool } from '@modelcontextprotocol/ext-apps/server';
import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';

import type { FeatureEnv } from './env.js';
import type { ResourceDirectory } from './resources.js';
import { firstPrimes } from './tools.js';

export const APP_RESOURCE_URI = 'ui://reference-server/primes-app.html';
export const APP_TOOL_NAME = 'showPrimesApp';

/** The app page. No data from requests is interpolated into it. */
export const APP_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Primes (MCP App demo)</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 12px; color: #223; }
  #primes { display: flex; flex-wrap: wrap; gap: 4px; margin: 8px 0; }
  #primes span { background: #e8eefc; border-radius: 4px; padding: 2px 6px; }
  button { font: inherit; }
</style>
</head>
<body>
<h3>Prime numbers</h3>
<p id="status">Waiting for the host...</p>
<div id="primes"></div>
<button id="more" type="button">Ask the server for more</button>
<script>
(() => {
  let nextId = 1, count = 10;
  const pending = new Map();
  const send = msg => window.parent.postMessage(msg, '*');
  const request = (method, params) => new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve, reject });
    send({ jsonrpc: '2.0', id, method, params });
  });
  const show = list => {
    const box = document.getElementById('primes');
    box.replaceChildren(...list.map(n => { const s = document.createElement('span'); s.textContent = String(n); return s; }));
    document.getElementById('status').textContent = list.length + ' primes';
  };
  const primesOf = result => {
    const sc = result && result.structuredContent;
    return Array.isArray(sc) ? sc : (sc && Array.isArray(sc.primes) ? sc.primes : []);
  };
  window.addEventListener('message', event => {
    if (event.source !== window.parent) return;
    const msg = event.data || {};
    if (msg.id !== undefined && pending.has(msg.id)) {
      const p = pending.get(msg.id); pending.delete(msg.id);
      msg.error ? p.reject(msg.error) : p.resolve(msg.result);
    } else if (msg.method === 'ui/notifications/tool-result') {
      show(primesOf(msg.params));
    }
  });
  document.getElementById('more').addEventListener('click', async () => {
    count = Math.min(count + 10, 100);
    try { show(primesOf(await request('tools/call', { name: 'getPrimes', arguments: { count } }))); }
    catch (e) { document.getElementById('status').textContent = 'Error: ' + (e && e.message || e); }
  });
  request('ui/initialize', {
    appInfo: { name: 'reference-primes-app', version: '1.0.0' },
    appCapabilities: {},
    protocolVersion: '2026-01-26'
  }).then(() => {
    document.getElementById('status').textContent = 'Connected';
    send({ jsonrpc: '2.0', method: 'ui/notifications/initialized', params: {} });
  }).catch(() => { document.getElementById('status').textContent = 'Not running inside an MCP Apps host'; });
})();
</script>
</body>
</html>
`;

// Built once per process, not per McpServer (see tools.ts and docs/performance.md).
const appInput = z.object({ count: z.number().int().min(1).max(100).default(10).describe('How many primes to show') });

export function registerApps(server: McpServer, env: FeatureEnv, directory: ResourceDirectory): void {
  registerAppResource(
    server,
    'primes-app',
    APP_RESOURCE_URI,
    {
      title: 'Primes app',
      description: 'HTML user interface of the showPrimesApp tool (MCP Apps).',
      mimeType: RESOURCE_MIME_TYPE,
      cacheHint: { ttlMs: 3_600_000, cacheScope: 'public' },
      _meta: { ui: { csp: { connectDomains: [], resourceDomains: [] }, prefersBorder: true } }
    } as Parameters<typeof registerAppResource>[3],
    async uri => ({ contents: [{ uri: uri.href, mimeType: RESOURCE_MIME_TYPE, text: APP_HTML }] })
  );
  directory.add({ uri: APP_RESOURCE_URI, name: 'primes-app', title: 'Primes app', description: 'MCP Apps UI resource', mimeType: RESOURCE_MIME_TYPE });

  registerAppTool(
    server,
    APP_TOOL_NAME,
    {
      title: 'Primes (MCP App)',
      description: 'Shows prime numbers in an interactive MCP Apps view; hosts without MCP Apps support show the text result.',
      inputSchema: appInput,
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
      _meta: { ui: { resourceUri: APP_RESOURCE_URI } }
    },
    async ({ count }) => {
      const primes = firstPrimes(count);
      const structured = env.era === 'modern' ? primes : { primes };
      return {
        content: [{ type: 'text', text: `The first ${count} primes: ${primes.join(', ')}` }],
        structuredContent: structured as unknown as Record<string, unknown>
      };
    }
  );
}
