/**
 * The memoised record parse (grants and access tokens, read on every
 * authenticated request): the store stays the source of truth. A record
 * deleted or rewritten through another instance is never answered from the
 * memo, memoised records are frozen, and corrupt text is still reported.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { createRecords, type Records, type TokenRecord } from '../../src/auth/records.js';
import type { Store } from '../../src/store/store.js';
import { forEachStore } from '../store/harnesses.js';

const token = (over: Partial<TokenRecord> = {}): TokenRecord => ({
  grantId: 'g1',
  clientId: 'c1',
  subject: 'alice',
  scopes: ['mcp'],
  resource: 'http://localhost/mcp',
  issuedAt: 1,
  expiresAt: Date.now() + 60_000,
  ...over
});

forEachStore((name, harness) => {
  describe(`memoised records on ${name}`, () => {
    let store: Store;
    let peer: Store;
    let records: Records;
    let other: Records;
    const corrupt: string[] = [];
    before(async () => {
      store = await harness.create();
      peer = await harness.createPeer(store);
      records = createRecords(store, key => corrupt.push(key));
      other = createRecords(peer, () => undefined);
    });
    after(async () => {
      await peer?.close();
      await store?.close();
    });

    it('answers the same record twice, frozen', async () => {
      await other.accessTokens.set('h1', token(), 60_000);
      const a = await records.accessTokens.get('h1');
      const b = await records.accessTokens.get('h1');
      assert.deepEqual(a, token({ expiresAt: a!.expiresAt }));
      assert.deepEqual(b, a);
      assert.ok(Object.isFrozen(a) && Object.isFrozen(a!.scopes));
      assert.throws(() => (a!.scopes as string[]).push('mcp:admin'), TypeError);
    });

    it('never answers a record another instance deleted (revocation)', async () => {
      await other.accessTokens.set('h2', token(), 60_000);
      assert.ok(await records.accessTokens.get('h2'));
      await peer.delete(other.accessTokens.key('h2'));
      assert.equal(await records.accessTokens.get('h2'), undefined);
    });

    it('answers the new record once another instance rewrote it', async () => {
      const grant = { grantId: 'g2', clientId: 'c1', subject: 'alice', scopes: ['mcp'], resource: 'http://localhost/mcp', createdAt: 1, expiresAt: Date.now() + 60_000 };
      await other.grants.set('g2', grant, 60_000);
      assert.deepEqual(await records.grants.get('g2'), grant);
      await other.grants.set('g2', { ...grant, scopes: ['mcp', 'mcp:admin'] }, 60_000);
      assert.deepEqual((await records.grants.get('g2'))!.scopes, ['mcp', 'mcp:admin']);
    });

    it('still reports corrupt text, memo or not', async () => {
      await other.accessTokens.set('h3', token(), 60_000);
      assert.ok(await records.accessTokens.get('h3'));
      await peer.set(other.accessTokens.key('h3'), '{"grantId":1}', 60_000);
      assert.equal(await records.accessTokens.get('h3'), undefined);
      assert.deepEqual(corrupt, [records.accessTokens.key('h3')]);
    });
  });
});
