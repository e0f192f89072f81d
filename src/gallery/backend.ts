/**
 * One gallery app, running in this process: its package's `createServer()`
 * (an `McpServer` of the SDK 2.0.0 copy the package bundles), connected
 * through linked in-process transports to a client of this server's own SDK.
 * The proxy (./proxy.ts) serves every protocol revision from that client,
 * so the app never meets an HTTP request, a token or a 2026-07-28 envelope.
 *
 * Started on the first request to its slug, then shared by every caller of
 * this process (the apps keep no per-user state worth separating; the
 * ones with state (pdf's open documents, debug's counters) are demos).
 *
 * The client declares no capability: the apps cannot ask it for roots (so
 * pdf's local-file access, which reads the client's roots, stays closed),
 * sampling or elicitation.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { Client, type Implementation, type ServerCapabilities } from '@modelcontextprotocol/client';
import type { Transport } from '@modelcontextprotocol/server';

import type { GalleryApp } from './apps.js';
import { linkedTransports } from './in-memory-transport.js';

/** gallery/ at the project root (the same path from src/ and dist/): its own package.json and node_modules. */
export const GALLERY_ROOT = fileURLToPath(new URL('../../gallery/', import.meta.url));

export class GalleryAppUnavailableError extends Error {
  override readonly name = 'GalleryAppUnavailableError';
}

export interface GalleryBackend {
  app: GalleryApp;
  client: Client;
  serverInfo: Implementation;
  capabilities: ServerCapabilities;
  instructions?: string;
  /** Milliseconds from the first request to a connected app (import + createServer + initialize). */
  startMs: number;
  close(): Promise<void>;
}

interface GalleryPackage {
  createServer(): { connect(transport: Transport): Promise<void>; close(): Promise<void> };
}

/** The module file of `app`'s package in gallery/node_modules, or undefined when it is not installed. */
export function resolveGalleryPackage(app: GalleryApp, root = GALLERY_ROOT): string | undefined {
  const manifest = join(root, 'package.json');
  if (!existsSync(manifest)) return undefined;
  try {
    return createRequire(manifest).resolve(app.packageName);
  } catch {
    return undefined;
  }
}

/** What the operator runs, in the server's checkout, to install the gallery's packages. */
export const GALLERY_INSTALL_COMMAND = 'npm --prefix gallery ci';

export async function startGalleryBackend(app: GalleryApp, version: string, root = GALLERY_ROOT): Promise<GalleryBackend> {
  const started = performance.now();
  const entry = resolveGalleryPackage(app, root);
  if (!entry) throw new GalleryAppUnavailableError(`${app.packageName} is not installed (run \`${GALLERY_INSTALL_COMMAND}\`)`);
  const mod = (await import(pathToFileURL(entry).href)) as Partial<GalleryPackage>;
  if (typeof mod.createServer !== 'function') throw new GalleryAppUnavailableError(`${app.packageName} exports no createServer()`);
  const server = mod.createServer();
  const [clientSide, serverSide] = linkedTransports();
  await server.connect(serverSide);
  const client = new Client({ name: 'mcp-feature-reference-server', version }, { capabilities: {}, versionNegotiation: { mode: 'legacy' } });
  await client.connect(clientSide);
  return {
    app,
    client,
    serverInfo: client.getServerVersion()!,
    capabilities: client.getServerCapabilities() ?? {},
    instructions: client.getInstructions(),
    startMs: performance.now() - started,
    close: async () => {
      await client.close().catch(() => undefined);
      await server.close().catch(() => undefined);
    }
  };
}
