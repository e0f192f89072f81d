/**
 * The landing page at `GET /`: what this server is, how to connect (the MCP
 * URL, the MCP Inspector), the protocol revisions it serves, the feature
 * catalogue, the mode it runs in, and links to its metadata documents.
 *
 * Rendered with the shared page template (src/http/html.ts), so it has the
 * same security headers as the AS pages: strict CSP (no script but the
 * gallery's copy buttons, one constant script allowed by nonce),
 * styles by nonce, no framing, no referrer, `Cache-Control: no-store`. Every
 * value on it is escaped by the `html` template. Nothing on it is secret:
 * the URLs and names are all public metadata.
 *
 *   app.use(createLandingRouter({ config, storeKind: store.kind }));
 */
import { SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/server';
import { Router } from 'express';

import type { Config } from '../config.js';
import { html, sendPage, type SafeHtml } from '../http/html.js';

export interface FeatureEntry {
  name: string;
  title?: string;
}

/** What the page lists. The default is the catalogue in src/mcp/features (kept in step by test/ops/landing.test.ts). */
export interface FeatureCatalogue {
  tools: FeatureEntry[];
  resources: FeatureEntry[];
  resourceTemplates: FeatureEntry[];
  prompts: FeatureEntry[];
  /** Capabilities and protocol features beyond the three primitives. */
  capabilities: string[];
}

export const DEFAULT_FEATURES: FeatureCatalogue = {
  tools: [
    { name: 'echo', title: 'Echo' },
    { name: 'add', title: 'Add two numbers' },
    { name: 'longRunningOperation', title: 'Long-running operation (progress notifications)' },
    { name: 'sampleLLM', title: 'Sample from the client LLM' },
    { name: 'sampleLLMWithTools', title: 'Sample with tools' },
    { name: 'startElicitation', title: 'Form elicitation' },
    { name: 'elicitUrl', title: 'URL elicitation' },
    { name: 'listRoots', title: 'List client roots' },
    { name: 'getTinyImage', title: 'Tiny image' },
    { name: 'annotatedMessage', title: 'Annotated message' },
    { name: 'getResourceReference', title: 'Resource reference' },
    { name: 'getResourceLinks', title: 'Resource links' },
    { name: 'structuredContent', title: 'Structured content (object)' },
    { name: 'getPrimes', title: 'Structured content (array)' },
    { name: 'createCounter', title: 'Create a counter (server-minted handle)' },
    { name: 'incrementCounter', title: 'Increment a counter' },
    { name: 'getCounter', title: 'Read a counter' },
    { name: 'showPrimesApp', title: 'Primes (MCP App)' },
    { name: 'whoami', title: 'Who am I' },
    { name: 'upstreamProfile', title: 'Profile at the identity provider' },
    { name: 'adminStats', title: 'Admin statistics (needs scope mcp:admin)' },
    { name: 'researchReport', title: 'Research report (a task: progress, a question halfway; 2026-07-28)' },
    { name: 'mirror', title: 'Client test bench: what the server received' },
    { name: 'fault', title: 'Client test bench: faults on demand (JSON-RPC, HTTP, streams, sessions)' },
    { name: 'contentShapes', title: 'Client test bench: every content shape' },
    { name: 'structuredObject', title: 'Client test bench: structured content (object)' },
    { name: 'structuredArray', title: 'Client test bench: structured content (array)' },
    { name: 'structuredPrimitive', title: 'Client test bench: structured content (primitive)' },
    { name: 'largeResult', title: 'Client test bench: large results' },
    { name: 'progressFlood', title: 'Client test bench: progress floods' },
    { name: 'catalogueChange', title: 'Client test bench: your own dynamic catalogue' }
  ],
  resources: [
    { name: 'test://static/resource/1 … 100', title: '100 static resources (odd: text, even: binary), 10 per page' },
    { name: 'ui://reference-server/primes-app.html', title: 'Primes app (MCP Apps UI resource)' },
    { name: 'skill://reference-server/{oauth-connect, mcp-apps-testing, client-error-handling}/SKILL.md', title: 'Skill manifests (SEP-2640)' },
    { name: 'bench://icons', title: 'Client test bench: icons (light and dark, several sizes), annotations, lastModified' }
  ],
  resourceTemplates: [
    { name: 'test://static/resource/{id}', title: 'Any static resource, with id completion' },
    { name: 'skill://reference-server/{+path}', title: 'Every file of every skill (SEP-2640)' }
  ],
  prompts: [
    { name: 'simple_prompt', title: 'Simple prompt' },
    { name: 'complex_prompt', title: 'Complex prompt (arguments with completion)' },
    { name: 'resource_prompt', title: 'Resource prompt (embeds a resource)' },
    { name: 'trip_prompt', title: 'Client test bench: completion that follows context.arguments' }
  ],
  capabilities: [
    'Argument completion (completion/complete) for prompts and resource templates',
    'Pagination (resources/list, 10 per page, opaque cursors)',
    'Resource subscriptions: resources/subscribe (2025) and subscriptions/listen (2026-07-28)',
    'List-changed notifications for tools, resources and prompts',
    'Logging: logging/setLevel (2025) and the per-request log level (2026-07-28)',
    'Progress notifications and cancellation',
    'Sampling, elicitation (form and URL) and roots: server-to-client requests (2025) and input_required (2026-07-28)',
    'Cache hints (ttlMs, cacheScope) on 2026-07-28 results',
    'Resumable streams (Last-Event-ID) for 2025-era sessions',
    'Skills extension (io.modelcontextprotocol/skills, SEP-2640): skills/list (2 per page), skills/get, resources/directory/read',
    'Tasks extension (io.modelcontextprotocol/tasks, SEP-2663, 2026-07-28): task handles from tools/call, tasks/get, tasks/update, tasks/cancel',
    'Conformance-suite fixtures: tools, resources and prompts named test_*'
  ]
};

/** The MCP Apps gallery as the page lists it (src/gallery). */
export interface GalleryListing {
  /** Served without a token (`EXAMPLE_APPS_PUBLIC`). */
  public: boolean;
  apps: Array<{ slug: string; title: string; url: string; installed: boolean; offline: 'full' | 'partial'; needsNetwork?: string }>;
}

export interface LandingOptions {
  config: Config;
  /** `store.kind` of the running server. */
  storeKind: 'memory' | 'redis';
  features?: FeatureCatalogue;
  gallery?: GalleryListing;
}

/** The copy buttons: the URL to copy is the button's `data-copy`. */
const COPY_SCRIPT = `for (const b of document.querySelectorAll('button[data-copy]')) {
  b.addEventListener('click', () => {
    navigator.clipboard.writeText(b.dataset.copy).then(
      () => { b.textContent = 'Copied'; setTimeout(() => { b.textContent = 'Copy'; }, 1500); },
      () => { b.textContent = 'Copy failed'; }
    );
  });
}`;

function galleryPage(gallery: GalleryListing): SafeHtml {
  return html`<h2 id="gallery">MCP Apps gallery</h2>
<p>The example apps of the <a href="https://github.com/modelcontextprotocol/ext-apps">ext-apps</a> project, one MCP server each, for every protocol revision above (Streamable HTTP). ${
    gallery.public
      ? html`They are public here: no token needed.`
      : html`Each is an OAuth-protected resource of its own: a client discovers the authorization server from the <code>401</code> and asks for a token for that URL.`
  }</p>
<ul class="gallery">${gallery.apps.map(
    a => html`<li><strong>${a.title}</strong> <code>${a.url}</code> <button type="button" class="copy" data-copy="${a.url}" aria-label="${`Copy the URL of ${a.title}`}">Copy</button>${
      a.installed ? '' : html` <span class="muted">(not installed: <code>npm --prefix gallery ci</code>)</span>`
    }${a.needsNetwork ? html` <span class="muted">· needs the network for ${a.needsNetwork}</span>` : ''}</li>`
  )}</ul>`;
}

/** The revisions this server answers: 2026-07-28 (stateless) plus every revision the SDK negotiates for sessions. */
export const PROTOCOL_REVISIONS: ReadonlyArray<{ version: string; how: string }> = [
  { version: '2026-07-28', how: 'stateless Streamable HTTP on /mcp (server/discover, no session)' },
  ...SUPPORTED_PROTOCOL_VERSIONS.filter(v => v !== '2026-07-28').map(version => ({
    version,
    how: version === '2024-11-05' || version === '2024-10-07' ? 'Streamable HTTP on /mcp, or the deprecated HTTP+SSE transport (GET /sse, POST /message)' : 'Streamable HTTP on /mcp with a session (Mcp-Session-Id)'
  }))
];

const MODE_TEXT: Record<Config['mode'], string> = {
  internal: 'internal: the authorization server and the MCP server run in this one process',
  external: 'external: this process is the MCP server only; tokens come from the authorization server below and are validated by introspection or JWT',
  auth_server: 'auth_server: this process is the authorization server only'
};

const names = (entries: FeatureEntry[], cols = false) =>
  html`<ul class="${cols ? 'plain cols' : 'plain'}">${entries.map(e => html`<li><code>${e.name}</code>${e.title ? html` · ${e.title}` : ''}</li>`)}</ul>`;

function page(options: LandingOptions): SafeHtml {
  const { config, storeKind } = options;
  const features = options.features ?? DEFAULT_FEATURES;
  const servesMcp = config.mode !== 'auth_server';
  const servesAs = config.mode !== 'external';
  const asMetadata = `${config.issuer}/.well-known/oauth-authorization-server`;
  const prm = `${config.baseUri}/.well-known/oauth-protected-resource/mcp`;

  const connect = servesMcp
    ? html`<h2 id="connect">Connect</h2>
<p>MCP endpoint (Streamable HTTP):</p>
<pre><code>${config.mcpUrl}</code></pre>
<h3>With the MCP Inspector</h3>
<ol class="plain">
<li>Run <code>npx @modelcontextprotocol/inspector</code> and open the address it prints.</li>
<li>Choose the transport <strong>Streamable HTTP</strong> and enter <code>${config.mcpUrl}</code>.</li>
<li>Connect. The Inspector gets a <code>401</code>, discovers the authorization server from the protected resource metadata, registers itself and sends you to the consent page; approve, pick a demo identity, and you are connected.</li>
</ol>
<h3>From code</h3>
<p>Any MCP client with OAuth support: the SDK v2 client (<code>@modelcontextprotocol/client</code>) does discovery, registration and PKCE by itself. This repository's <code>npm run example:client</code> runs the whole flow and every feature; <code>examples/curl.sh</code> shows the raw HTTP.</p>
<p class="muted">Deprecated HTTP+SSE transport (2024-11-05 clients): <code>${config.baseUri}/sse</code></p>`
    : html`<h2 id="connect">Connect</h2>
<p>This process is the authorization server only: MCP clients connect to the MCP server, which sends them here to sign in.</p>`;

  return html`<h1>MCP Feature Reference Server</h1>
<p>A reference implementation of the Model Context Protocol: every MCP feature, every protocol revision, and OAuth 2.1 authorization (PKCE, dynamic client registration, client ID metadata documents, resource indicators, refresh-token rotation), in memory or on Redis.</p>
${connect}
<h2 id="instance">This instance</h2>
<dl class="facts">
<dt>Auth mode</dt><dd>${MODE_TEXT[config.mode]}</dd>
<dt>Authorization server</dt><dd><code>${config.issuer}</code></dd>
${
  servesAs
    ? config.upstream.kind === 'mock'
      ? html`<dt>Sign-in</dt><dd>the demo identity provider (<code>UPSTREAM_IDP=mock</code>)</dd>`
      : html`<dt>Sign-in</dt><dd>identity provider <code>${config.upstream.kind}</code>${config.upstream.issuer ? html` at <code>${config.upstream.issuer}</code>` : ''}</dd><dt>Redirect URI to register at the provider</dt><dd><code>${config.issuer}/upstream-idp/callback</code></dd>`
    : ''
}
<dt>Storage</dt><dd>${storeKind === 'redis' ? 'Redis: state survives restarts and is shared by every instance' : 'memory: state is lost when the process stops (set REDIS_URL to keep it)'}</dd>
${servesMcp ? html`<dt>MCP resource</dt><dd><code>${config.mcpUrl}</code></dd>` : ''}
</dl>
${
  servesMcp
    ? html`<h2 id="revisions">Protocol revisions</h2>
<ul class="plain">${PROTOCOL_REVISIONS.map(r => html`<li><code>${r.version}</code> · ${r.how}</li>`)}</ul>
<h2 id="features">Features</h2>
<h3>Tools (${features.tools.length})</h3>
${names(features.tools, true)}
<h3>Resources</h3>
${names(features.resources)}
<h3>Resource templates</h3>
${names(features.resourceTemplates)}
<h3>Prompts (${features.prompts.length})</h3>
${names(features.prompts)}
<h3>Protocol features</h3>
<ul class="plain">${features.capabilities.map(c => html`<li>${c}</li>`)}</ul>`
    : ''
}
${servesMcp && options.gallery ? galleryPage(options.gallery) : ''}
<h2 id="metadata">Metadata and operations</h2>
<ul class="plain">
${servesMcp ? html`<li><a href="${prm}">Protected resource metadata</a> (RFC 9728)</li>` : ''}
${servesAs ? html`<li><a href="${asMetadata}">Authorization server metadata</a> (RFC 8414)</li><li><a href="${config.issuer}/.well-known/openid-configuration">OpenID configuration</a></li>` : html`<li><a href="${asMetadata}">Authorization server metadata</a> (RFC 8414, at the external authorization server)</li>`}
<li><a href="${config.baseUri}/health">Liveness</a> · <a href="${config.baseUri}/ready">Readiness</a> · <a href="${config.baseUri}/metrics">Prometheus metrics</a></li>
</ul>`;
}

export function createLandingRouter(options: LandingOptions): Router {
  const router = Router();
  router.get('/', (_req, res) => {
    sendPage(res, { title: 'MCP Feature Reference Server', body: page(options), layout: 'wide', footer: 'MCP Feature Reference Server', ...(options.gallery ? { script: COPY_SCRIPT } : {}) });
  });
  return router;
}
