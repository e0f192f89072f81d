/**
 * Skills (SEP-2640, extension `io.modelcontextprotocol/skills`): the folders
 * under `skills/` at the project root, each a skill (`SKILL.md` with YAML
 * frontmatter, plus `references/`), served through the SDK's `SkillCatalog`:
 *
 * - `skills/list` (paged: `SKILLS_PAGE_SIZE` entries per page, opaque cursor)
 *   and `skills/get` (unknown URI: -32602);
 * - every file as a `skill://reference-server/<skill>/<path>` resource
 *   (`resources/read`, checked against the published digest and size);
 * - `resources/directory/read` for a skill's folders (`inode/directory`
 *   children), declared as `directoryRead: true` in the extension settings;
 * - each `SKILL.md` in this server's paged `resources/list`, named and
 *   described from its frontmatter (the directory is ../../features/resources.ts).
 *
 * The catalog is read from disk once, at start-up (`loadReferenceSkills`);
 * one catalog serves every per-request and per-session server (`attachSkills`).
 * A skill that breaks the SEP's rules stops start-up (`strict`), so a bad
 * edit to `skills/` fails the tests rather than vanishing from the listing.
 */
import { fileURLToPath } from 'node:url';

import type { McpServer, Resource } from '@modelcontextprotocol/server';
import { SkillCatalog } from '@modelcontextprotocol/server/ext/skills';
import { nodeSkillFiles } from '@modelcontextprotocol/server/ext/skills/node';

import type { Logger } from '../../../logger.js';

/** `skill://<SKILLS_PREFIX>/<skill>/…`: the authority names this server. */
export const SKILLS_PREFIX = 'reference-server';
/** Entries per `skills/list` (and directory) page: small, so that pagination is visible with three skills. */
export const SKILLS_PAGE_SIZE = 2;
/** The catalog's folder: `skills/` at the project root (the same path from src/ and dist/). */
export const SKILLS_ROOT = fileURLToPath(new URL('../../../../skills/', import.meta.url));

export interface ReferenceSkills {
  catalog: SkillCatalog;
  /** One `resources/list` entry per `SKILL.md`. */
  manifests: Resource[];
}

export async function loadReferenceSkills(logger: Logger, root: string = SKILLS_ROOT): Promise<ReferenceSkills> {
  const catalog = await SkillCatalog.load(nodeSkillFiles(root), {
    prefix: SKILLS_PREFIX,
    pageSize: SKILLS_PAGE_SIZE,
    strict: true,
    // The files change only with a deployment: shared caching is safe.
    cacheHint: { ttlMs: 300_000, cacheScope: 'public' },
    onWarning: warning => logger.warn({ skillPath: warning.path }, `skills: ${warning.message}`)
  });
  const manifests = catalog.entries.map(skill => ({
    uri: skill.uri,
    name: skill.frontmatter.name,
    description: skill.frontmatter.description,
    mimeType: 'text/markdown'
  }));
  logger.debug({ skills: catalog.entries.length }, 'skills catalog loaded');
  return { catalog, manifests };
}

/** Lists each skill's `SKILL.md` in the (shared) resource directory. */
export function registerSkillManifests(skills: ReferenceSkills, directory: { add(resource: Resource): void }): void {
  for (const manifest of skills.manifests) directory.add(manifest);
}

/**
 * Serves the catalog on one server instance (before it connects): the SDK
 * wires its methods to that instance (its answers depend on the revision the
 * instance negotiated), so this is per instance, not part of the shared catalogue.
 */
export function attachSkills(server: McpServer, skills: ReferenceSkills): void {
  skills.catalog.attach(server);
}
