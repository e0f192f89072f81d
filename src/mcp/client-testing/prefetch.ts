/**
 * 2026-07-28 requests are served by a fresh server per request, built before
 * the request is handled, so the caller's dynamic catalogue
 * (./dynamic-catalogue.ts) is read from the store first, but only for the
 * requests that can see it: the lists, and a get/read/call naming a dynamic
 * or generated item. Every other request costs nothing extra. While the
 * store is unreachable the request is served without the caller's own items
 * (stateless requests keep working through a storage outage).
 */
import type { AuthInfo } from '@modelcontextprotocol/server';

import { isStoreUnavailable } from '../../store/store.js';
import { subjectOf } from '../features/env.js';
import type { McpRoute } from '../route.js';
import { DYNAMIC_PREFIX, DYNAMIC_RESOURCE_PREFIX, GENERATED_PREFIX, type CatalogueState } from './dynamic-catalogue.js';
import type { ClientTestingServices } from './services.js';

const LISTS = new Set(['tools/list', 'prompts/list', 'resources/list']);
const NAMED = new Set(['tools/call', 'prompts/get', 'resources/read']);
/**
 * The caller's catalogue when the request (by its `route`) can see it, else undefined at once
 * (no promise: most requests, a tools/call of a catalogue tool among them,
 * build their server synchronously).
 */
export function prefetchCatalogue(bench: ClientTestingServices | undefined, route: McpRoute | undefined, authInfo: AuthInfo | undefined): Promise<CatalogueState | undefined> | undefined {
  if (!bench || !route) return undefined;
  if (!LISTS.has(route.method)) {
    if (!NAMED.has(route.method)) return undefined;
    const name = route.name ?? '';
    if (!name.startsWith(DYNAMIC_PREFIX) && !name.startsWith(GENERATED_PREFIX) && !name.startsWith(DYNAMIC_RESOURCE_PREFIX)) return undefined;
  }
  return readCatalogue(bench, subjectOf(authInfo) ?? '');
}

async function readCatalogue(bench: ClientTestingServices, subject: string): Promise<CatalogueState | undefined> {
  try {
    return await bench.catalogue.get(subject);
  } catch (err) {
    if (!isStoreUnavailable(err)) throw err;
    bench.logger.debug({ err }, 'client testing: storage unreachable; serving without the caller catalogue');
    return undefined;
  }
}
