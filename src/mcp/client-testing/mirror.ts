/**
 * `mirror`: what the server received with this call, so a client author can
 * check what their client sends (docs/client-testing.md "mirror").
 *
 * On 2026-07-28 everything comes from the request itself (headers, the
 * `_meta` envelope); on 2025-era sessions clientInfo, capabilities and the
 * negotiated revision come from the session's `initialize`, read through
 * the session's own server, which the shared handler finds by
 * `ctx.sessionId` (`env.sessionOf`).
 */
import type { CallToolResult, ClientCapabilities, Implementation, McpServer, ServerContext } from '@modelcontextprotocol/server';
import { CLIENT_CAPABILITIES_META_KEY, CLIENT_INFO_META_KEY, PROTOCOL_VERSION_META_KEY } from '@modelcontextprotocol/server';
import { z } from 'zod';

import { subjectOf, type Era, type FeatureEnv } from '../features/env.js';
import { BENCH_ICONS } from './media.js';

/** The headers `mirror` reports (lower case). */
export const MIRRORED_HEADERS = ['mcp-protocol-version', 'mcp-method', 'mcp-name', 'mcp-session-id'] as const;

const json = z.record(z.string(), z.unknown());
export const mirrorOutput = z.object({
  era: z.enum(['2026-07-28', '2025']).describe('2026-07-28 (stateless, per-request envelope) or 2025 (a session)'),
  protocolVersion: z.string().nullable(),
  headers: z.object({
    'mcp-protocol-version': z.string().nullable(),
    'mcp-method': z.string().nullable(),
    'mcp-name': z.string().nullable(),
    'mcp-session-id': z.string().nullable()
  }),
  sessionId: z.string().nullable(),
  requestId: z.union([z.string(), z.number()]),
  meta: json.describe('the request `_meta`, envelope keys included, as received'),
  clientInfo: json.nullable(),
  clientCapabilities: json.nullable(),
  roots: z
    .object({ changes: z.number().int(), roots: z.array(z.object({ uri: z.string(), name: z.string().optional() })) })
    .nullable()
    .describe('2025 sessions: notifications/roots/list_changed received, and the roots the server then fetched (null on 2026-07-28)'),
  token: z
    .object({ subject: z.string().nullable(), clientId: z.string(), scopes: z.array(z.string()), expiresAt: z.number().nullable() })
    .nullable()
    .describe('the validated access token (never the token itself)')
});
export type MirrorOutput = z.infer<typeof mirrorOutput>;

/** What a 2025-era session learnt at `initialize`, and since (from the session's own server and state). */
export interface SessionFacts {
  roots: { changes: number; roots: Array<{ uri: string; name?: string }> };
  clientInfo(): Implementation | undefined;
  clientCapabilities(): ClientCapabilities | undefined;
  protocolVersion(): string | undefined;
}

/** The facts of the session `ctx` belongs to, when this process holds it. */
export function sessionFactsOf(ctx: ServerContext, sessionOf: FeatureEnv['sessionOf']): SessionFacts | undefined {
  const live = sessionOf?.(ctx.sessionId);
  if (!live) return undefined;
  const server = live.server.server;
  return {
    roots: live.state.roots ?? { changes: 0, roots: [] },
    clientInfo: () => server.getClientVersion(),
    clientCapabilities: () => server.getClientCapabilities(),
    protocolVersion: () => server.getNegotiatedProtocolVersion()
  };
}

export function mirrorOf(ctx: ServerContext, era: Era, session?: SessionFacts): MirrorOutput {
  const req = ctx.http?.req;
  const header = (name: string) => req?.headers.get(name) ?? null;
  const envelope = (ctx.mcpReq.envelope ?? {}) as Record<string, unknown>;
  const meta = { ...(ctx.mcpReq._meta ?? {}), ...envelope } as Record<string, unknown>;
  const auth = ctx.http?.authInfo;
  const asRecord = (v: unknown) => (v && typeof v === 'object' ? (v as Record<string, unknown>) : null);
  return {
    era: era === 'modern' ? '2026-07-28' : '2025',
    protocolVersion: era === 'modern' ? ((envelope[PROTOCOL_VERSION_META_KEY] as string | undefined) ?? header('mcp-protocol-version')) : (session?.protocolVersion() ?? header('mcp-protocol-version')),
    headers: Object.fromEntries(MIRRORED_HEADERS.map(h => [h, header(h)])) as MirrorOutput['headers'],
    sessionId: ctx.sessionId ?? null,
    requestId: ctx.mcpReq.id,
    meta,
    clientInfo: era === 'modern' ? asRecord(envelope[CLIENT_INFO_META_KEY]) : asRecord(session?.clientInfo()),
    clientCapabilities: era === 'modern' ? asRecord(envelope[CLIENT_CAPABILITIES_META_KEY]) : asRecord(session?.clientCapabilities()),
    roots: session ? { changes: session.roots.changes, roots: session.roots.roots.map(r => ({ uri: r.uri, ...(r.name !== undefined ? { name: r.name } : {}) })) } : null,
    token: auth ? { subject: subjectOf(auth) ?? null, clientId: auth.clientId, scopes: auth.scopes, expiresAt: auth.expiresAt ?? null } : null
  };
}

export function registerMirror(server: McpServer, era: Era, sessionOf: FeatureEnv['sessionOf']): void {
  server.registerTool(
    'mirror',
    {
      title: 'Mirror',
      description:
        'Returns what the server received with this call: protocol revision and era, the MCP-Protocol-Version, Mcp-Method, Mcp-Name and Mcp-Session-Id headers, the _meta envelope, clientInfo, client capabilities, and the access token\'s client_id and scopes.',
      outputSchema: mirrorOutput,
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
      icons: BENCH_ICONS
    },
    async (ctx: ServerContext): Promise<CallToolResult> => {
      const seen = mirrorOf(ctx, era, era === 'legacy' ? sessionFactsOf(ctx, sessionOf) : undefined);
      return { content: [{ type: 'text', text: JSON.stringify(seen, null, 2) }], structuredContent: seen };
    }
  );
}
