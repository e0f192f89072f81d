/** A storage outage is 503 + Retry-After, never a 400/401 that would look like a bad request or credential. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { MemoryStore } from '../../src/store/memory.js';
import { StoreUnavailableError } from '../../src/store/store.js';
import { startAs, type TestAs } from './server.js';

class FlakyStore extends MemoryStore {
  down = false;
  private check() {
    if (this.down) throw new StoreUnavailableError('test outage');
  }
  override async get(key: string) {
    this.check();
    return super.get(key);
  }
  override async set(key: string, value: string, ttlMs: number) {
    this.check();
    return super.set(key, value, ttlMs);
  }
  override async increment(key: string, ttlMs: number) {
    this.check();
    return super.increment(key, ttlMs);
  }
}

const store = new FlakyStore();
let as: TestAs;
before(async () => {
  as = await startAs({}, store);
});
after(() => as.close());

test('every AS endpoint answers a storage outage with 503, Retry-After and a JSON or HTML error', async () => {
  store.down = true;
  try {
    for (const [path, init] of [
      ['/register', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: ['https://a.example/cb'] }) }],
      ['/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=refresh_token&client_id=x&refresh_token=y' }],
      ['/revoke', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'client_id=x&token=y' }]
    ] as const) {
      const res = await fetch(`${as.url}${path}`, init);
      assert.equal(res.status, 503, path);
      assert.ok(res.headers.get('retry-after'), path);
      assert.equal(((await res.json()) as { error: string }).error, 'temporarily_unavailable', path);
    }
    const page = await fetch(`${as.url}/authorize?client_id=x`);
    assert.equal(page.status, 503);
    assert.match(page.headers.get('content-type')!, /text\/html/);
  } finally {
    store.down = false;
  }
});
