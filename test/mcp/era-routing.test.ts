/**
 * `/mcp`'s era routing shortcut (src/mcp/http/streamable.ts,
 * `claimsModernEnvelope`): whenever it sends a body straight to the
 * 2026-07-28 handler, the SDK's full classification would not have said
 * legacy either, whatever the headers; checked on generated bodies that mix
 * requests, notifications, responses, `initialize` and envelope claims of
 * every shape. Examples pin what it takes and what it leaves to the full
 * classification.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { classifyInboundRequest, PROTOCOL_VERSION_META_KEY } from '@modelcontextprotocol/server';
import fc from 'fast-check';

import { claimsModernEnvelope } from '../../src/mcp/http/streamable.js';

const KEY = PROTOCOL_VERSION_META_KEY;
const version = fc.constantFrom('2026-07-28', '2025-11-25', '2025-03-26', '2099-01-01', 'nonsense', '');
const anyValue = fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.boolean(), fc.constant([]), fc.dictionary(fc.string(), fc.string()));
const meta = fc.oneof(
  fc.record({ [KEY]: fc.oneof(version, anyValue) }, { requiredKeys: [] }),
  fc.record({
    [KEY]: version,
    'io.modelcontextprotocol/clientInfo': fc.oneof(fc.constant({ name: 'c', version: '1' }), anyValue),
    'io.modelcontextprotocol/clientCapabilities': fc.oneof(fc.constant({}), anyValue)
  }),
  anyValue
);
const params = fc.oneof(fc.record({ name: fc.string(), _meta: meta }, { requiredKeys: [] }), anyValue, fc.constant(undefined));
const message = fc.record(
  {
    jsonrpc: fc.constantFrom('2.0', '1.0'),
    id: fc.oneof(fc.integer(), fc.string(), fc.constant(null)),
    method: fc.oneof(fc.constantFrom('initialize', 'tools/call', 'notifications/initialized', 'server/discover'), fc.string(), fc.integer()),
    params,
    result: fc.oneof(fc.constant({}), anyValue),
    error: fc.oneof(fc.constant({ code: 1, message: 'x' }), anyValue)
  },
  { requiredKeys: [] }
);
const asObject = (v: unknown): Record<string, unknown> => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
/** A message that carries the claim (most of them take the shortcut), with the other keys at random. */
const claiming = fc
  .tuple(message, fc.constantFrom('initialize', 'tools/call', 'notifications/cancelled', 'ping'), meta)
  .map(([m, method, claim]) => ({ ...m, method, params: { ...asObject(m.params), _meta: { [KEY]: '2026-07-28', ...asObject(claim) } } }));
const body = fc.oneof(claiming, message, fc.array(message, { maxLength: 3 }), anyValue);
const optionalHeader = (values: fc.Arbitrary<string>) => fc.option(values, { nil: undefined });

describe('era routing shortcut', () => {
  test('whenever it says modern, the SDK classification is not legacy', () => {
    fc.assert(
      fc.property(body, optionalHeader(version), optionalHeader(fc.constantFrom('tools/call', 'initialize', 'x')), optionalHeader(fc.string()), (b, protocolVersionHeader, mcpMethodHeader, mcpNameHeader) => {
        if (!claimsModernEnvelope(b)) return;
        const kind = classifyInboundRequest({ httpMethod: 'POST', protocolVersionHeader, mcpMethodHeader, mcpNameHeader, body: b }).kind;
        assert.notEqual(kind, 'legacy', JSON.stringify(b));
      }),
      { numRuns: 5000 }
    );
  });

  test('takes a 2026-07-28 request, and leaves initialize, 2025 bodies and responses to the full classification', () => {
    const envelope = { [KEY]: '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 'c', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} };
    assert.equal(claimsModernEnvelope({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: {}, _meta: envelope } }), true);
    // A claim naming an older revision is still a claim: the SDK answers it on the modern side.
    assert.equal(claimsModernEnvelope({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { _meta: { [KEY]: '2025-11-25' } } }), true);
    assert.equal(claimsModernEnvelope({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { _meta: envelope } }), false);
    assert.equal(claimsModernEnvelope({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo' } }), false);
    assert.equal(claimsModernEnvelope({ jsonrpc: '2.0', id: 1, result: {} }), false);
    assert.equal(claimsModernEnvelope([{ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { _meta: envelope } }]), false);
    assert.equal(claimsModernEnvelope(undefined), false);
  });
});
