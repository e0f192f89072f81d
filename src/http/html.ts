/**
 * HTML for every page the server renders (the landing page at `/`, and the
 * AS's consent, demo IdP and error pages): one template, one escaping rule,
 * one set of security headers.
 *
 * - `html` is a tagged template that escapes every interpolated value unless
 *   it is already `SafeHtml` (built by `html` itself). Nothing from a request
 *   reaches a page any other way.
 * - Every page gets a strict CSP: no script at all (except a page's own
 *   constant `script`, by nonce: the landing page's copy buttons), styles only by nonce,
 *   `frame-ancestors 'none'` (plus X-Frame-Options DENY for old browsers),
 *   `form-action` limited to this origin and, where a form may end in a
 *   redirect to the client, that redirect URI's origin (browsers apply
 *   form-action to redirects after a submission).
 */
import { randomBytes } from 'node:crypto';

import type { Response } from 'express';

export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`]/g, ch => ESCAPES[ch]!);
}

type Interpolation = SafeHtml | string | number | undefined | null | false | Interpolation[];

function render(value: Interpolation): string {
  if (value === undefined || value === null || value === false) return '';
  if (Array.isArray(value)) return value.map(render).join('');
  if (value instanceof SafeHtml) return value.value;
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: Interpolation[]): SafeHtml {
  let out = strings[0]!;
  values.forEach((v, i) => {
    out += render(v) + strings[i + 1]!;
  });
  return new SafeHtml(out);
}

/** Only plain http(s) origins may join a CSP directive (no spaces, quotes or semicolons can sneak in). */
const ORIGIN = /^https?:\/\/[A-Za-z0-9.-]+(?::\d{1,5})?$|^http:\/\/\[[0-9a-fA-F:]+\](?::\d{1,5})?$/;

export interface PageOptions {
  title: string;
  body: SafeHtml;
  status?: number;
  /** Origins a form on this page may end up at (the client's redirect URI origin). */
  formTargets?: string[];
  /** `card` (default): one narrow card, for forms. `wide`: a reading column, for the landing page. */
  layout?: 'card' | 'wide';
  /** Footer text. Default: the demo authorization server's. */
  footer?: string;
  /** A script run at the end of the page (a constant of this code base, never built from input), allowed by nonce. */
  script?: string;
}

export function sendPage(res: Response, { title, body, status = 200, formTargets = [], layout = 'card', footer = 'MCP Feature Reference Server · demo authorization server', script }: PageOptions): void {
  const nonce = randomBytes(16).toString('base64');
  const formAction = ["'self'", ...formTargets.filter(o => ORIGIN.test(o))].join(' ');
  res
    .status(status)
    .set({
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-store',
      Pragma: 'no-cache',
      'Content-Security-Policy': `default-src 'none'; style-src 'nonce-${nonce}';${script ? ` script-src 'nonce-${nonce}';` : ''} img-src data:; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`,
      'X-Frame-Options': 'DENY',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cross-Origin-Opener-Policy': 'same-origin'
    })
    .send(
      `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<style nonce="${nonce}">${STYLES}</style>
</head>
<body>
<main class="${layout === 'wide' ? 'card wide' : 'card'}">
${body.value}
</main>
<footer>${escapeHtml(footer)}</footer>
${script ? `<script nonce="${nonce}">${script.replace(/<\//g, '<\\/')}</script>` : ''}
</body>
</html>`
    );
}

const STYLES = `
:root{color-scheme:light dark;--bg:#f4f5f7;--card:#fff;--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--accent:#0b5fff;--accent-fg:#fff;--link:#0a4fd6;--warn-bg:#fff8c5;--warn-fg:#4d3800;--danger:#b42318}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--card:#161b22;--fg:#e6edf3;--muted:#9da7b3;--line:#30363d;--accent:#4c8dff;--accent-fg:#0d1117;--link:#79b0ff;--warn-bg:#3b2e00;--warn-fg:#f5d66e;--danger:#ff7b72}}
*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:flex;flex-direction:column;align-items:center;justify-content:center;gap:1rem;padding:1.5rem;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
.card{width:100%;max-width:32rem;background:var(--card);border:1px solid var(--line);border-radius:12px;padding:2rem;box-shadow:0 1px 3px rgba(0,0,0,.08),0 8px 24px rgba(0,0,0,.06)}
h1{font-size:1.35rem;line-height:1.3;margin:0 0 .75rem}
h2{font-size:1rem;margin:1.25rem 0 .5rem}
p{margin:.5rem 0}
.muted{color:var(--muted);font-size:.9rem}
.badge{display:inline-block;font-size:.75rem;font-weight:600;letter-spacing:.02em;text-transform:uppercase;color:var(--muted);border:1px solid var(--line);border-radius:999px;padding:.1rem .6rem;margin-bottom:.75rem}
.client{font-weight:700;word-break:break-word}
.host{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.95em;background:var(--bg);border:1px solid var(--line);border-radius:6px;padding:.05rem .35rem;overflow-wrap:anywhere}
ul.scopes{list-style:none;padding:0;margin:.5rem 0 0;border:1px solid var(--line);border-radius:8px}
ul.scopes li{padding:.6rem .8rem;border-top:1px solid var(--line)}
ul.scopes li:first-child{border-top:0}
ul.scopes code{font-weight:600}
.notice{background:var(--warn-bg);color:var(--warn-fg);border-radius:8px;padding:.6rem .8rem;margin:1rem 0;font-size:.92rem}
.error{color:var(--danger)}
.actions{display:flex;gap:.75rem;margin-top:1.5rem;flex-wrap:wrap}
button{font:inherit;font-weight:600;border-radius:8px;padding:.6rem 1.2rem;cursor:pointer;border:1px solid var(--line);background:var(--card);color:var(--fg);min-height:44px}
button.primary{background:var(--accent);border-color:var(--accent);color:var(--accent-fg)}
button:focus-visible,input:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
fieldset{border:0;padding:0;margin:0}
legend{font-weight:600;margin-bottom:.5rem}
.identity{display:flex;align-items:center;gap:.75rem;padding:.6rem .8rem;border:1px solid var(--line);border-radius:8px;margin:.5rem 0;cursor:pointer}
.identity input{width:1.1rem;height:1.1rem}
label.field{display:block;font-weight:600;margin:.75rem 0 .25rem}
input[type=text]{font:inherit;width:100%;padding:.55rem .7rem;border:1px solid var(--line);border-radius:8px;background:var(--card);color:var(--fg)}
footer{color:var(--muted);font-size:.8rem}
.card.wide{max-width:52rem}
.card.wide h2{font-size:1.1rem;margin:1.75rem 0 .5rem;padding-top:1.25rem;border-top:1px solid var(--line)}
.card.wide h3{font-size:.95rem;margin:1rem 0 .35rem}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em}
pre{background:var(--bg);border:1px solid var(--line);border-radius:8px;padding:.6rem .8rem;overflow-x:auto;margin:.5rem 0}
a{color:var(--link)}
a:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.35rem 1rem;margin:.5rem 0}
dl.facts dt{font-weight:600}
dl.facts dd{margin:0;overflow-wrap:anywhere}
ul.names{display:flex;flex-wrap:wrap;gap:.4rem;list-style:none;padding:0;margin:.35rem 0}
ul.names li code{display:inline-block;background:var(--bg);border:1px solid var(--line);border-radius:6px;padding:.1rem .45rem}
.plain{margin:.35rem 0;padding-left:1.25rem}
.plain li{margin:.2rem 0}
.gallery{list-style:none;padding:0;margin:.35rem 0}
.gallery li{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem;padding:.35rem 0;border-top:1px solid var(--line)}
.gallery li:first-child{border-top:0}
.gallery code{overflow-wrap:anywhere}
button.copy{min-height:32px;padding:.2rem .7rem;font-size:.85rem}
@media (min-width:48rem){.plain.cols{columns:2;column-gap:2rem}.plain.cols li{break-inside:avoid}}
`;

/** The error page shown when the AS must not redirect (unknown client, unproven redirect URI, expired interaction). */
export function errorPage(title: string, message: string): SafeHtml {
  return html`<span class="badge">Authorization error</span>
<h1>${title}</h1>
<p class="error" role="alert">${message}</p>
<p class="muted">You can close this window and start again from the application you were using.</p>`;
}
