import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';

import { DiscoveryFailedError, DiscoveryUnavailableError, discoverAuthorizationServer, discoveryUrls } from '../../src/validators/discovery.js';
import { deadOrigin, startTestAs, type TestAs } from './test-as.js';

describe('Authorization server metadata discovery (MCP spec probe order)', () => {
  it('lists the three candidates for an issuer with a path, in the spec order', () => {
    assert.deepEqual(discoveryUrls('https://auth.example.com/tenant1'), [
      'https://auth.example.com/.well-known/oauth-authorization-server/tenant1',
      'https://auth.example.com/.well-known/openid-configuration/tenant1',
      'https://auth.example.com/tenant1/.well-known/openid-configuration'
    ]);
  });

  it('lists the two candidates for an issuer without a path, with or without a trailing slash', () => {
    const expected = ['https://auth.example.com/.well-known/oauth-authorization-server', 'https://auth.example.com/.well-known/openid-configuration'];
    assert.deepEqual(discoveryUrls('https://auth.example.com'), expected);
    assert.deepEqual(discoveryUrls('https://auth.example.com/'), expected);
  });

  describe('over HTTP', () => {
    let as: TestAs;
    let pathAs: TestAs;
    before(async () => {
      as = await startTestAs();
      pathAs = await startTestAs({ issuerPath: '/tenant1' });
    });
    after(async () => {
      await as.close();
      await pathAs.close();
    });
    beforeEach(() => {
      for (const s of [as, pathAs]) {
        s.hits.clear();
        s.behaviour.discoveryPaths = undefined;
        s.behaviour.metadata = {};
        s.behaviour.metadataStatus = 200;
      }
    });

    it('uses RFC 8414 metadata first when it is there', async () => {
      const d = await discoverAuthorizationServer(as.issuer);
      assert.equal(d.url, `${as.origin}/.well-known/oauth-authorization-server`);
      assert.equal(d.metadata.issuer, as.issuer);
      assert.equal(d.metadata.jwks_uri, `${as.origin}/jwks`);
    });

    it('falls back through path insertion to OIDC path appending for an issuer with a path', async () => {
      pathAs.behaviour.discoveryPaths = ['/tenant1/.well-known/openid-configuration'];
      const d = await discoverAuthorizationServer(pathAs.issuer);
      assert.equal(d.url, `${pathAs.origin}/tenant1/.well-known/openid-configuration`);
      assert.deepEqual(
        [...pathAs.hits.keys()],
        ['/.well-known/oauth-authorization-server/tenant1', '/.well-known/openid-configuration/tenant1', '/tenant1/.well-known/openid-configuration']
      );
    });

    it('uses OIDC discovery when RFC 8414 metadata is missing', async () => {
      as.behaviour.discoveryPaths = ['/.well-known/openid-configuration'];
      const d = await discoverAuthorizationServer(as.issuer);
      assert.equal(d.url, `${as.origin}/.well-known/openid-configuration`);
    });

    it('refuses metadata whose issuer differs from the configured one, even by a trailing slash', async () => {
      await assert.rejects(discoverAuthorizationServer(`${as.issuer}/`), (err: unknown) => {
        assert.ok(err instanceof DiscoveryFailedError);
        assert.match(err.message, /expected exactly/);
        return true;
      });
      as.behaviour.metadata = { issuer: 'https://honest.example' };
      await assert.rejects(discoverAuthorizationServer(as.issuer), DiscoveryFailedError);
    });

    it('reports an unreachable AS as temporarily unavailable, not as a configuration error', async () => {
      await assert.rejects(discoverAuthorizationServer(await deadOrigin()), DiscoveryUnavailableError);
      as.behaviour.metadataStatus = 503;
      await assert.rejects(discoverAuthorizationServer(as.issuer), DiscoveryUnavailableError);
    });
  });
});
