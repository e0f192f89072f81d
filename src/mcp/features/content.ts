/**
 * Small binary fixtures and shared labels used across the feature catalogue.
 */

/** Number of static test resources (`test://static/resource/1..100`). */
export const STATIC_RESOURCE_COUNT = 100;

/** A 4x4 checkerboard PNG (blue/yellow), generated for this project. */
export const TINY_PNG_BASE64 =
  'iVBORw0KGgoAAAANSUhEUgAAAAQAAAAECAIAAAAmkwkpAAAAGUlEQVR4nGMwTjvz/wwDhGSAs4zTkFjoMgCaghmBSZe/9QAAAABJRU5ErkJggg==';

/** A 10 ms, 8 kHz, 16-bit mono silent WAV, built at load time. */
export const TINY_WAV_BASE64 = (() => {
  const samples = 80;
  const data = Buffer.alloc(samples * 2);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVE', 8);
  header.write('fmt ', 12);
  header.writeUInt32LE(16, 16); // PCM chunk size
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(8000, 24); // sample rate
  header.writeUInt32LE(16000, 28); // byte rate
  header.writeUInt16LE(2, 32); // block align
  header.writeUInt16LE(16, 34); // bits per sample
  header.write('data', 36);
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]).toString('base64');
})();

const svg = (body: string) => `data:image/svg+xml;base64,${Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24">${body}</svg>`).toString('base64')}`;

/** Icons (MCP 2025-11-25 `icons`), inline so they work offline. */
export const ICONS = {
  tool: [{ src: svg('<path d="M3 21l6-6m3-9a6 6 0 108 8l-8-8z" fill="none" stroke="#336" stroke-width="2"/>'), mimeType: 'image/svg+xml', sizes: ['any'] }],
  text: [{ src: svg('<path d="M4 6h16M4 12h16M4 18h10" stroke="#336" stroke-width="2"/>'), mimeType: 'image/svg+xml', sizes: ['any'] }],
  image: [{ src: svg('<rect x="3" y="3" width="18" height="18" rx="2" fill="#fc0"/><circle cx="9" cy="9" r="2" fill="#36c"/>'), mimeType: 'image/svg+xml', sizes: ['any'] }],
  user: [{ src: svg('<circle cx="12" cy="8" r="4" fill="#36c"/><path d="M4 21a8 8 0 0116 0" fill="#36c"/>'), mimeType: 'image/svg+xml', sizes: ['any'] }],
  lock: [{ src: svg('<rect x="5" y="11" width="14" height="10" rx="2" fill="#933"/><path d="M8 11V7a4 4 0 018 0v4" fill="none" stroke="#933" stroke-width="2"/>'), mimeType: 'image/svg+xml', sizes: ['any'] }]
};

/**
 * `_meta` key marking a feature deprecated by the MCP specification (the
 * prefix is this project's own; `io.modelcontextprotocol/` is reserved).
 */
export const DEPRECATED_META_KEY = 'reference-server/deprecated';

/** SEP-2577 (2026-07-28) deprecates Sampling, Roots and Logging; they stay, labelled. */
export function deprecatedMeta(feature: 'sampling' | 'roots' | 'logging'): Record<string, unknown> {
  const replacement = {
    sampling: 'call an LLM provider API directly',
    roots: 'pass directories or files as tool arguments or resource URIs',
    logging: 'log to stderr or OpenTelemetry'
  }[feature];
  return { [DEPRECATED_META_KEY]: { since: '2026-07-28', sep: 'SEP-2577', feature, replacement } };
}

export const DEPRECATION_NOTE = {
  sampling: ' Deprecated since MCP 2026-07-28 (SEP-2577: Sampling); kept for client testing.',
  roots: ' Deprecated since MCP 2026-07-28 (SEP-2577: Roots); kept for client testing.'
};
