/**
 * The AS's one error handler, attached to every AS route. It turns whatever
 * a step threw into the response `describeError` prescribes: JSON for API
 * endpoints, an HTML page for a person's browser, or a redirect to the
 * client once its redirect URI is proven. The reason goes to the log; the
 * wire gets the generic description.
 */
import type { ErrorRequestHandler } from 'express';

import type { AsContext } from './context.js';
import { describeError, errorRedirectParams, OAuthError, PageError, RedirectToClient, sendJsonError, toOAuthError } from './errors.js';
import { errorPage, sendPage } from '../http/html.js';
import { OAUTH_ERROR_LOCAL } from '../observability/oauth-spans.js';

export function createErrorHandler(ctx: AsContext): ErrorRequestHandler {
  return (thrown, req, res, _next) => {
    const inner = thrown instanceof RedirectToClient || thrown instanceof PageError ? thrown.error : thrown;
    const err = toOAuthError(inner);
    res.locals[OAUTH_ERROR_LOCAL] = err.code;
    const log = req.log ?? ctx.log;
    if (err.code === 'server_error') log.error({ err: inner, path: req.path }, 'unexpected error in the authorization server');
    else log.info({ event: 'oauth_error', code: err.code, status: err.status, reason: err.reason, path: req.path }, 'request refused');
    if (res.headersSent) {
      res.end();
      return;
    }

    if (thrown instanceof RedirectToClient && err.status !== 429 && err.code !== 'server_error') {
      const url = new URL(thrown.redirectUri);
      for (const [k, v] of errorRedirectParams(err, thrown.state, ctx.issuer)) url.searchParams.append(k, v);
      res.set({ 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' }).redirect(303, url.href);
      return;
    }
    if (thrown instanceof PageError || thrown instanceof RedirectToClient || res.locals.page) {
      const { status, headers } = describeError(err, 'page');
      const [title, message] =
        thrown instanceof PageError ? [thrown.title, thrown.pageMessage] : pageTextFor(err);
      res.set(headers);
      sendPage(res, { title, body: errorPage(title, message), status });
      return;
    }
    sendJsonError(res, err);
  };
}

function pageTextFor(err: OAuthError): [string, string] {
  if (err.status === 429) return ['Too many requests', 'Please wait a moment and try again.'];
  if (err.status === 503) return ['Temporarily unavailable', 'The authorization server cannot complete this request right now. Please try again shortly.'];
  if (err.status === 413) return ['Request too large', 'The submitted form is too large.'];
  return ['Something went wrong', 'The authorization server could not complete this request.'];
}
