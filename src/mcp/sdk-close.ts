/**
 * A server's close without the stack of an error nobody receives.
 *
 * The SDK's `Protocol._onclose` (under every `Server`) builds
 * `new SdkError(ConnectionClosed)` on every close, to fail the requests
 * still waiting for an answer and abort the handlers still running. A
 * 2026-07-28 request has its own server instance and transport, closed when
 * the response is written, with nothing pending by then: the error reaches
 * no one, but building it captures a stack trace, ~15 µs of a ~400 µs
 * request in a CPU profile (docs/performance.md, "Issue 15"), more than
 * the access-token check.
 *
 * So `Server.prototype._onclose` runs the SDK's own teardown with
 * `Error.stackTraceLimit` at 0 when nothing is pending, and unchanged
 * otherwise: the waiting requests and running handlers then get the error
 * with its stack as before. While it runs the server's `onclose` callbacks
 * run too; an error they built in that window would have no stack (ours
 * build none). The limit is restored before it returns, also when it throws.
 *
 * This reaches the SDK's private fields (SDK 2.4, pinned in
 * package-lock.json), as ./catalogue.ts does; test/mcp/sdk-close.test.ts
 * checks both branches, so an SDK upgrade that renames them fails there.
 */
import { Server } from '@modelcontextprotocol/server';

interface ProtocolInternals {
  _responseHandlers: Map<unknown, unknown>;
  _requestHandlerAbortControllers: Map<unknown, unknown>;
  _onclose(): void;
}

const sdkOnClose = (Server.prototype as unknown as ProtocolInternals)._onclose;
if (typeof sdkOnClose !== 'function') throw new Error('the SDK Server has no _onclose: the SDK changed (src/mcp/sdk-close.ts)');

Object.defineProperty(Server.prototype, '_onclose', {
  value: function onclose(this: ProtocolInternals): void {
    if (this._responseHandlers.size > 0 || this._requestHandlerAbortControllers.size > 0) return sdkOnClose.call(this);
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      sdkOnClose.call(this);
    } finally {
      Error.stackTraceLimit = limit;
    }
  },
  writable: true,
  configurable: true
});
