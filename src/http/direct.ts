/**
 * A direct route: the steps of one hot endpoint run on the Express request
 * and response objects without walking Express's router.
 *
 * Express's router costs ~50 µs per request on this machine's MCP hot path
 * (matching every layer's path, `trimPrefix`, `processParams`, the `next`
 * closures), about as much as the whole bearer check plus the event store;
 * the bare-SDK floor on `node:http` pays none of it (docs/performance.md).
 * Endpoints stay lists of named steps: the same handlers Express mounts,
 * called in order here for the exact path, with Express's request and
 * response helpers (`res.status().json()`, `req.query`, `req.path`, trust
 * proxy) because the objects get the app's prototypes exactly as
 * `app.handle` gives them. Anything else (another path, another method,
 * `/mcp/` with a trailing slash) is not taken here and goes through the app,
 * which mounts the same steps.
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

import type { ErrorRequestHandler, Express, NextFunction, Request, RequestHandler, Response } from 'express';

export interface DirectRoute {
  /** The exact path (a query string is allowed after it). */
  path: string;
  /** Steps by HTTP method, in order; the last one answers. */
  methods: Readonly<Record<string, readonly RequestHandler[]>>;
}

/**
 * Returns a dispatcher that serves `route` directly and answers `false` for
 * any request it does not take (the caller hands those to the app). `before`
 * runs first for every request taken (request id, logging, metrics), `onError`
 * gets errors passed to `next` or thrown (also from async steps), as the app's
 * final error handler would.
 */
export function createDirectRoute(app: Express, route: DirectRoute, before: readonly RequestHandler[], onError: ErrorRequestHandler) {
  const chains = new Map(Object.entries(route.methods).map(([method, steps]) => [method.toUpperCase(), [...before, ...steps]]));
  const withQuery = `${route.path}?`;
  // What Express's router records for a matched route (read by the access metrics: route template).
  const routeInfo = { path: route.path };

  return function dispatch(rawReq: IncomingMessage, rawRes: ServerResponse): boolean {
    const url = rawReq.url ?? '';
    if (url !== route.path && !url.startsWith(withQuery)) return false;
    const chain = chains.get(rawReq.method ?? '');
    if (!chain) return false;

    // What app.handle and the router set up before the first handler.
    const req = rawReq as Request;
    const res = rawRes as Response;
    req.res = res;
    res.req = req;
    // Already so when the server builds its requests with expressNodeClasses(app).
    if (Object.getPrototypeOf(req) !== app.request) Object.setPrototypeOf(req, app.request);
    if (Object.getPrototypeOf(res) !== app.response) Object.setPrototypeOf(res, app.response);
    if (!res.locals) res.locals = Object.create(null) as Response['locals'];
    req.originalUrl ??= url;
    req.baseUrl = '';
    req.params = {};
    (req as { route?: unknown }).route = routeInfo;

    let index = 0;
    const next: NextFunction = (err?: unknown) => {
      if (err !== undefined && err !== null && err !== 'route' && err !== 'router') {
        index = chain.length;
        onError(err, req, res, () => undefined);
        return;
      }
      const step = chain[index++];
      if (!step) {
        // Past the last step (none of ours gets here): what the app's router would answer.
        if (!res.headersSent) res.status(404).end();
        return;
      }
      try {
        const result = step(req, res, next) as unknown;
        if (result && typeof (result as Promise<unknown>).then === 'function') (result as Promise<unknown>).then(undefined, next);
      } catch (thrown) {
        next(thrown ?? new Error('a step threw a nullish value'));
      }
    };
    next();
    return true;
  };
}

/**
 * `IncomingMessage` / `ServerResponse` classes for `http.createServer` whose
 * instances are born with the app's request and response prototypes.
 * Express (`app.handle`) and the direct route otherwise re-prototype both
 * objects on every request; V8 then moves each to a fresh hidden class, which
 * costs the call itself and makes every later property access on them slower
 * (the direct route's dispatch was 2% of the busy time in a profile of the
 * 2025 session path, docs/performance.md). Setting the prototype an object
 * already has is free, so the app's own `setPrototypeOf` becomes a no-op.
 *
 * They are subclasses (`class … extends`), and the app's prototypes become
 * the subclasses' prototypes (`app.request` / `app.response` are replaced by
 * them, with the same `app` property and the same Express prototype behind
 * them). A plain function constructor calling `IncomingMessage.call(this)`
 * gave the same prototypes, but V8 sizes such instances for the function's
 * own (no) properties: the ~40 that Node sets went to a separate property
 * store, copied each time it grew, about 6 KB of allocation per request
 * (`ServerResponse`, `writeHead`, `IncomingMessage` in an allocation profile)
 * that the plain floor's objects do not make. A subclass is laid out like
 * Node's own objects. Call before anything is mounted on the app.
 */
export function expressNodeClasses(app: Express): { IncomingMessage: typeof IncomingMessage; ServerResponse: typeof ServerResponse } {
  class AppRequest extends IncomingMessage {}
  class AppResponse extends ServerResponse {}
  app.request = adoptPrototype(AppRequest.prototype, app.request) as Express['request'];
  app.response = adoptPrototype(AppResponse.prototype, app.response) as Express['response'];
  return { IncomingMessage: AppRequest, ServerResponse: AppResponse as typeof ServerResponse };
}

/** Makes `target` what `appPrototype` is (its own properties, its prototype) and returns it. */
function adoptPrototype(target: object, appPrototype: object): object {
  for (const key of Reflect.ownKeys(appPrototype)) Object.defineProperty(target, key, Object.getOwnPropertyDescriptor(appPrototype, key)!);
  Object.setPrototypeOf(target, Object.getPrototypeOf(appPrototype));
  return target;
}
