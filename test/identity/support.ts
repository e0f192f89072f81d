/**
 * Our server (internal mode, port chosen up front so the provider can know
 * our redirect URI) signing people in at the test OpenID provider
 * (panva's oidc-provider in its own process).
 */
import { freePort } from '../helpers/free-port.js';
import { startTestProvider, type TestProvider } from '../helpers/oidc-provider/index.js';
import { startAs, type TestAs } from '../auth/server.js';

export const TOKEN_KEY = Buffer.alloc(32, 42).toString('base64url');

export interface FederatedSetup {
  op: TestProvider;
  as: TestAs;
  close(): Promise<void>;
}

export async function startFederated(env: Record<string, string> = {}): Promise<FederatedSetup> {
  const port = await freePort();
  const op = await startTestProvider({ redirectUris: [`http://localhost:${port}/upstream-idp/callback`] });
  let as: TestAs;
  try {
    as = await startAs({ AUTH_MODE: 'internal', PORT: String(port), UPSTREAM_TOKEN_KEY: TOKEN_KEY, UPSTREAM_TIMEOUT: '3', ...op.env(), ...env });
  } catch (err) {
    await op.stop();
    throw err;
  }
  return {
    op,
    as,
    close: async () => {
      await as.close();
      await op.stop();
    }
  };
}
