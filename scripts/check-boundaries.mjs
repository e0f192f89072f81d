#!/usr/bin/env node
// Keeps the architecture visible (DESIGN.md "The one seam"): the authorization
// server (src/auth) and the resource server (src/mcp, src/rs) never import each
// other. Only src/app.ts and src/index.ts (composition) and
// src/validators/in-process.ts may see both sides.
//
// Inside src/mcp, each protocol extension lives in its own folder under
// src/mcp/extensions/ and reaches nothing of the catalogue or the transports;
// the catalogue (src/mcp/features) does not reach the extensions either.
//
// The MCP Apps gallery (src/gallery) mounts packages that bundle another SDK
// version: it reaches nothing of the MCP server, the AS or the RS, nothing
// but the composition root reaches it, and no file imports an example-app
// package (src/gallery loads them by path from gallery/node_modules).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname, sep } from 'node:path';

const root = resolve('src');
const rules = [
  { from: 'auth', forbidden: ['mcp', 'rs', 'validators'] },
  { from: 'mcp', forbidden: ['auth'] },
  { from: 'rs', forbidden: ['auth'] },
  { from: 'validators', forbidden: ['auth', 'mcp', 'rs'] },
  { from: 'mcp/extensions', forbidden: ['auth', 'rs', 'mcp/features', 'mcp/http'] },
  { from: 'mcp/features', forbidden: ['mcp/extensions'] },
  { from: 'gallery', forbidden: ['auth', 'rs', 'mcp', 'validators', 'store', 'cli', 'ops'] },
  // The wire formats and seams both sides share import neither side.
  { from: 'shared', forbidden: ['auth', 'mcp', 'rs', 'validators'] },
  ...['auth', 'rs', 'mcp', 'validators', 'store', 'cli', 'ops', 'http', 'shared'].map(from => ({ from, forbidden: ['gallery'] })),
  // Tracing is a leaf both sides use: it knows neither of them.
  { from: 'observability', forbidden: ['auth', 'mcp', 'rs', 'validators', 'store'] }
];
/** The ext-apps example servers on npm (gallery/package.json). */
const EXAMPLE_APP_PACKAGE = /^@modelcontextprotocol\/server-/;

/** Does `path` (relative to src, '/'-separated) lie in `area` ('mcp' or 'mcp/extensions')? */
const inArea = (path, area) => path === area || path.startsWith(`${area}/`);

function files(dir) {
  return readdirSync(dir).flatMap(n => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

let bad = 0;
for (const file of files(root)) {
  const path = relative(root, file).split(sep).join('/');
  const applicable = rules.filter(r => inArea(path, r.from));
  const src = readFileSync(file, 'utf8');
  for (const m of src.matchAll(/(?:from|import)\s*\(?\s*['"]([^.'"][^'"]*)['"]/g)) {
    if (EXAMPLE_APP_PACKAGE.test(m[1])) {
      console.error(`${relative('.', file)}: imports ${m[1]} (example-app packages are loaded by src/gallery from gallery/node_modules, never imported)`);
      bad++;
    }
  }
  for (const m of src.matchAll(/(?:from|import)\s*\(?\s*['"](\.[^'"]+)['"]/g)) {
    const target = relative(root, resolve(dirname(file), m[1])).split(sep).join('/');
    for (const rule of applicable) {
      const hit = rule.forbidden.find(area => inArea(target, area));
      if (hit) {
        console.error(`${relative('.', file)}: imports ${m[1]} (src/${rule.from} must not import src/${hit})`);
        bad++;
      }
    }
  }
}
// Inside src/auth: the identity providers (DESIGN.md "second seam") sit side by
// side behind src/auth/identity/provider.ts. The AS's own steps (authorize,
// consent, token, revoke…) never name one; only the registry
// (src/auth/identity/index.ts) builds them. A provider never reaches the
// AS's endpoints either: it finishes through the `SignInCompletion` it is given.
const PROVIDER_FILES = ['auth/identity/mock.ts', 'auth/identity/oidc.ts', 'auth/identity/oidc-presets.ts', 'auth/identity/github.ts'];
const AS_ENDPOINTS = ['auth/authorize.ts', 'auth/token.ts', 'auth/revoke.ts', 'auth/register.ts', 'auth/introspect.ts', 'auth/index.ts'];
for (const file of files(root)) {
  const at = relative(root, file).split(sep).join('/');
  if (!at.startsWith('auth/')) continue;
  const src = readFileSync(file, 'utf8');
  for (const m of src.matchAll(/(?:from|import)\s*\(?\s*['"](\.[^'"]+)['"]/g)) {
    const target = relative(root, resolve(dirname(file), m[1])).split(sep).join('/').replace(/\.js$/, '.ts');
    if (!at.startsWith('auth/identity/') && PROVIDER_FILES.includes(target)) {
      console.error(`${relative('.', file)}: imports ${m[1]} (the AS reaches identity providers only through src/auth/identity/provider.ts and the registry)`);
      bad++;
    }
    if (PROVIDER_FILES.includes(at) && AS_ENDPOINTS.includes(target)) {
      console.error(`${relative('.', file)}: imports ${m[1]} (an identity provider finishes through SignInCompletion, never through the AS's endpoints)`);
      bad++;
    }
  }
}

// Inside src/mcp: the client-author test bench (src/mcp/client-testing) is a
// module behind one seam. The transports (src/mcp/http) know only the
// `HttpFaultHook` interface, never the bench; the bench reaches the
// transports only through that interface (src/mcp/http/fault-hook.ts).
const inner = [
  { from: 'mcp/http', forbidden: ['mcp/client-testing'] },
  { from: 'mcp/client-testing', forbidden: ['mcp/http'], except: ['mcp/http/fault-hook.ts'] }
];
for (const file of files(root)) {
  const at = relative(root, file);
  for (const rule of inner.filter(r => at.startsWith(`${r.from}/`))) {
    const src = readFileSync(file, 'utf8');
    for (const m of src.matchAll(/(?:from|import)\s*\(?\s*['"](\.[^'"]+)['"]/g)) {
      const target = relative(root, resolve(dirname(file), m[1])).replace(/\.js$/, '.ts');
      if (rule.forbidden.some(f => target.startsWith(`${f}/`)) && !(rule.except ?? []).includes(target)) {
        console.error(`${relative('.', file)}: imports ${m[1]} (src/${rule.from} must not import src/${rule.forbidden.join(', src/')})`);
        bad++;
      }
    }
  }
}
if (bad) process.exit(1);
console.log('architecture boundaries: ok');
