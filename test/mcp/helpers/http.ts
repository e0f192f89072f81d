/**
 * Raw HTTP helpers for the MCP tests: JSON-RPC posts with the headers each
 * era needs, and an SSE reader that collects events until a condition.
 */
import http from 'node:http';

export const ACCEPT = 'application/json, text/event-stream';
export const MODERN = '2026-07-28';
export const LEGACY = '2025-11-25';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** node:http request, so Host/Origin can be set freely. */
export function raw(url: string, options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'GET', headers: options.headers }, res => {
      const chunks: Buffer[] = [];
      res.on('data', c => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (options.body !== undefined) req.end(options.body);
    else req.end();
  });
}

export interface SseEvent {
  id?: string;
  event?: string;
  data: string;
  retry?: number;
}

export function parseSse(text: string): SseEvent[] {
  const events: SseEvent[] = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    if (!block.trim()) continue;
    const e: SseEvent = { data: '' };
    const data: string[] = [];
    let any = false;
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith(':')) continue;
      const at = line.indexOf(':');
      const field = at === -1 ? line : line.slice(0, at);
      const value = at === -1 ? '' : line.slice(at + 1).replace(/^ /, '');
      any = true;
      if (field === 'data') data.push(value);
      else if (field === 'id') e.id = value;
      else if (field === 'event') e.event = value;
      else if (field === 'retry') e.retry = Number(value);
    }
    if (!any) continue;
    e.data = data.join('\n');
    events.push(e);
  }
  return events;
}

/** JSON-RPC messages of a response, whether it came as JSON or as SSE. */
export function messagesOf(res: { headers: Headers | http.IncomingHttpHeaders; body: string }): Array<Record<string, any>> {
  const ct = res.headers instanceof Headers ? res.headers.get('content-type') : (res.headers['content-type'] as string | undefined);
  if (ct?.includes('text/event-stream')) return parseSse(res.body).filter(e => e.data).map(e => JSON.parse(e.data));
  return res.body ? [JSON.parse(res.body)] : [];
}

/** A 2026-07-28 request body with the per-request `_meta` envelope. */
export function modernRequest(id: number, method: string, params: Record<string, unknown> = {}, capabilities: Record<string, unknown> = {}) {
  const { _meta, ...rest } = params as { _meta?: Record<string, unknown> };
  return {
    jsonrpc: '2.0',
    id,
    method,
    params: {
      ...rest,
      _meta: {
        'io.modelcontextprotocol/protocolVersion': MODERN,
        'io.modelcontextprotocol/clientInfo': { name: 'mcp-tests', version: '1.0.0' },
        'io.modelcontextprotocol/clientCapabilities': capabilities,
        ..._meta
      }
    }
  };
}

/** Headers a 2026-07-28 POST must carry (SEP-2243 standard headers). */
export function modernHeaders(method: string, name?: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'content-type': 'application/json',
    accept: ACCEPT,
    'mcp-protocol-version': MODERN,
    'mcp-method': method,
    ...(name !== undefined ? { 'mcp-name': name } : {}),
    ...extra
  };
}

export async function postModern(
  mcpUrl: string,
  method: string,
  params: Record<string, unknown> = {},
  opts: { name?: string; headers?: Record<string, string>; capabilities?: Record<string, unknown> } = {}
) {
  const name = opts.name ?? (typeof params['name'] === 'string' ? (params['name'] as string) : typeof params['uri'] === 'string' ? (params['uri'] as string) : undefined);
  const res = await fetch(mcpUrl, {
    method: 'POST',
    headers: modernHeaders(method, name, opts.headers),
    body: JSON.stringify(modernRequest(1, method, params, opts.capabilities))
  });
  const body = await res.text();
  return { status: res.status, headers: res.headers, body, messages: messagesOf({ headers: res.headers, body }) };
}

export interface LegacySession {
  sessionId: string;
  post(message: Record<string, unknown>, headers?: Record<string, string>): Promise<{ status: number; headers: Headers; body: string; messages: Array<Record<string, any>> }>;
}

/** Opens a 2025-11-25 session (initialize + initialized) as `auth` (an Authorization header value) or anonymously. */
export async function openLegacySession(mcpUrl: string, auth?: string, capabilities: Record<string, unknown> = {}): Promise<LegacySession> {
  const base: Record<string, string> = { 'content-type': 'application/json', accept: ACCEPT, ...(auth ? { authorization: auth } : {}) };
  const init = await fetch(mcpUrl, {
    method: 'POST',
    headers: base,
    body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: LEGACY, capabilities, clientInfo: { name: 'mcp-tests', version: '1.0.0' } } })
  });
  await init.text();
  const sessionId = init.headers.get('mcp-session-id');
  if (init.status !== 200 || !sessionId) throw new Error(`initialize failed: ${init.status}`);
  const post = async (message: Record<string, unknown>, headers: Record<string, string> = {}) => {
    const res = await fetch(mcpUrl, {
      method: 'POST',
      headers: { ...base, 'mcp-session-id': sessionId, 'mcp-protocol-version': LEGACY, ...headers },
      body: JSON.stringify(message)
    });
    const body = await res.text();
    return { status: res.status, headers: res.headers, body, messages: messagesOf({ headers: res.headers, body }) };
  };
  const initialized = await post({ jsonrpc: '2.0', method: 'notifications/initialized' });
  if (initialized.status !== 202) throw new Error(`initialized: ${initialized.status}`);
  return { sessionId, post };
}

/** A long-lived SSE stream read in the background; `waitFor` resolves when an event matches. */
export class SseStream {
  readonly events: SseEvent[] = [];
  status = 0;
  private buffer = '';
  private readonly abort = new AbortController();
  private waiters: Array<() => void> = [];
  readonly opened: Promise<void>;
  /** Set when the server ended the stream. */
  ended = false;

  constructor(url: string, init: RequestInit = {}) {
    this.opened = (async () => {
      const res = await fetch(url, { ...init, signal: this.abort.signal });
      this.status = res.status;
      if (!res.body || !res.headers.get('content-type')?.includes('text/event-stream')) {
        await res.text().catch(() => undefined);
        return;
      }
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      void (async () => {
        try {
          for (;;) {
            const { value, done } = await reader.read();
            if (done) {
              this.ended = true;
              for (const w of this.waiters.splice(0)) w();
              break;
            }
            this.buffer += decoder.decode(value, { stream: true });
            const cut = this.buffer.lastIndexOf('\n\n');
            if (cut !== -1) {
              this.events.push(...parseSse(this.buffer.slice(0, cut + 2)));
              this.buffer = this.buffer.slice(cut + 2);
              for (const w of this.waiters.splice(0)) w();
            }
          }
        } catch {
          // aborted
        }
      })();
    })();
  }

  messages(): Array<Record<string, any>> {
    return this.events.filter(e => e.data && e.event !== 'endpoint').map(e => JSON.parse(e.data));
  }

  async waitFor<T>(pick: (stream: SseStream) => T | undefined, timeoutMs = 5000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = pick(this);
      if (found !== undefined && found !== false) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; events so far: ${JSON.stringify(this.events).slice(0, 500)}`);
      await new Promise<void>(resolve => {
        const t = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.abort.abort();
  }
}
