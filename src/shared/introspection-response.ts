/**
 * The RFC 7662 §2.2 introspection response: the wire format both sides of the
 * seam speak. The AS produces it (`POST /introspect`, and in-process in
 * internal mode); the validators consume it. It lives here, outside both
 * src/auth and src/validators, so neither has to import the other.
 * `{ active: false }` is the failing default.
 */
export interface IntrospectionResponse {
  active: boolean;
  sub?: string;
  client_id?: string;
  scope?: string;
  aud?: string | string[];
  iss?: string;
  exp?: number;
  iat?: number;
  token_type?: string;
}
