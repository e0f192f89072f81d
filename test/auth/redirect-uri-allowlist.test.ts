/**
 * The ALLOWED_CLIENT_REDIRECT_URIS matcher (src/auth/redirect-uri-allowlist.ts):
 * examples, and fast-check properties: `*` never crosses a `.` into another
 * domain, never lets the scheme or the path change, and whatever a pattern
 * accepts parses (as a browser would) to the pattern's scheme, domain and path.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import fc from 'fast-check';

import { AllowlistEntryError, compileRedirectUriAllowlist } from '../../src/auth/redirect-uri-allowlist.js';

const allow = (...entries: string[]) => compileRedirectUriAllowlist(entries)!;

/**
 * One DNS label as `*` may match it. Not an `xn--` label: that prefix makes
 * it punycode, which the URL parser decodes, and most such strings are not
 * valid punycode (`xn--a`: the parser, and so the allowlist, refuse the URL).
 */
const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?$/).filter(l => !l.startsWith('xn--'));
const domain = fc.array(label, { minLength: 1, maxLength: 3 }).map(ls => [...ls, 'test'].join('.'));
const pathSegment = fc.stringMatching(/^[A-Za-z0-9._~-]{1,10}$/);
const path = fc.array(pathSegment, { minLength: 1, maxLength: 3 }).map(s => `/${s.join('/')}`);
const port = fc.integer({ min: 1, max: 65535 });

describe('examples', () => {
  test('an empty list restricts nothing', () => {
    assert.equal(compileRedirectUriAllowlist([]), undefined);
  });

  test('an exact entry matches only that string', () => {
    const m = allow('https://app.example.com/callback');
    assert.equal(m('https://app.example.com/callback'), true);
    for (const other of ['https://app.example.com/callback/', 'https://app.example.com/callback?x=1', 'http://app.example.com/callback', 'https://APP.example.com/callback', 'https://app.example.com:443/callback']) {
      assert.equal(m(other), false, other);
    }
  });

  test('http://localhost:* allows any port and path on localhost over http, nothing else', () => {
    const m = allow('http://localhost:*');
    for (const ok of ['http://localhost/callback', 'http://localhost:6274/oauth/callback', 'http://localhost:1/x?y=z']) assert.equal(m(ok), true, ok);
    for (const no of ['https://localhost:6274/cb', 'http://localhost.evil.test:80/cb', 'http://127.0.0.1:6274/cb', 'http://user@localhost:1/cb', 'http://localhost:1/cb#f', 'http://evil.test/?localhost:1']) {
      assert.equal(m(no), false, no);
    }
  });

  test('https://*.example.com/callback allows one label in front, that path only', () => {
    const m = allow('https://*.example.com/callback');
    for (const ok of ['https://a.example.com/callback', 'https://team-1.example.com/callback', 'https://A.EXAMPLE.com/callback']) assert.equal(m(ok), true, ok);
    for (const no of [
      'https://example.com/callback',
      'https://a.b.example.com/callback',
      'https://a.example.com.evil.test/callback',
      'https://aexample.com/callback',
      'https://a.example.com/callback/x',
      'https://a.example.com/callback?x=1',
      'https://a.example.com:8443/callback',
      'http://a.example.com/callback',
      'https://a.example.com\\@evil.test/callback',
      'https://evil.test\\.example.com/callback',
      'https://a.example.com@evil.test/callback'
    ]) {
      assert.equal(m(no), false, no);
    }
  });

  test('an entry that is not a URI, or a * anywhere else, is refused at start-up', () => {
    for (const bad of ['not a uri', 'https://ex*ample.com/cb', 'https://example.com/*', '*://example.com/cb', 'https://*.*.example.com/cb', 'https://*.127.0.0.1/cb', 'https://a.*.example.com/cb', 'ftp://*.example.com/cb']) {
      assert.throws(() => compileRedirectUriAllowlist([bad]), AllowlistEntryError, bad);
    }
  });
});

describe('properties', () => {
  test('* matches exactly one label in front of the domain', () => {
    fc.assert(
      fc.property(label, domain, path, (l, d, p) => {
        assert.equal(allow(`https://*.${d}${p}`)(`https://${l}.${d}${p}`), true);
      })
    );
  });

  test('* never matches across a . boundary: two labels, the bare domain, or the domain inside another one', () => {
    fc.assert(
      fc.property(label, label, domain, domain, path, (l1, l2, d, evil, p) => {
        const m = allow(`https://*.${d}${p}`);
        assert.equal(m(`https://${l1}.${l2}.${d}${p}`), false);
        assert.equal(m(`https://${d}${p}`), false);
        assert.equal(m(`https://${l1}.${d}.${evil}${p}`), false);
        assert.equal(m(`https://${l1}${d}${p}`), false);
      })
    );
  });

  test('* never lets the scheme change', () => {
    fc.assert(
      fc.property(label, domain, path, fc.constantFrom('http', 'ftp', 'javascript', 'data', 'file', 'wss'), (l, d, p, scheme) => {
        assert.equal(allow(`https://*.${d}${p}`)(`${scheme}://${l}.${d}${p}`), false);
        assert.equal(allow('http://localhost:*')(`${scheme === 'http' ? 'https' : scheme}://localhost:8080${p}`), false);
      })
    );
  });

  test('* never lets the path change', () => {
    fc.assert(
      fc.property(label, domain, path, path, port, (l, d, p, q, n) => {
        fc.pre(p !== q);
        assert.equal(allow(`https://*.${d}${p}`)(`https://${l}.${d}${q}`), false);
        assert.equal(allow(`http://localhost:*${p}`)(`http://localhost:${n}${q}`), false);
        assert.equal(allow(`http://localhost:*${p}`)(`http://localhost:${n}${p}`), true);
      })
    );
  });

  test('whatever a wildcard pattern accepts parses to its scheme, one label + its domain, and its path', () => {
    const m = allow('https://*.example.com/callback');
    const candidates = fc.oneof(
      fc.webUrl({ withQueryParameters: true, withFragments: true }),
      fc.tuple(fc.string(), fc.string()).map(([a, b]) => `https://${a}.example.com${b}`),
      fc.tuple(label, fc.string()).map(([a, b]) => `https://${a}${b}.example.com/callback`),
      fc.tuple(fc.string(), label).map(([a, b]) => `https://${b}.example.com/callback${a}`)
    );
    fc.assert(
      fc.property(candidates, uri => {
        if (!m(uri)) return;
        const u = new URL(uri);
        assert.equal(u.protocol, 'https:');
        assert.match(u.hostname, /^[a-z0-9-]+\.example\.com$/);
        assert.equal(u.pathname, '/callback');
        assert.equal(u.search, '');
        assert.equal(u.hash, '');
        assert.equal(u.username + u.password, '');
      }),
      { numRuns: 2000 }
    );
  });

  test('an exact entry accepts its own string and nothing else', () => {
    fc.assert(
      fc.property(fc.webUrl(), fc.webUrl(), (a, b) => {
        fc.pre(!a.includes('*') && !b.includes('*'));
        const m = allow(a);
        assert.equal(m(a), true);
        assert.equal(m(b), a === b);
      })
    );
  });
});
