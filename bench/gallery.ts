/**
 * What the MCP Apps gallery costs (docs/performance.md "Gallery"):
 *
 * - install size of gallery/node_modules next to the server's node_modules;
 * - start-up: `startServer` with the gallery mounted (apps load lazily, so
 *   this is the server's own start-up), then each app's first request
 *   (import of its bundle + createServer + in-process initialize + the
 *   client's initialize and tools/list) and a warm tools/list;
 * - memory: RSS and V8 heap after a forced GC, before any app and after each.
 *
 *   node --expose-gc --import tsx bench/gallery.ts
 *
 * Run it alone on a quiet machine: the timings are wall-clock.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';

import { startServer } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { GALLERY_APPS } from '../src/gallery/index.js';
import { createLogger } from '../src/logger.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const MiB = 1024 * 1024;
const mem = () => {
  gc();
  gc();
  const m = process.memoryUsage();
  return { rss: m.rss / MiB, heap: m.heapUsed / MiB };
};
const du = (dir: string) => Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0]) / MiB;

const root = process.cwd();
console.log(`install size: node_modules ${du(join(root, 'node_modules')).toFixed(0)} MiB, gallery/node_modules ${du(join(root, 'gallery', 'node_modules')).toFixed(0)} MiB`);

const before = mem();
let t = performance.now();
const server = await startServer(loadConfig({ PORT: '0', HOST: '127.0.0.1', NODE_ENV: 'test', EXAMPLE_APPS_PUBLIC: 'true', LOG_LEVEL: 'silent' }), { logger: createLogger('silent') });
const startMs = performance.now() - t;
const base = mem();
console.log(`server start-up: ${startMs.toFixed(0)} ms; memory before apps: RSS ${base.rss.toFixed(0)} MiB, heap ${base.heap.toFixed(0)} MiB (process before the server: RSS ${before.rss.toFixed(0)} MiB)`);
console.log('\n| app | first request (ms) | warm tools/list (ms) | RSS after (MiB) | heap after (MiB) |\n|---|---|---|---|---|');

const connect = async (slug: string, attempt = 1): Promise<Client> => {
  const client = new Client({ name: 'bench', version: '1' });
  try {
    await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/${slug}/mcp`)));
  } catch (err) {
    // A kept-alive socket the server closed during a long forced GC: once more, on a new one.
    if (attempt > 1) throw err;
    return connect(slug, attempt + 1);
  }
  return client;
};
for (const app of GALLERY_APPS) {
  t = performance.now();
  const client = await connect(app.slug);
  await client.listTools();
  const first = performance.now() - t;
  t = performance.now();
  await client.listTools();
  const warm = performance.now() - t;
  await client.close();
  const m = mem();
  console.log(`| ${app.slug} | ${first.toFixed(0)} | ${warm.toFixed(1)} | ${m.rss.toFixed(0)} | ${m.heap.toFixed(0)} |`);
}
const all = mem();
console.log(`\nall ${GALLERY_APPS.length} apps loaded: RSS +${(all.rss - base.rss).toFixed(0)} MiB, heap +${(all.heap - base.heap).toFixed(0)} MiB over the server without apps`);
await server.close();
