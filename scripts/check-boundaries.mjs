#!/usr/bin/env node
// Keeps the architecture visible (DESIGN.md "The one seam"): the authorization
// server (src/auth) and the resource server (src/mcp, src/rs) never import each
// other. Only src/app.ts and src/index.ts (composition) and
// src/validators/in-process.ts may see both sides.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';

const root = resolve('src');
const rules = [
  { from: 'auth', forbidden: ['mcp', 'rs', 'validators'] },
  { from: 'mcp', forbidden: ['auth'] },
  { from: 'rs', forbidden: ['auth'] },
  { from: 'validators', forbidden: ['auth', 'mcp', 'rs'] }
];

function files(dir) {
  return readdirSync(dir).flatMap(n => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

let bad = 0;
for (const file of files(root)) {
  const area = relative(root, file).split('/')[0];
  const rule = rules.find(r => r.from === area);
  if (!rule) continue;
  const src = readFileSync(file, 'utf8');
  for (const m of src.matchAll(/(?:from|import)\s*\(?\s*['"](\.[^'"]+)['"]/g)) {
    const target = relative(root, resolve(dirname(file), m[1])).split('/')[0];
    if (rule.forbidden.includes(target)) {
      console.error(`${relative('.', file)}: imports ${m[1]} (src/${area} must not import src/${target})`);
      bad++;
    }
  }
}
if (bad) process.exit(1);
console.log('architecture boundaries: ok');
