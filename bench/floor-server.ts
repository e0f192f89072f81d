/**
 * The benchmark floor: a bare SDK v2 server with one echo tool, no auth, no
 * store, no logging, serving both paths the way the SDK documents (sessions
 * for the 2025 era, createMcpHandler for 2026-07-28). Our authenticated
 * server is measured against it in the same run (`npm run bench`).
 *
 * Usage: tsx bench/floor-server.ts <port>
 */
import { randomUUID } from 'node:crypto';

import { NodeStreamableHTTPServerTransport, toNodeHandler } from '@modelcontextprotocol/node';
import { classifyInboundRequest, createMcpHandler, isInitializeRequest, McpServer } from '@modelcontextprotocol/server';
import express from 'express';
import { z } from 'zod';

function build(): McpServer {
  const server = new McpServer({ name: 'floor', version: '1.0.0' }, { capabilities: { tools: {} } });
  server.registerTool('echo', { description: 'Echoes the message', inputSchema: z.object({ message: z.string() }) }, async ({ message }) => ({
    content: [{ type: 'text', text: `Echo: ${message}` }]
  }));
  return server;
}

const modern = toNodeHandler(createMcpHandler(() => build()));
const sessions = new Map<string, NodeStreamableHTTPServerTransport>();
const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

const app = express();
app.use(express.json({ limit: '1mb' }));
app.all('/mcp', async (req, res) => {
  const kind = classifyInboundRequest({
    httpMethod: req.method,
    protocolVersionHeader: first(req.headers['mcp-protocol-version']),
    mcpMethodHeader: first(req.headers['mcp-method']),
    body: req.body
  }).kind;
  if (kind !== 'legacy') return modern(req, res, req.body);
  const id = first(req.headers['mcp-session-id']);
  const existing = id ? sessions.get(id) : undefined;
  if (existing) return existing.handleRequest(req, res, req.body);
  if (!id && req.method === 'POST' && isInitializeRequest(req.body)) {
    const transport: NodeStreamableHTTPServerTransport = new NodeStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: sid => void sessions.set(sid, transport)
    });
    transport.onclose = () => void (transport.sessionId && sessions.delete(transport.sessionId));
    await build().connect(transport);
    return transport.handleRequest(req, res, req.body);
  }
  res.status(id ? 404 : 400).json({ jsonrpc: '2.0', error: { code: id ? -32001 : -32000, message: id ? 'Session not found' : 'Session ID required' }, id: null });
});

// Exit cleanly on SIGTERM, so that `node --cpu-prof` writes its profile (bench/profile.ts).
process.on('SIGTERM', () => process.exit(0));

const port = Number(process.argv[2] ?? 0);
const listener = app.listen(port, '127.0.0.1', () => {
  const address = listener.address();
  console.log(`floor listening on ${typeof address === 'object' && address ? address.port : port}`);
});
