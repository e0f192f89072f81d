/**
 * The MCP Apps page as a string: how the ext-apps bundle is inlined, and what
 * the resource declares. Its behaviour in a browser is apps-host.browser.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { APP_HTML, APP_UI_META, inlineAppsBundle } from '../../src/mcp/features/apps.js';

const EXPORTS = 'export{q as App,r as PostMessageTransport,s as applyDocumentTheme,t as applyHostStyleVariables,u as applyHostFonts,v as Other};';

describe('inlineAppsBundle', () => {
  test('turns the trailing export clause into the return value of a function', () => {
    const out = inlineAppsBundle(`var q=1,r=2,s=3,t=4,u=5,v=6;${EXPORTS}\n`);
    assert.match(out, /^const ExtApps = \(\(\) => \{\n/);
    assert.match(out, /return \{ App: q, PostMessageTransport: r, applyDocumentTheme: s, applyHostStyleVariables: t, applyHostFonts: u \};\n\}\)\(\);$/);
    assert.doesNotMatch(out, /export\s*\{/);
    assert.deepEqual(new Function(`${out}; return ExtApps;`)(), { App: 1, PostMessageTransport: 2, applyDocumentTheme: 3, applyHostStyleVariables: 4, applyHostFonts: 5 });
  });

  test('escapes sequences that would end or confuse an inline <script>', () => {
    const out = inlineAppsBundle(`var q="</script><!-- x",r=/<\\/SCRIPT>/,s=3,t=4,u=5,v=6;${EXPORTS}`);
    assert.doesNotMatch(out, /<\/script|<!--/i);
    const got = new Function(`${out}; return ExtApps;`)() as { App: string; PostMessageTransport: RegExp };
    assert.equal(got.App, '</script><!-- x', 'same string value after escaping');
    assert.equal(got.PostMessageTransport.test('</SCRIPT>'), true, 'same regular expression after escaping');
  });

  test('refuses bundles it cannot inline', () => {
    assert.throws(() => inlineAppsBundle('var q=1;'), /no trailing export clause/);
    assert.throws(() => inlineAppsBundle('var q=1;export{q as App};'), /does not export PostMessageTransport/);
    assert.throws(() => inlineAppsBundle(`import x from "y";var q,r,s,t,u,v;${EXPORTS}`), /module imports cannot be inlined/);
  });
});

describe('APP_HTML', () => {
  test('is one self-contained document with the ext-apps App inlined, within the size budget', () => {
    assert.ok(APP_HTML.startsWith('<!doctype html>'));
    assert.equal(APP_HTML.match(/<script\b/gi)?.length, 1, 'one inline script');
    assert.equal(APP_HTML.match(/<\/script/gi)?.length, 1, 'nothing inside the script closes it');
    // (assert.ok rather than assert.match: a failure must not print half a megabyte)
    const markup = APP_HTML.slice(0, APP_HTML.indexOf('<script')) + APP_HTML.slice(APP_HTML.indexOf('</script'));
    assert.ok(!/\ssrc=|<link\b|https?:|@import|url\(/i.test(markup), 'no external scripts, styles, fonts or images');
    assert.ok(APP_HTML.includes('<script type="module">\nconst ExtApps = (() => {'), 'the ext-apps bundle is inlined');
    assert.ok(APP_HTML.includes('ui/initialize'));
    assert.ok(APP_HTML.includes("new App({ name: 'reference-primes-app'"));
    const bytes = Buffer.byteLength(APP_HTML);
    assert.ok(bytes < 700_000, `APP_HTML is ${bytes} bytes; budget 700 KB (the ext-apps bundle is ~540 KB)`);
  });

  test('declares no network origins in _meta.ui.csp', () => {
    assert.deepEqual(APP_UI_META, { csp: { connectDomains: [], resourceDomains: [], frameDomains: [] }, prefersBorder: true });
  });
});
