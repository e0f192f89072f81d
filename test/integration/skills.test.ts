/**
 * Skills (SEP-2640) through the SDK v2 client's `SkillsClient`, with a token
 * from the real OAuth flow, in each way a client reaches the server: the
 * catalog is declared, listed page by page, each skill fetched with
 * `skills/get`, every file read and verified (size, digest, frontmatter),
 * folders read with `resources/directory/read`, and the manifests appear in
 * `resources/list`. The expected entries come from the files under skills/.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { ProtocolError, type Resource } from '@modelcontextprotocol/client';
import { z } from 'zod';
import { DIRECTORY_MIME_TYPE, SKILLS_EXTENSION_ID, SkillsClient } from '@modelcontextprotocol/client/ext/skills';

import { SKILLS_PAGE_SIZE, SKILLS_PREFIX, SKILLS_ROOT } from '../../src/mcp/extensions/skills/index.js';
import { connect, KIND_LABEL, KINDS, startTestServer, type Connection, type TestServer } from '../helpers/mcp-harness.js';

/** The skill folders on disk, sorted as the catalog sorts its URIs. */
const SKILL_NAMES = readdirSync(SKILLS_ROOT, { withFileTypes: true })
  .filter(d => d.isDirectory())
  .map(d => d.name)
  .sort();
/** Raw pages (SkillsClient.list walks them all; these tests look at one at a time). */
const SkillsPage = z.looseObject({ skills: z.array(z.looseObject({ uri: z.string() })), nextCursor: z.string().optional(), ttlMs: z.number().optional(), cacheScope: z.string().optional() });
const AnyResult = z.looseObject({});
const manifestUri = (name: string) => `skill://${SKILLS_PREFIX}/${name}/SKILL.md`;

let ts: TestServer;
before(async () => {
  ts = await startTestServer({ name: 'skills' });
});
after(async () => {
  await ts?.close();
});

it('the catalog has the three reference skills, more than one page of them', () => {
  assert.deepEqual(SKILL_NAMES, ['client-error-handling', 'mcp-apps-testing', 'oauth-connect']);
  assert.ok(SKILL_NAMES.length > SKILLS_PAGE_SIZE);
});

for (const kind of KINDS) {
  describe(`skills over ${KIND_LABEL[kind]}`, () => {
    let c: Connection;
    let skills: SkillsClient;
    before(async () => {
      c = await connect(ts, kind);
      skills = new SkillsClient(c.client);
    });
    after(async () => {
      await c?.close();
    });

    it('declares the extension with directoryRead', () => {
      assert.deepEqual(c.client.getServerCapabilities()?.extensions?.[SKILLS_EXTENSION_ID], { directoryRead: true });
      assert.equal(skills.supported, true);
      assert.equal(skills.directoryRead, true);
    });

    it(`skills/list pages ${SKILLS_PAGE_SIZE} entries at a time, and the walk returns every skill once`, async () => {
      const first = await skills.list({ cursor: undefined });
      // list() without a cursor walks all pages; ask for the raw first page to see the paging.
      const page1 = await c.client.request({ method: 'skills/list', params: {} } as never, SkillsPage);
      assert.equal(page1.skills.length, SKILLS_PAGE_SIZE);
      assert.equal(typeof page1.nextCursor, 'string');
      const page2 = await c.client.request({ method: 'skills/list', params: { cursor: page1.nextCursor } } as never, SkillsPage);
      assert.equal(page2.nextCursor, undefined);
      assert.deepEqual(
        [...page1.skills, ...page2.skills].map(s => s.uri),
        SKILL_NAMES.map(manifestUri)
      );
      assert.deepEqual(
        first.skills.map(s => s.uri),
        SKILL_NAMES.map(manifestUri)
      );
      assert.deepEqual(first.invalid, []);
      if (kind === '2026') {
        // 2026-07-28: every cacheable result carries ttlMs and cacheScope.
        assert.equal(typeof page1.ttlMs, 'number');
        assert.equal(page1.cacheScope, 'public');
      }
    });

    it('a cursor the server never gave is refused with -32602', async () => {
      await assert.rejects(
        c.client.request({ method: 'skills/list', params: { cursor: 'not-a-cursor' } } as never, SkillsPage),
        (err: unknown) => err instanceof ProtocolError && err.code === -32602
      );
    });

    it('skills/get returns each entry; an unknown URI is -32602', async () => {
      const { skills: listed } = await skills.list();
      for (const entry of listed) {
        const { skill } = await skills.get(entry.uri);
        assert.deepEqual(skill, entry);
      }
      await assert.rejects(skills.get(manifestUri('no-such-skill')), (err: unknown) => err instanceof ProtocolError && err.code === -32602);
    });

    it('every file of every skill reads back verified, byte for byte as on disk', async () => {
      const { skills: listed } = await skills.list();
      for (const entry of listed) {
        const name = entry.frontmatter.name;
        const manifest = await skills.read(entry);
        assert.equal(manifest.verified, true);
        assert.equal(manifest.text, readFileSync(join(SKILLS_ROOT, name, 'SKILL.md'), 'utf8'));
        assert.equal(manifest.frontmatter?.['name'], name);
        assert.match(manifest.body ?? '', /^\s*# /);
        assert.ok(Array.isArray(entry.resources));
        const files = (entry.resources as Array<{ uri: string }>).map(r => r.uri.slice(`skill://${SKILLS_PREFIX}/${name}/`.length));
        assert.ok(files.some(f => f.startsWith('references/')), `${name} has reference files`);
        for (const file of files) {
          const read = await skills.read(entry, file);
          assert.equal(read.verified, true);
          assert.equal(Buffer.from(read.bytes).toString('utf8'), readFileSync(join(SKILLS_ROOT, name, file), 'utf8'));
        }
      }
    });

    it('resources/directory/read lists a skill folder, with references/ as a directory', async () => {
      const root = `skill://${SKILLS_PREFIX}/oauth-connect`;
      const { resources } = await skills.readDirectory(root);
      const byUri = new Map(resources.map(r => [r.uri, r]));
      assert.equal(byUri.get(`${root}/references`)?.mimeType, DIRECTORY_MIME_TYPE);
      assert.ok(byUri.has(`${root}/SKILL.md`));
      const refs = await skills.readDirectory(`${root}/references`);
      assert.deepEqual(refs.resources.map(r => r.uri).sort(), [`${root}/references/CHECKLIST.md`, `${root}/references/ERRORS.md`]);
      // A file is not a directory: -32602.
      await assert.rejects(
        c.client.request({ method: 'resources/directory/read', params: { uri: `${root}/SKILL.md` } } as never, AnyResult),
        (err: unknown) => err instanceof ProtocolError && err.code === -32602
      );
    });

    it('resources/list shows each SKILL.md, named and described from its frontmatter', async () => {
      const all: Resource[] = [];
      let cursor: string | undefined;
      do {
        const page = (await c.client.request({ method: 'resources/list', params: cursor === undefined ? {} : { cursor } })) as { resources: Resource[]; nextCursor?: string };
        all.push(...page.resources);
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      const manifests = all.filter(r => r.uri.startsWith('skill://'));
      assert.deepEqual(
        manifests.map(r => r.uri),
        SKILL_NAMES.map(manifestUri)
      );
      const { skills: listed } = await skills.list();
      for (const m of manifests) {
        const entry = listed.find(s => s.uri === m.uri)!;
        assert.equal(m.name, entry.frontmatter.name);
        assert.equal(m.description, entry.frontmatter.description);
        assert.equal(m.mimeType, 'text/markdown');
      }
    });
  });
}
