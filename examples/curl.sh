#!/usr/bin/env bash
# The raw OAuth 2.1 + MCP flow with curl, step by step, as in the reference
# document (docs: README "OAuth flow", docs/troubleshooting.md):
#
#   discovery -> register (RFC 7591) -> PKCE (openssl) -> authorization URL
#   -> consent + demo IdP -> code -> token (with code_verifier and resource)
#   -> MCP calls (2025-11-25 session, 2026-07-28 stateless) -> refresh
#   (rotation) -> revoke (RFC 7009) -> 401.
#
# Usage (against a running server, internal mode):
#   npm run dev                      # in another terminal
#   bash examples/curl.sh            # or: npm run example:curl
#   SERVER=http://localhost:3232 IDENTITY=bob bash examples/curl.sh
#
# The consent and demo IdP steps are what a person does in a browser. This
# script scripts them with curl and a cookie jar (GET the page, read the
# hidden form fields, POST the form), which only works with this server's
# demo IdP. To do them yourself instead, set MANUAL=1: the script prints the
# authorization URL and asks you to paste the URL your browser was sent to.
#
# Needs: bash, curl, openssl, jq.
set -euo pipefail

SERVER=${SERVER:-http://localhost:3232}
SERVER=${SERVER%/}
IDENTITY=${IDENTITY:-alice}
REDIRECT_URI=${REDIRECT_URI:-http://127.0.0.1:8976/callback} # nothing has to listen: we read the redirect
MANUAL=${MANUAL:-0}

for tool in curl openssl jq; do
  command -v "$tool" >/dev/null || { echo "examples/curl.sh needs $tool" >&2; exit 2; }
done

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
JAR="$WORK/cookies.txt"

step() { printf '\n== %s\n' "$*"; }
fail() { echo "FAILED: $*" >&2; exit 1; }
# base64url without padding (RFC 7636 appendix A)
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
# value of a hidden <input> on an HTML page: hidden_field NAME < page.html
hidden_field() { grep -o "<input type=\"hidden\" name=\"$1\" value=\"[^\"]*\">" | head -n1 | sed 's/.*value="\([^"]*\)".*/\1/'; }
# the Location header of a response saved with curl -D
location() { grep -i '^location:' "$1" | tail -n1 | sed 's/^[Ll]ocation: *//' | tr -d '\r'; }
# JSON-RPC messages of an MCP response (JSON or SSE) -> one JSON per line
rpc_messages() { if grep -q '^data:' "$1"; then sed -n 's/^data: *//p' "$1"; else cat "$1"; fi; }

step "1. Discovery: an MCP request without a token gets 401 and a pointer to the resource metadata"
curl -s -o /dev/null -D "$WORK/h" -X POST "$SERVER/mcp" -H 'content-type: application/json' -H 'accept: application/json, text/event-stream' -d '{}'
grep -i '^www-authenticate:' "$WORK/h" | tr -d '\r'
PRM_URL=$(grep -i '^www-authenticate:' "$WORK/h" | sed 's/.*resource_metadata="\([^"]*\)".*/\1/' | tr -d '\r')
PRM=$(curl -sf "$PRM_URL") || fail "protected resource metadata at $PRM_URL"
RESOURCE=$(jq -r .resource <<<"$PRM")
ISSUER=$(jq -r '.authorization_servers[0]' <<<"$PRM")
echo "resource:             $RESOURCE"
echo "authorization server: $ISSUER"
AS=$(curl -sf "$ISSUER/.well-known/oauth-authorization-server") || fail "authorization server metadata"
AUTHORIZE=$(jq -r .authorization_endpoint <<<"$AS")
TOKEN=$(jq -r .token_endpoint <<<"$AS")
REGISTER=$(jq -r .registration_endpoint <<<"$AS")
REVOKE=$(jq -r .revocation_endpoint <<<"$AS")
echo "endpoints:            $AUTHORIZE $TOKEN $REGISTER $REVOKE"

step "2. Dynamic client registration (RFC 7591): a public client (PKCE, no secret)"
CLIENT=$(curl -sf -X POST "$REGISTER" -H 'content-type: application/json' -d "{
  \"client_name\": \"curl example\",
  \"redirect_uris\": [\"$REDIRECT_URI\"],
  \"grant_types\": [\"authorization_code\", \"refresh_token\"],
  \"response_types\": [\"code\"],
  \"token_endpoint_auth_method\": \"none\"
}") || fail "registration"
CLIENT_ID=$(jq -r .client_id <<<"$CLIENT")
echo "client_id: $CLIENT_ID"

step "3. PKCE: code_verifier and its S256 code_challenge, with openssl"
CODE_VERIFIER=$(openssl rand 32 | b64url)
CODE_CHALLENGE=$(printf %s "$CODE_VERIFIER" | openssl dgst -sha256 -binary | b64url)
STATE=$(openssl rand 16 | b64url)
echo "code_challenge: $CODE_CHALLENGE (method S256)"

step "4. Authorization URL (open it in a browser to sign in)"
enc() { jq -rn --arg v "$1" '$v|@uri'; }
AUTH_URL="$AUTHORIZE?response_type=code&client_id=$(enc "$CLIENT_ID")&redirect_uri=$(enc "$REDIRECT_URI")&code_challenge=$CODE_CHALLENGE&code_challenge_method=S256&scope=$(enc 'mcp offline_access')&state=$STATE&resource=$(enc "$RESOURCE")"
echo "$AUTH_URL"

if [ "$MANUAL" = 1 ]; then
  echo
  echo "Open the URL above, approve, sign in. Your browser then goes to $REDIRECT_URI?code=... (it may show an error page: nothing listens there)."
  read -r -p "Paste that full URL here: " CALLBACK
else
  step "5. Consent and demo IdP, scripted (curl with a cookie jar, as a browser would)"
  curl -s -c "$JAR" -b "$JAR" "$AUTH_URL" -o "$WORK/consent.html"
  grep -q 'name="decision" value="approve"' "$WORK/consent.html" || fail "no consent page: $(head -c 300 "$WORK/consent.html")"
  echo "consent page: $(tr -d '\n' <"$WORK/consent.html" | sed -n 's:.*<h1>\(.*\)</h1>.*:\1:p' | sed 's/<[^>]*>//g'): approving"
  curl -s -c "$JAR" -b "$JAR" -o /dev/null -D "$WORK/h" -X POST "$SERVER/authorize/consent" \
    --data-urlencode "interaction=$(hidden_field interaction <"$WORK/consent.html")" \
    --data-urlencode "csrf_token=$(hidden_field csrf_token <"$WORK/consent.html")" \
    --data-urlencode "decision=approve"
  IDP_URL=$(location "$WORK/h")
  case "$IDP_URL" in http*) ;; *) IDP_URL="$SERVER$IDP_URL" ;; esac
  curl -s -c "$JAR" -b "$JAR" "$IDP_URL" -o "$WORK/idp.html"
  if grep -q "name=\"identity\" value=\"$IDENTITY\"" "$WORK/idp.html"; then CHOICE=(--data-urlencode action=select --data-urlencode "identity=$IDENTITY")
  else CHOICE=(--data-urlencode action=create --data-urlencode "display_name=$IDENTITY"); fi
  curl -s -c "$JAR" -b "$JAR" -o /dev/null -D "$WORK/h" -X POST "$SERVER/mock-upstream-idp/authorize" \
    --data-urlencode "interaction=$(hidden_field interaction <"$WORK/idp.html")" \
    --data-urlencode "csrf_token=$(hidden_field csrf_token <"$WORK/idp.html")" \
    "${CHOICE[@]}"
  CALLBACK=$(location "$WORK/h")
  echo "signed in as $IDENTITY; redirected to ${CALLBACK%%\?*}?code=…&state=…&iss=…"
fi

query_param() { sed -n "s/.*[?&]$1=\([^&]*\).*/\1/p" <<<"$CALLBACK" | head -n1; }
[ -z "$(query_param error)" ] || fail "authorization error: $(query_param error)"
[ "$(query_param state)" = "$STATE" ] || fail "state mismatch"
CODE=$(query_param code)
echo "state matches; iss=$(query_param iss | sed 's/%3A/:/g; s/%2F/\//g')"

step "6. Token request: the code, the code_verifier (PKCE) and the resource (RFC 8707)"
TOKENS=$(curl -s -X POST "$TOKEN" \
  --data-urlencode grant_type=authorization_code \
  --data-urlencode "code=$CODE" \
  --data-urlencode "redirect_uri=$REDIRECT_URI" \
  --data-urlencode "client_id=$CLIENT_ID" \
  --data-urlencode "code_verifier=$CODE_VERIFIER" \
  --data-urlencode "resource=$RESOURCE")
ACCESS_TOKEN=$(jq -r '.access_token // empty' <<<"$TOKENS")
REFRESH_TOKEN=$(jq -r '.refresh_token // empty' <<<"$TOKENS")
[ -n "$ACCESS_TOKEN" ] || fail "token: $TOKENS"
echo "token_type=$(jq -r .token_type <<<"$TOKENS") expires_in=$(jq -r .expires_in <<<"$TOKENS") scope=\"$(jq -r .scope <<<"$TOKENS")\" refresh_token=$([ -n "$REFRESH_TOKEN" ] && echo yes || echo no)"
echo "(troubleshooting: npm run admin -- token show <access token>)"

step "7. MCP with the token, 2025-11-25: initialize (a session), then tools/call echo"
curl -s -D "$WORK/h" -o "$WORK/body" -X POST "$RESOURCE" \
  -H "authorization: Bearer $ACCESS_TOKEN" -H 'content-type: application/json' -H 'accept: application/json, text/event-stream' \
  -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"curl-example","version":"1.0.0"}}}'
SESSION=$(grep -i '^mcp-session-id:' "$WORK/h" | sed 's/^[^:]*: *//' | tr -d '\r')
[ -n "$SESSION" ] || fail "initialize: $(cat "$WORK/body")"
echo "initialize -> $(rpc_messages "$WORK/body" | jq -r '.result | "\(.serverInfo.name) \(.serverInfo.version), protocol \(.protocolVersion)"'), Mcp-Session-Id received"
MCP_2025=(-H "authorization: Bearer $ACCESS_TOKEN" -H 'content-type: application/json' -H 'accept: application/json, text/event-stream' -H "mcp-session-id: $SESSION" -H 'mcp-protocol-version: 2025-11-25')
curl -s -o /dev/null -X POST "$RESOURCE" "${MCP_2025[@]}" -d '{"jsonrpc":"2.0","method":"notifications/initialized"}'
curl -s -o "$WORK/body" -X POST "$RESOURCE" "${MCP_2025[@]}" -d '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hello from curl"}}}'
echo "tools/call echo -> $(rpc_messages "$WORK/body" | jq -r '.result.content[0].text')"

step "8. MCP, 2026-07-28: stateless, no session; the protocol version rides in _meta and headers"
curl -s -o "$WORK/body" -X POST "$RESOURCE" \
  -H "authorization: Bearer $ACCESS_TOKEN" -H 'content-type: application/json' -H 'accept: application/json, text/event-stream' \
  -H 'mcp-protocol-version: 2026-07-28' -H 'mcp-method: tools/call' -H 'mcp-name: add' \
  -d '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"add","arguments":{"a":2,"b":3},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"curl-example","version":"1.0.0"},"io.modelcontextprotocol/clientCapabilities":{}}}}'
echo "tools/call add -> $(rpc_messages "$WORK/body" | jq -r '.result.content[0].text')"

step "9. Refresh: a new access token and a new refresh token (rotation)"
REFRESHED=$(curl -s -X POST "$TOKEN" --data-urlencode grant_type=refresh_token --data-urlencode "refresh_token=$REFRESH_TOKEN" --data-urlencode "client_id=$CLIENT_ID")
NEW_ACCESS=$(jq -r '.access_token // empty' <<<"$REFRESHED")
NEW_REFRESH=$(jq -r '.refresh_token // empty' <<<"$REFRESHED")
[ -n "$NEW_ACCESS" ] && [ -n "$NEW_REFRESH" ] || fail "refresh: $REFRESHED"
[ "$NEW_REFRESH" != "$REFRESH_TOKEN" ] || fail "refresh token was not rotated"
echo "new access token and a rotated refresh token (the old one is now spent)"

step "10. Revoke the refresh token (RFC 7009): it ends the whole grant"
STATUS=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$REVOKE" --data-urlencode "token=$NEW_REFRESH" --data-urlencode token_type_hint=refresh_token --data-urlencode "client_id=$CLIENT_ID")
echo "revoke -> HTTP $STATUS"
[ "$STATUS" = 200 ] || fail "revoke answered $STATUS"
STATUS=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$RESOURCE" "${MCP_2025[@]/$ACCESS_TOKEN/$NEW_ACCESS}" -d '{"jsonrpc":"2.0","id":4,"method":"tools/list"}')
echo "MCP request with the access token of that grant -> HTTP $STATUS"
[ "$STATUS" = 401 ] || fail "expected 401 after revocation, got $STATUS"

printf '\nOK: the whole flow worked (register, authorize with PKCE, token, MCP in both eras, refresh, revoke).\n'
