/**
 * Small rules shared by every `Store` implementation, so that both agree on
 * what a valid TTL, log id and scan pattern are.
 */

/** Every key that is created carries a positive, finite TTL in ms (store.ts contract). */
export function checkTtl(ttlMs: number): void {
  if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) {
    throw new RangeError(`ttlMs must be a positive integer number of milliseconds, got ${ttlMs}`);
  }
}

const LOG_ID = /^(\d{1,16})-(\d{1,16})$/;

/** Log ids have the Redis stream shape `<ms>-<seq>`; anything else is rejected with a RangeError. */
export function checkLogId(id: string): void {
  const m = LOG_ID.exec(id);
  if (!m || !Number.isSafeInteger(Number(m[1])) || !Number.isSafeInteger(Number(m[2]))) {
    throw new RangeError(`not a log id: ${JSON.stringify(id.slice(0, 40))}`);
  }
}

export function isLogId(id: string): boolean {
  try {
    checkLogId(id);
    return true;
  } catch {
    return false;
  }
}

export function parseLogId(id: string): [number, number] {
  const m = LOG_ID.exec(id);
  if (!m) throw new RangeError(`not a log id: ${JSON.stringify(id.slice(0, 40))}`);
  return [Number(m[1]), Number(m[2])];
}

export function compareLogIds(a: [number, number], b: [number, number]): number {
  return a[0] - b[0] || a[1] - b[1];
}

/**
 * A Redis Cluster hash tag: `{id}`. Cluster hashes only the part of a key
 * between the first `{` and the next `}`, so keys that carry the same tag
 * live in one slot, on one node, and one command or script may touch them
 * together. Single Redis ignores the braces. Used where keys belong together
 * (one MCP session's records and logs); never around a name shared by many
 * keys (that would put them all on one node). docs/storage-schema.md lists
 * every tagged key. `id` must not contain `}`.
 */
export function hashTag(id: string): string {
  if (id.includes('}')) throw new RangeError('a hash tag cannot contain "}"');
  return `{${id}}`;
}

/** `*` matches any run of characters; every other character matches itself. */
export function globToRegExp(pattern: string): RegExp {
  const body = pattern
    .split('*')
    .map(part => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('[\\s\\S]*');
  return new RegExp(`^${body}$`);
}

/** The same glob for Redis `SCAN MATCH`, where `?`, `[`, `]` and `\` are special too. */
export function globToRedisMatch(pattern: string): string {
  return pattern.replace(/[?[\]\\]/g, '\\$&');
}
