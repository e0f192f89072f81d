/**
 * The server's own icons (serverInfo `icons`) as files on its origin:
 * `GET /icons/<theme>-<size>.png` and `GET /icons/<theme>.svg`.
 *
 * MCP 2026-07-28 stamps serverInfo on every result (`_meta`
 * `io.modelcontextprotocol/serverInfo`), so what serverInfo carries is paid
 * on every response. As `data:` URLs the icons made a tools/call result
 * ~2 KB instead of ~150 bytes (and cost more serializing and writing it than
 * the rest of the echo; docs/performance.md). Over HTTP they are therefore
 * served as same-origin URLs (the spec's Icon `src`: an HTTP(S) URL from the
 * server's own domain, or a `data:` URI), cacheable by clients; stdio, which
 * has no HTTP server to fetch them from, keeps the `data:` URLs. The client
 * test bench's own items keep their inline icons (docs/client-testing.md).
 */
import type { RequestHandler } from 'express';

import { BENCH_ICONS, type Icon } from './client-testing/media.js';

const fileName = (icon: Icon) => (icon.mimeType === 'image/svg+xml' ? `${icon.theme}.svg` : `${icon.theme}-${icon.sizes[0]!.split('x')[0]}.png`);

/** The bench icons' bytes by file name, decoded once from their data: URLs. */
const FILES = new Map(BENCH_ICONS.map(icon => [fileName(icon), { type: icon.mimeType, bytes: Buffer.from(icon.src.slice(icon.src.indexOf(',') + 1), 'base64') }]));

/** Per theme, one scalable SVG and one 32 px PNG for clients that do not draw SVG. */
const SERVER_ICON_SET = BENCH_ICONS.filter(icon => icon.sizes[0] === 'any' || icon.sizes[0] === '32x32');

/** serverInfo icons as URLs under `baseUri` (the server's public origin). */
export function serverIconUrls(baseUri: string): Icon[] {
  const base = baseUri.replace(/\/+$/, '');
  return SERVER_ICON_SET.map(icon => ({ ...icon, src: `${base}/icons/${fileName(icon)}` }));
}

/** serverInfo icons inline (`data:` URLs): for stdio. */
export const INLINE_SERVER_ICONS: Icon[] = SERVER_ICON_SET;

/** `GET /icons/:file`: public, immutable, never scriptable (an SVG opened directly runs nothing). */
export const serveIcon: RequestHandler = (req, res) => {
  const file = FILES.get(String(req.params['file']));
  if (!file) {
    res.status(404).type('text/plain').send('Not found');
    return;
  }
  res.set({
    'Content-Type': file.type,
    'Cache-Control': 'public, max-age=86400',
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; sandbox",
    // Clients on other origins (a browser-based MCP client) may show it in an <img>.
    'Cross-Origin-Resource-Policy': 'cross-origin'
  });
  res.end(file.bytes);
};
