/**
 * Authorization server metadata (RFC 8414), served at
 * `/.well-known/oauth-authorization-server` and, for clients that try OpenID
 * Connect discovery first, the same document at
 * `/.well-known/openid-configuration` (this AS issues no ID tokens, so the
 * OIDC-only fields are absent). When the issuer has a path, the RFC 8414 §3.1
 * path-suffixed locations are served too.
 *
 * `issuer` is exactly the configured issuer (no trailing slash), the string
 * clients derive from the well-known URL (RFC 8414 §3.3).
 */
import { Router } from 'express';

import { PATHS, SCOPES_SUPPORTED, type AsContext } from './context.js';
import { allowCors } from './http.js';

export function authorizationServerMetadata(ctx: AsContext): Record<string, unknown> {
  const at = (path: string) => `${ctx.issuer}${path}`;
  const secretMethods = ['client_secret_basic', 'client_secret_post'];
  return {
    issuer: ctx.issuer,
    authorization_endpoint: at(PATHS.authorize),
    token_endpoint: at(PATHS.token),
    registration_endpoint: at(PATHS.register),
    introspection_endpoint: at(PATHS.introspect),
    revocation_endpoint: at(PATHS.revoke),
    scopes_supported: [...SCOPES_SUPPORTED],
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_methods_supported: ['none', ...secretMethods],
    introspection_endpoint_auth_methods_supported: secretMethods,
    revocation_endpoint_auth_methods_supported: ['none', ...secretMethods],
    code_challenge_methods_supported: ['S256'],
    client_id_metadata_document_supported: true,
    authorization_response_iss_parameter_supported: true,
    service_documentation: 'https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization'
  };
}

export function metadataRouter(ctx: AsContext): Router {
  const router = Router();
  const document = authorizationServerMetadata(ctx);
  const issuerPath = new URL(ctx.issuer).pathname.replace(/\/$/, '');
  const paths = ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration'];
  if (issuerPath) paths.push(...paths.map(p => `${p}${issuerPath}`), `${issuerPath}/.well-known/openid-configuration`);
  for (const path of paths) {
    router.options(path, allowCors('GET'));
    router.get(path, allowCors('GET'), (_req, res) => {
      res.set('Cache-Control', 'public, max-age=300').json(document);
    });
  }
  return router;
}
