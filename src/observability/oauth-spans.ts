/**
 * One INTERNAL span per OAuth step of the authorization server, as the first
 * step of its route: `oauth2.register`, `oauth2.authorize`,
 * `oauth2.consent`, `oauth2.idp`, `oauth2.token`, `oauth2.introspect`,
 * `oauth2.revoke`. OpenTelemetry has no conventions for OAuth; the names and
 * attributes are this project's:
 *
 * - `oauth2.grant_type` (token; only the grant types this AS knows, else `other`),
 * - `oauth2.client_id` (a public identifier, never a secret),
 * - `http.response.status_code`, and on failure `error.type` = the RFC error
 *   code the error handler answered (`invalid_grant` …) and status ERROR.
 *
 * Never a token, code, verifier, secret, state or redirect URI.
 */
import { context, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import type { RequestHandler } from 'express';

const GRANT_TYPES = new Set(['authorization_code', 'refresh_token']);

/** `res.locals` key where the AS's error handler leaves the OAuth error code for the span. */
export const OAUTH_ERROR_LOCAL = 'oauthErrorCode';

export function oauthSpan(tracer: Tracer, step: string): RequestHandler {
  return (req, res, next) => {
    const span = tracer.startSpan(`oauth2.${step}`);
    if (!span.isRecording()) return next();
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      const form = (res.locals.form ?? {}) as Record<string, string>;
      if (step === 'token' && form.grant_type) span.setAttribute('oauth2.grant_type', GRANT_TYPES.has(form.grant_type) ? form.grant_type : 'other');
      const clientId = form.client_id ?? req.query.client_id;
      if (typeof clientId === 'string' && clientId.length <= 200) span.setAttribute('oauth2.client_id', clientId);
      span.setAttribute('http.response.status_code', res.statusCode);
      const error = res.locals[OAUTH_ERROR_LOCAL];
      if (typeof error === 'string') {
        span.setAttribute('error.type', error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: error });
      }
      span.end();
    };
    res.once('finish', end);
    res.once('close', end);
    context.with(trace.setSpan(context.active(), span), next);
  };
}
