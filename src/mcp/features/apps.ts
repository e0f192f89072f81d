/**
 * MCP Apps (extension `io.modelcontextprotocol/ui`, package
 * `@modelcontextprotocol/ext-apps`): a tool whose `_meta.ui.resourceUri`
 * points at a `ui://` HTML resource that an Apps-capable host renders in a
 * sandboxed iframe. Hosts without Apps support still get the tool's text result.
 *
 * The page is a real MCP App built on the ext-apps `App` class: the package's
 * self-contained browser bundle (`@modelcontextprotocol/ext-apps/app-with-deps`,
 * ~540 KB, ~130 KB gzipped) is inlined into the HTML once, at module load, so
 * the view needs no network at all and runs under the spec's default CSP
 * (no `unsafe-eval`: `App` switches zod to jitless mode). The view
 *
 * - performs the `ui/initialize` -> `ui/notifications/initialized` handshake;
 * - shows `ui/notifications/tool-input` (pending) and `ui/notifications/tool-result`
 *   (the primes, from `structuredContent` or the text);
 * - asks for more primes with `tools/call showPrimesApp` through the host
 *   (only when the host declares `serverTools`);
 * - follows the host context: `theme` (data-theme + color-scheme), the
 *   `styles.variables` CSS custom properties, host fonts, safe-area insets,
 *   and `ui/notifications/host-context-changed`;
 * - reports its size with `ui/notifications/size-changed` (autoResize).
 *
 * test/apps/apps-host.browser.test.ts runs it in Chromium inside a host built
 * on ext-apps' `AppBridge`, against the real server.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

import { RESOURCE_MIME_TYPE, registerAppResource, registerAppTool } from '@modelcontextprotocol/ext-apps/server';
import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';

import type { FeatureEnv } from './env.js';
import type { ResourceDirectory } from './resources.js';
import { firstPrimes } from './tools.js';

export const APP_RESOURCE_URI = 'ui://reference-server/primes-app.html';
export const APP_TOOL_NAME = 'showPrimesApp';
/** Most primes the view asks for (the tool's own maximum). */
const MAX_PRIMES = 100;

/**
 * `_meta.ui` of the resource, on the `resources/list` entry and on the
 * `resources/read` content item (which hosts prefer). Empty domain lists are
 * the spec's secure default: the host's CSP allows no network origin at all
 * (`connect-src 'none'`, no external scripts, styles, images, fonts or frames);
 * everything the page needs is inline.
 */
export const APP_UI_META = {
  csp: { connectDomains: [] as string[], resourceDomains: [] as string[], frameDomains: [] as string[] },
  prefersBorder: true
};

/** The ext-apps exports the view uses, by name. */
const BUNDLE_EXPORTS = ['App', 'PostMessageTransport', 'applyDocumentTheme', 'applyHostStyleVariables', 'applyHostFonts'] as const;

/**
 * The `app-with-deps` ESM bundle as a classic expression: its trailing
 * `export { local as Name, ... }` becomes the return value of a function, so it
 * can live in one inline `<script type="module">` next to the view's code
 * without its minified top-level names leaking into (or clashing with) ours.
 */
export function inlineAppsBundle(source: string): string {
  const match = /export\s*\{([^}]*)\}\s*;?\s*$/.exec(source);
  if (!match) throw new Error('ext-apps app-with-deps: no trailing export clause found (unsupported bundle layout)');
  const exported = new Map<string, string>();
  for (const spec of match[1]!.split(',')) {
    const [local, name = local] = spec.trim().split(/\s+as\s+/);
    if (local) exported.set(name!, local);
  }
  const members = BUNDLE_EXPORTS.map(name => {
    const local = exported.get(name);
    if (!local) throw new Error(`ext-apps app-with-deps does not export ${name}`);
    return `${name}: ${local}`;
  });
  if (/^\s*import[\s{*'"]/m.test(source) || /\bimport\.meta\b/.test(source)) throw new Error('ext-apps app-with-deps: module imports cannot be inlined');
  // "</script" or "<!--" would end or confuse the inline script element; neither
  // can occur outside string, template or regular-expression literals (or
  // comments) in module code, where "\x3C" means "<" as well.
  const body = source.slice(0, match.index).replace(/<(?=\/script|!--)/gi, '\\x3C');
  return `const ExtApps = (() => {\n${body}\nreturn { ${members.join(', ')} };\n})();`;
}

function loadAppsBundle(): string {
  const require = createRequire(import.meta.url);
  return inlineAppsBundle(readFileSync(require.resolve('@modelcontextprotocol/ext-apps/app-with-deps'), 'utf8'));
}

/** The view's own code (runs after the bundle, inside the same module script). */
const VIEW_SCRIPT = String.raw`
const { App, PostMessageTransport, applyDocumentTheme, applyHostStyleVariables, applyHostFonts } = ExtApps;
const MAX = ${MAX_PRIMES}, STEP = 10;
const byId = id => document.getElementById(id);
const status = byId('status'), list = byId('primes'), more = byId('more');
let shown = 0, canCallTools = false, busy = false;

const setStatus = (text, kind) => { status.textContent = text; status.dataset.kind = kind || 'info'; };
const textOf = result => (result && Array.isArray(result.content) ? result.content : [])
  .filter(block => block && block.type === 'text' && typeof block.text === 'string').map(block => block.text).join(' ');
// structuredContent is {"primes": [...]}; hosts that drop it still have the
// text ("The first 4 primes: 2, 3, 5, 7").
const primesOf = result => {
  const sc = result && result.structuredContent;
  const raw = sc && Array.isArray(sc.primes) ? sc.primes
    : ((/primes:\s*([\d,\s]+)/.exec(textOf(result)) || [])[1] || '').split(',').map(s => s.trim()).filter(Boolean).map(Number);
  return raw.filter(n => Number.isInteger(n));
};
const updateButton = () => {
  more.disabled = busy || !canCallTools || shown >= MAX;
  more.textContent = shown >= MAX ? 'That is all the server gives (' + MAX + ')' : 'Ask the server for ' + Math.min(shown + STEP, MAX) + ' primes';
};
const show = (primes, source) => {
  shown = primes.length;
  list.replaceChildren(...primes.map(n => { const li = document.createElement('li'); li.textContent = String(n); return li; }));
  setStatus(primes.length ? 'The first ' + primes.length + ' primes (' + source + ')' : 'The result held no primes', primes.length ? 'ok' : 'error');
  updateButton();
};
const applyContext = ctx => {
  if (!ctx) return;
  if (ctx.theme === 'light' || ctx.theme === 'dark') applyDocumentTheme(ctx.theme);
  if (ctx.styles && ctx.styles.variables) applyHostStyleVariables(ctx.styles.variables);
  if (ctx.styles && ctx.styles.css && typeof ctx.styles.css.fonts === 'string') applyHostFonts(ctx.styles.css.fonts);
  const inset = ctx.safeAreaInsets;
  if (inset) document.body.style.padding = (12 + inset.top) + 'px ' + (12 + inset.right) + 'px ' + (12 + inset.bottom) + 'px ' + (12 + inset.left) + 'px';
};

const app = new App({ name: 'reference-primes-app', version: '1.0.0' }, {}, { autoResize: true });
// tools/call through the host (the host forwards it to this server).
const callServerTool = params => app.callServerTool(params);
// One-shot notifications: handlers are registered before connect().
app.ontoolinput = ({ arguments: args }) => {
  const n = args && Number.isInteger(args.count) ? args.count : 10;
  setStatus('Computing the first ' + n + ' primes...', 'busy');
};
app.ontoolresult = result => {
  if (result.isError) setStatus('The tool failed: ' + (textOf(result) || 'unknown error'), 'error');
  else show(primesOf(result), 'tool result');
};
app.ontoolcancelled = ({ reason }) => setStatus('The tool call was cancelled' + (reason ? ': ' + reason : ''), 'error');
app.onhostcontextchanged = applyContext;
app.onteardown = async () => ({});

more.addEventListener('click', async () => {
  const count = Math.min(shown + STEP, MAX);
  busy = true; updateButton();
  setStatus('Asking the server for ' + count + ' primes...', 'busy');
  try {
    const result = await callServerTool({ name: 'showPrimesApp', arguments: { count } });
    if (result.isError) setStatus('The server refused: ' + (textOf(result) || 'unknown error'), 'error');
    else show(primesOf(result), 'tools/call through the host');
  } catch (error) {
    setStatus('The call failed: ' + (error && error.message ? error.message : String(error)), 'error');
  } finally {
    busy = false; updateButton();
  }
});

app.connect(new PostMessageTransport(window.parent, window.parent)).then(() => {
  applyContext(app.getHostContext());
  const host = app.getHostVersion();
  canCallTools = Boolean((app.getHostCapabilities() || {}).serverTools);
  document.documentElement.dataset.connected = 'true';
  if (!shown) setStatus('Connected to ' + (host ? host.name : 'the host') + '; waiting for the tool result...', 'busy');
  byId('host-note').textContent = canCallTools ? '' : 'This host does not let apps call server tools.';
  updateButton();
}, error => {
  setStatus('Not running inside an MCP Apps host (' + (error && error.message ? error.message : String(error)) + ')', 'error');
});
`;

const APP_STYLE = `
  :root { --bg: #ffffff; --fg: #1f2328; --muted: #59636e; --chip-bg: #e8eefc; --chip-fg: #1d3a8a; --accent: #2451c7; --accent-fg: #ffffff; --danger: #b42318; color-scheme: light dark; }
  :root[data-theme="dark"] { --bg: #1f2024; --fg: #e8e8ea; --muted: #a2a6ad; --chip-bg: #2a3554; --chip-fg: #d3ddff; --accent: #8aa9ff; --accent-fg: #10131a; --danger: #ff8a80; }
  @media (prefers-color-scheme: dark) {
    :root:not([data-theme]) { --bg: #1f2024; --fg: #e8e8ea; --muted: #a2a6ad; --chip-bg: #2a3554; --chip-fg: #d3ddff; --accent: #8aa9ff; --accent-fg: #10131a; --danger: #ff8a80; }
  }
  html, body { background: var(--color-background-primary, var(--bg)); color: var(--color-text-primary, var(--fg)); }
  body { margin: 0; padding: 12px; font-family: var(--font-sans, system-ui, sans-serif); font-size: var(--font-text-md-size, 14px); line-height: var(--font-text-md-line-height, 1.45); }
  h1 { font-size: var(--font-heading-sm-size, 16px); font-weight: var(--font-weight-semibold, 600); margin: 0 0 4px; }
  #status { margin: 0 0 8px; color: var(--color-text-secondary, var(--muted)); }
  #status[data-kind="error"] { color: var(--color-text-danger, var(--danger)); }
  #primes { display: flex; flex-wrap: wrap; gap: 4px; list-style: none; margin: 0 0 10px; padding: 0; }
  #primes li { background: var(--color-background-info, var(--chip-bg)); color: var(--color-text-info, var(--chip-fg)); border-radius: var(--border-radius-sm, 4px); padding: 2px 7px; font-family: var(--font-mono, ui-monospace, monospace); font-variant-numeric: tabular-nums; }
  button { font: inherit; cursor: pointer; border: 0; border-radius: var(--border-radius-md, 6px); padding: 6px 12px; background: var(--color-background-inverse, var(--accent)); color: var(--color-text-inverse, var(--accent-fg)); }
  button:disabled { cursor: default; opacity: 0.55; }
  button:focus-visible { outline: 2px solid var(--color-ring-primary, var(--accent)); outline-offset: 2px; }
  #host-note { margin: 6px 0 0; font-size: var(--font-text-sm-size, 12px); color: var(--color-text-secondary, var(--muted)); }
  #host-note:empty { display: none; }
`;

/** The app page, built once per process. No data from requests is interpolated into it. */
export const APP_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Primes (MCP App demo)</title>
<style>${APP_STYLE}</style>
</head>
<body>
<h1>Prime numbers</h1>
<p id="status" role="status" aria-live="polite">Waiting for the host (ui/initialize)...</p>
<ul id="primes" aria-label="Prime numbers"></ul>
<button id="more" type="button" disabled>Ask the server for more primes</button>
<p id="host-note"></p>
<script type="module">
${loadAppsBundle()}
${VIEW_SCRIPT}
</script>
</body>
</html>
`;

// Built once per process, not per McpServer (see tools.ts and docs/performance.md).
const appInput = z.object({ count: z.number().int().min(1).max(100).default(10).describe('How many primes to show') });

export function registerApps(server: McpServer, _env: FeatureEnv, directory: ResourceDirectory): void {
  registerAppResource(
    server,
    'primes-app',
    APP_RESOURCE_URI,
    {
      title: 'Primes app',
      description: 'HTML user interface of the showPrimesApp tool (MCP Apps).',
      mimeType: RESOURCE_MIME_TYPE,
      cacheHint: { ttlMs: 3_600_000, cacheScope: 'public' },
      _meta: { ui: APP_UI_META }
    } as Parameters<typeof registerAppResource>[3],
    async uri => ({ contents: [{ uri: uri.href, mimeType: RESOURCE_MIME_TYPE, text: APP_HTML, _meta: { ui: APP_UI_META } }] })
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
      // Always an object, in both eras: MCP Apps hosts and ext-apps' App check
      // tool results against the 2025-11-25 schema, where structuredContent must
      // be an object (`getPrimes` is the tool that shows a non-object result).
      return {
        content: [{ type: 'text', text: `The first ${count} primes: ${primes.join(', ')}` }],
        structuredContent: { primes }
      };
    }
  );
}
