/**
 * Every content shape a result can carry (docs/client-testing.md "Content
 * shapes"): Unicode edge cases, each image and audio format, embedded text
 * and blob resources, resource links with size, annotations and icons,
 * `lastModified`, `_meta` on blocks; and structured content as an object,
 * an array and a primitive.
 */
import type { CallToolResult, ContentBlock, McpServer } from '@modelcontextprotocol/server';
import { fromJsonSchema } from '@modelcontextprotocol/server';
import { z } from 'zod';

import type { Era } from '../features/env.js';
import { BENCH_ICONS, TINY_GIF_BASE64, TINY_JPEG_BASE64, TINY_MP3_BASE64, TINY_PNG_BASE64, TINY_SVG_BASE64, TINY_WAV_BASE64, TINY_WEBP_BASE64 } from './media.js';

export const CONTENT_SHAPES = ['unicode-text', 'images', 'audio', 'embedded-resources', 'resource-links', 'block-meta', 'all'] as const;
export type ContentShape = (typeof CONTENT_SHAPES)[number];

/** A fixed timestamp, so results are reproducible. */
export const LAST_MODIFIED = '2026-01-02T03:04:05Z';
/** `_meta` key on content blocks (this project's prefix; `io.modelcontextprotocol/` is reserved). */
export const BLOCK_META_KEY = 'reference-server/block';

/** Text with the Unicode a client must render or pass through untouched. */
export const UNICODE_SAMPLES: ReadonlyArray<{ label: string; text: string }> = [
  { label: 'rtl', text: 'مرحبا بالعالم — שלום עולם' },
  { label: 'bidi-mixed', text: 'Order \u202Eredro\u202C #42: עברית and English' },
  { label: 'emoji', text: '👋🏽 👩‍👩‍👧‍👦 🏳️‍🌈 🇺🇳 1️⃣' },
  { label: 'zero-width', text: 'zero\u200Bwidth\u200Cnon\u200Djoiner\uFEFFbom\u2060joiner' },
  { label: 'combining', text: 'e\u0301 a\u0308 Z\u0335\u0321\u034E\u0317' },
  { label: 'astral', text: '𝕄𝕔𝕡 𝄞 𠜎' },
  { label: 'whitespace', text: 'tab\tnewline\ncarriage\r\nnbsp\u00A0ideographic\u3000end' }
];

export const IMAGE_SAMPLES = [
  { mimeType: 'image/png', data: TINY_PNG_BASE64 },
  { mimeType: 'image/jpeg', data: TINY_JPEG_BASE64 },
  { mimeType: 'image/gif', data: TINY_GIF_BASE64 },
  { mimeType: 'image/webp', data: TINY_WEBP_BASE64 },
  { mimeType: 'image/svg+xml', data: TINY_SVG_BASE64 }
] as const;

export const AUDIO_SAMPLES = [
  { mimeType: 'audio/wav', data: TINY_WAV_BASE64 },
  { mimeType: 'audio/mpeg', data: TINY_MP3_BASE64 }
] as const;

export function contentFor(shape: ContentShape, baseUri: string): ContentBlock[] {
  switch (shape) {
    case 'unicode-text':
      return UNICODE_SAMPLES.map(s => ({ type: 'text', text: s.text, _meta: { [BLOCK_META_KEY]: { sample: s.label } } }));
    case 'images':
      return IMAGE_SAMPLES.map(i => ({ type: 'image', data: i.data, mimeType: i.mimeType }));
    case 'audio':
      return AUDIO_SAMPLES.map(a => ({ type: 'audio', data: a.data, mimeType: a.mimeType }));
    case 'embedded-resources':
      return [
        {
          type: 'resource',
          resource: { uri: 'bench://embedded/text', mimeType: 'text/markdown', text: '# Embedded\n\nAn embedded **text** resource.' },
          annotations: { audience: ['user', 'assistant'], priority: 0.5, lastModified: LAST_MODIFIED }
        },
        {
          type: 'resource',
          resource: { uri: 'bench://embedded/blob', mimeType: 'image/png', blob: TINY_PNG_BASE64 },
          annotations: { audience: ['user'], priority: 0.2, lastModified: LAST_MODIFIED }
        }
      ];
    case 'resource-links':
      return [
        {
          type: 'resource_link',
          uri: 'test://static/resource/1',
          name: 'static-1',
          title: 'Static resource 1',
          description: 'A text resource this server can read',
          mimeType: 'text/plain',
          size: Buffer.byteLength('Resource 1: This is a plaintext resource'),
          annotations: { audience: ['assistant'], priority: 0.9, lastModified: LAST_MODIFIED },
          icons: BENCH_ICONS
        },
        {
          type: 'resource_link',
          uri: `${baseUri}/.well-known/oauth-protected-resource`,
          name: 'protected-resource-metadata',
          description: 'An https/http link the client may fetch itself (not an MCP resource)',
          mimeType: 'application/json',
          annotations: { audience: ['user'], priority: 0.1 }
        }
      ];
    case 'block-meta':
      return [
        { type: 'text', text: 'A text block with _meta.', _meta: { [BLOCK_META_KEY]: { index: 0, note: 'clients must keep or ignore _meta, never fail on it' } } },
        { type: 'image', data: TINY_PNG_BASE64, mimeType: 'image/png', _meta: { [BLOCK_META_KEY]: { index: 1 } } }
      ];
    case 'all':
      return CONTENT_SHAPES.filter(s => s !== 'all').flatMap(s => contentFor(s, baseUri));
  }
}

const contentInput = z.object({ shape: z.enum(CONTENT_SHAPES).default('all').describe('Which shapes to return') });

const ObjectShape = z.object({ name: z.string(), count: z.number().int(), tags: z.array(z.string()), nested: z.object({ ok: z.boolean(), ratio: z.number() }) });
export const STRUCTURED_OBJECT = { name: 'bench', count: 3, tags: ['a', 'b'], nested: { ok: true, ratio: 0.5 } };
export const STRUCTURED_ARRAY = [1, 'two', { three: 3 }, [4], null, true];
export const STRUCTURED_PRIMITIVE = 42;

const arraySchema = { type: 'array', description: 'A heterogeneous JSON array' };
const primitiveSchema = { type: 'number', description: 'A bare number' };
const wrapped = (inner: Record<string, unknown>) => ({ type: 'object', properties: { value: inner }, required: ['value'] });
const arrayModern = fromJsonSchema<unknown[]>(arraySchema);
const arrayLegacy = fromJsonSchema<{ value: unknown[] }>(wrapped(arraySchema));
const primitiveModern = fromJsonSchema<number>(primitiveSchema);
const primitiveLegacy = fromJsonSchema<{ value: number }>(wrapped(primitiveSchema));

export function registerContentShapes(server: McpServer, era: Era, baseUri: string): void {
  server.registerTool(
    'contentShapes',
    {
      title: 'Content shapes',
      description:
        'Returns content blocks of the chosen shape: Unicode edge cases (RTL, emoji, zero-width), images (PNG, JPEG, GIF, WebP, SVG), audio (WAV, MP3), embedded text and blob resources, resource links with size, annotations and icons, _meta on blocks; or all of them.',
      inputSchema: contentInput,
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
      icons: BENCH_ICONS
    },
    async ({ shape }): Promise<CallToolResult> => ({ content: contentFor(shape, baseUri) })
  );

  server.registerTool(
    'structuredObject',
    {
      title: 'Structured content: object',
      description: 'structuredContent as an object, with its outputSchema.',
      outputSchema: ObjectShape,
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
      icons: BENCH_ICONS
    },
    async () => ({ content: [{ type: 'text', text: JSON.stringify(STRUCTURED_OBJECT) }], structuredContent: STRUCTURED_OBJECT })
  );

  // 2026-07-28 allows any JSON value as structuredContent (SEP-2106); 2025
  // revisions require an object, so they get the value wrapped as {value}.
  for (const [name, value, modern, legacy, what] of [
    ['structuredArray', STRUCTURED_ARRAY, arrayModern, arrayLegacy, 'an array'],
    ['structuredPrimitive', STRUCTURED_PRIMITIVE, primitiveModern, primitiveLegacy, 'a primitive (a number)']
  ] as const) {
    server.registerTool(
      name,
      {
        title: `Structured content: ${what}`,
        description: `structuredContent as ${what} on MCP 2026-07-28; wrapped as {"value": …} on 2025 revisions (object-only structured output).`,
        outputSchema: era === 'modern' ? modern : legacy,
        annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
        icons: BENCH_ICONS
      },
      async () => {
        const structured = era === 'modern' ? value : { value };
        return { content: [{ type: 'text', text: JSON.stringify(structured) }], structuredContent: structured as unknown as Record<string, unknown> };
      }
    );
  }
}
