/**
 * Several server instances for the multi-instance tests: each is a real child
 * process (`node --import tsx src/index.ts`, AUTH_MODE=internal) on its own
 * free port, all sharing one real redis-server (test/helpers/redis-server.ts)
 * and one public address served by a small test load balancer.
 *
 * The balancer stands for the one in front of a real deployment: every
 * instance has the same `BASE_URI` (the balancer's address), so issuer,
 * token audience and Host checks are the same everywhere. A request picks its
 * instance with the `x-backend` header (stripped before forwarding);
 * without it, instances take turns (round robin). Requests and answers are
 * streamed both ways, so SSE passes through unbuffered.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import http, { type OutgoingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'multi-instance');
export const BACKEND_HEADER = 'x-backend';

/**
 * The environment every instance of one test shares: internal mode behind
 * the balancer's public address, one Redis, the same forwarding secret and
 * requestState key, no periodic demo notifications; `extra` on top.
 */
export function sharedInstanceEnv(publicUrl: string, redisUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'test',
    AUTH_MODE: 'internal',
    BASE_URI: publicUrl,
    REDIS_URL: redisUrl,
    INSTANCE_SECRET: randomBytes(32).toString('base64url'),
    MCP_REQUEST_STATE_KEY: randomBytes(32).toString('base64url'),
    LOG_LEVEL: 'info',
    RESOURCE_UPDATE_INTERVAL: '3600',
    LOG_MESSAGE_INTERVAL: '3600',
    ...extra
  };
}

export interface Instance {
  readonly name: string;
  readonly port: number;
  /** Direct address of this instance (what INSTANCE_URL defaults to). */
  readonly directUrl: string;
  readonly env: Record<string, string>;
  readonly process: ChildProcess;
  /** True once the process has exited. */
  exited(): boolean;
  /** SIGTERM (graceful shutdown) and wait for exit. */
  stop(): Promise<void>;
  /** SIGKILL: the instance dies without cleaning up. */
  kill(): Promise<void>;
}

export async function startInstance(name: string, port: number, env: Record<string, string>): Promise<Instance> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const log = createWriteStream(join(ARTIFACTS, `${name}.log`), { flags: 'a' });
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/index.ts'], {
    cwd: process.cwd(),
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe']
  });
  child.stdout!.pipe(log, { end: false });
  child.stderr!.pipe(log, { end: false });
  let exitedFlag = false;
  const exit = new Promise<void>(resolve =>
    child.once('exit', () => {
      exitedFlag = true;
      resolve();
    })
  );
  process.once('exit', () => child.kill('SIGKILL'));

  const directUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exitedFlag) throw new Error(`instance ${name} exited during start-up (see ${join(ARTIFACTS, `${name}.log`)})`);
    try {
      // startServer listens before it attaches its handlers: a request in between is never answered, so bound each probe.
      const res = await fetch(`${directUrl}/health`, { signal: AbortSignal.timeout(1000) });
      await res.body?.cancel();
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`instance ${name} did not answer /health within 30 s`);
    await new Promise(r => setTimeout(r, 100));
  }

  const waitExit = async (signal: NodeJS.Signals) => {
    if (exitedFlag) return;
    child.kill(signal);
    const hard = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exit;
    clearTimeout(hard);
  };
  return {
    name,
    port,
    directUrl,
    env,
    process: child,
    exited: () => exitedFlag,
    stop: () => waitExit('SIGTERM'),
    kill: () => waitExit('SIGKILL')
  };
}

export interface Balancer {
  readonly url: string;
  readonly port: number;
  /** Name of the instance that served each request, in order. */
  readonly served: Array<{ backend: string; method: string; path: string }>;
  close(): Promise<void>;
}

/** Test load balancer on `port` (0: any); `backends` maps a name to a direct URL and may change while running. */
export async function startBalancer(backends: Map<string, string>, port = 0): Promise<Balancer> {
  let turn = 0;
  const served: Balancer['served'] = [];
  const server = http.createServer((req, res) => {
    const names = [...backends.keys()];
    const asked = req.headers[BACKEND_HEADER];
    const name = typeof asked === 'string' ? asked : names[turn++ % names.length]!;
    const target = backends.get(name);
    if (!target) {
      res.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `no backend ${name}` }));
      return;
    }
    served.push({ backend: name, method: req.method ?? 'GET', path: (req.url ?? '/').split('?')[0]! });
    const headers: OutgoingHttpHeaders = { ...req.headers };
    delete headers[BACKEND_HEADER];
    const upstream = http.request(`${target}${req.url}`, { method: req.method, headers }, answer => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      res.flushHeaders();
      answer.pipe(res);
    });
    upstream.on('error', err => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `backend ${name}: ${err.message}` }));
      else res.destroy();
    });
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  });
  await new Promise<void>(resolve => server.listen(port, '127.0.0.1', resolve));
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://localhost:${bound}`,
    port: bound,
    served,
    close: () =>
      new Promise<void>(resolve => {
        server.closeAllConnections();
        server.close(() => resolve());
      })
  };
}

/** `fetch` for the SDK client transport that routes each request to the instance `pick()` names. */
export function routedFetch(pick: () => string): typeof fetch {
  return (input, init) => {
    const headers = new Headers(init?.headers);
    headers.set(BACKEND_HEADER, pick());
    return fetch(input, { ...init, headers });
  };
}

/** Seconds until the current fixed rate-limit window ends. */
export function secondsLeftInWindow(windowSeconds: number, now = Date.now()): number {
  const windowMs = windowSeconds * 1000;
  return (windowMs - (now % windowMs)) / 1000;
}
