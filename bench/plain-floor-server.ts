/**
 * THE benchmark floor (issue 15): a bare SDK v2 server on plain `node:http`,
 * no framework, with one echo tool, served the way the SDK documents it:
 * sessions on `NodeStreamableHTTPServerTransport` for the 2025 era,
 * `createMcpHandler` for 2026-07-28. It checks a bearer token the way ours
 * does at its cheapest (SHA-256 of the presented token looked up in a map of
 * issued tokens, the AuthInfo handed to the SDK), so the comparison is of
 * servers doing the same job, not of auth against no auth.
 *
 * The Express floor (bench/floor-server.ts) stays in the report as a second line.
 *
 * Usage: node bench/.build/bench/plain-floor-server.js <port> <token>
 */
import { hash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

import { NodeStreamableHTTPServerTransport, toNodeHandler } from '@modelcontextprotocol/node';
import { classifyInboundRequest, createMcpHandler, isInitializeRequest, McpServer, type AuthInfo } from '@modelcontextprotocol/server';
import { z } from 'zod';

const EchoInput = z.object({ message: z.string() });

function build(): McpServer {
  const server = new McpServer({ name: 'plain-floor', version: '1.0.0' }, { capabilities: { tools: {} } });
  server.registerTool('echo', { description: 'Echoes the message', inputSchema: EchoInput }, async ({ message }) => ({
    content: [{ type: 'text', text: `Echo: ${message}` }]
  }));
  return server;
}

const port = Number(process.argv[2] ?? 0);
const token = process.argv[3];
const sha256 = (s: string) => hash('sha256', s, 'hex');
/** Issued tokens by hash, as a token store keeps them. */
const issued = new Map<string, AuthInfo>(token ? [[sha256(token), { token: '', clientId: 'bench', scopes: ['mcp'], extra: { subject: 'bench' } }]] : []);

function authenticate(req: IncomingMessage, res: ServerResponse): AuthInfo | undefined {
  if (!token) return { token: '', clientId: 'anonymous', scopes: [] };
  const header = req.headers.authorization;
  const presented = header?.startsWith('Bearer ') ? header.slice(7) : undefined;
  const info = presented ? issued.get(sha256(presented)) : undefined;
  if (!info) {
    res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"', 'content-type': 'application/json' }).end('{"error":"invalid_token"}');
    return undefined;
  }
  return { ...info, token: presented! };
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  if (chunks.length === 0) return undefined;
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

const modern = toNodeHandler(createMcpHandler(() => build()));
const sessions = new Map<string, NodeStreamableHTTPServerTransport>();
const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

function jsonRpcError(res: ServerResponse, status: number, code: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}

async function handle(req: IncomingMessage & { auth?: AuthInfo }, res: ServerResponse): Promise<void> {
  if (!req.url?.startsWith('/mcp')) return void res.writeHead(404).end();
  const auth = authenticate(req, res);
  if (!auth) return;
  req.auth = auth;
  let body: unknown;
  if (req.method === 'POST') {
    try {
      body = await readJson(req);
    } catch {
      return jsonRpcError(res, 400, -32700, 'Parse error');
    }
  }
  const kind = classifyInboundRequest({
    httpMethod: req.method ?? 'GET',
    protocolVersionHeader: first(req.headers['mcp-protocol-version']),
    mcpMethodHeader: first(req.headers['mcp-method']),
    mcpNameHeader: first(req.headers['mcp-name']),
    body
  }).kind;
  if (kind !== 'legacy') return modern(req, res, body);
  const id = first(req.headers['mcp-session-id']);
  const existing = id ? sessions.get(id) : undefined;
  if (existing) return existing.handleRequest(req, res, body);
  if (!id && req.method === 'POST' && isInitializeRequest(body)) {
    const transport: NodeStreamableHTTPServerTransport = new NodeStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: sid => void sessions.set(sid, transport)
    });
    transport.onclose = () => void (transport.sessionId && sessions.delete(transport.sessionId));
    await build().connect(transport);
    return transport.handleRequest(req, res, body);
  }
  jsonRpcError(res, id ? 404 : 400, id ? -32001 : -32000, id ? 'Session not found' : 'Session ID required');
}

const listener = createServer((req, res) => {
  handle(req, res).catch(() => {
    if (!res.headersSent) jsonRpcError(res, 500, -32603, 'Internal error');
    else res.end();
  });
});

// Exit cleanly on SIGTERM, so that `node --cpu-prof` writes its profile (bench/profile.ts).
process.on('SIGTERM', () => process.exit(0));

listener.listen(port, '127.0.0.1', () => {
  const address = listener.address();
  console.log(`plain floor listening on ${typeof address === 'object' && address ? address.port : port}`);
});
