/**
 * Starts the test OpenID provider (./process.ts, panva's oidc-provider) as a
 * child process and talks to its control endpoint.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const OP_CLIENT_ID = 'mcp-reference-server';
export const OP_CLIENT_SECRET = 'test-provider-client-secret-0123456789';

export interface TestProviderControl {
  token?: 'ok' | 'fail' | 'reject' | 'slow' | 'tamper' | 'wrong-nonce';
  userinfo?: 'ok' | 'fail' | 'refuse';
  refresh?: 'ok' | 'refuse';
  accessTtl?: number;
  rotateKeys?: boolean;
}

export interface TestProvider {
  issuer: string;
  child: ChildProcess;
  logs: string[];
  control(c: TestProviderControl): Promise<void>;
  stats(): Promise<{ token: number; refresh: number; userinfo: number; authorization: number }>;
  /** Every access, refresh and ID token the provider issued so far. */
  issued(): Promise<string[]>;
  /** Env for our server: UPSTREAM_IDP=oidc against this provider. */
  env(): Record<string, string>;
  stop(): Promise<void>;
}

const PROCESS = fileURLToPath(new URL('./process.ts', import.meta.url));

export async function startTestProvider(opts: { redirectUris: string[]; port?: number }): Promise<TestProvider> {
  const clients = [
    {
      client_id: OP_CLIENT_ID,
      client_secret: OP_CLIENT_SECRET,
      redirect_uris: opts.redirectUris,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic'
    }
  ];
  const child = spawn(process.execPath, ['--import', 'tsx', PROCESS], {
    env: { ...process.env, NODE_ENV: 'test', OP_PORT: String(opts.port ?? 0), OP_CLIENTS: JSON.stringify(clients) },
    stdio: ['ignore', 'pipe', 'pipe']
  });
  const logs: string[] = [];
  const issuer = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`test provider did not start:\n${logs.join('\n')}`)), 30_000);
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', line => {
        logs.push(line);
        try {
          const { issuer } = JSON.parse(line) as { issuer?: string };
          if (issuer) {
            clearTimeout(timer);
            resolve(issuer);
          }
        } catch {
          // not JSON
        }
      });
    }
    child.once('exit', code => {
      clearTimeout(timer);
      reject(new Error(`test provider exited with ${code}:\n${logs.join('\n')}`));
    });
  });
  return {
    issuer,
    child,
    logs,
    async control(c) {
      const res = await fetch(`${issuer}/__control`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(c) });
      if (!res.ok) throw new Error(`control: HTTP ${res.status}`);
    },
    async stats() {
      return (await (await fetch(`${issuer}/__stats`)).json()) as Awaited<ReturnType<TestProvider['stats']>>;
    },
    async issued() {
      return (await (await fetch(`${issuer}/__issued`)).json()) as string[];
    },
    env: () => ({ UPSTREAM_IDP: 'oidc', UPSTREAM_ISSUER: issuer, UPSTREAM_CLIENT_ID: OP_CLIENT_ID, UPSTREAM_CLIENT_SECRET: OP_CLIENT_SECRET, UPSTREAM_SCOPES: 'openid email profile offline_access' }),
    stop: () =>
      new Promise<void>(resolve => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      })
  };
}
