/**
 * Tiny, valid media files for the content-shape cases, all offline: PNG and
 * the icons are encoded here at load time (zlib + CRC-32 from node:zlib), the
 * WAV and MP3 are silent frames built from their headers, and the JPEG and
 * WebP are 4x4 files encoded once with libjpeg-turbo `cjpeg` and libwebp
 * `cwebp` (lossless) from the same checkerboard and embedded as base64.
 * Every file is small enough to inline in a result.
 */
import { crc32, deflateSync } from 'node:zlib';

import { TINY_PNG_BASE64, TINY_WAV_BASE64 } from '../features/content.js';

export { TINY_PNG_BASE64, TINY_WAV_BASE64 };

type Rgb = readonly [number, number, number];

/** An RGB PNG (colour type 2, 8 bits) of `size`×`size` pixels painted by `paint(x, y)`. */
export function encodePng(size: number, paint: (x: number, y: number) => Rgb): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // truecolour
  const raw = Buffer.alloc(size * (1 + 3 * size));
  for (let y = 0; y < size; y++) {
    const row = y * (1 + 3 * size); // filter byte 0 (none) then RGB triples
    for (let x = 0; x < size; x++) {
      const [r, g, b] = paint(x, y);
      raw[row + 1 + 3 * x] = r;
      raw[row + 2 + 3 * x] = g;
      raw[row + 3 + 3 * x] = b;
    }
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/** 4×4 checkerboard (blue/yellow) as baseline JPEG (cjpeg -quality 90 -baseline -optimize). */
export const TINY_JPEG_BASE64 =
  '/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAMCAgMCAgMDAwMEAwMEBQgFBQQEBQoHBwYIDAoMDAsKCwsNDhIQDQ4RDgsLEBYQERMUFRUVDA8XGBYUGBIUFRT/2wBDAQMEBAUEBQkFBQkUDQsNFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBT/wAARCAAEAAQDASIAAhEBAxEB/8QAFQABAQAAAAAAAAAAAAAAAAAAAAX/xAAiEAABAgYBBQAAAAAAAAAAAAACAwQAAQYREhMhBRQiMjP/xAAVAQEBAAAAAAAAAAAAAAAAAAAEB//EABQRAQAAAAAAAAAAAAAAAAAAAAD/2gAMAwEAAhEDEQA/AKVa1q9oXqYMWIbEj33n3Tlv8nKzcfFuqmPqgM+ZcXxHEBAAQhE7Lf/Z';

/** The same checkerboard as lossless WebP (cwebp -lossless). */
export const TINY_WEBP_BASE64 = 'UklGRigAAABXRUJQVlA4TBwAAAAvA8AAAA9wTebT/A/z/McS1LRtwOIr6Yjof3AO';

/**
 * A 1×1 GIF89a: logical screen 1×1 with a two-entry global colour table
 * (blue, yellow), one image of LZW minimum code size 2 whose single pixel
 * is index 0, and the trailer.
 */
export const TINY_GIF_BASE64 = Buffer.from([
  ...Buffer.from('GIF89a', 'ascii'),
  0x01, 0x00, 0x01, 0x00, // width, height
  0x80, 0x00, 0x00, // global colour table of 2 entries, background 0, aspect 0
  0x33, 0x66, 0xcc, 0xff, 0xcc, 0x00, // the table
  0x2c, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, // image descriptor
  0x02, 0x02, 0x44, 0x01, 0x00, // LZW min code size 2; one sub-block: clear, 0, end
  0x3b // trailer
]).toString('base64');

/** An SVG image (text, not base64, on the wire as image/svg+xml base64 data). */
export const TINY_SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4" viewBox="0 0 4 4"><rect width="4" height="4" fill="#36c"/><rect width="2" height="2" fill="#fc0"/><rect x="2" y="2" width="2" height="2" fill="#fc0"/></svg>';
export const TINY_SVG_BASE64 = Buffer.from(TINY_SVG).toString('base64');

/**
 * Three MPEG-1 Layer III frames of silence (128 kbit/s, 44.1 kHz, mono, no
 * CRC): each 417-byte frame is its 4-byte header followed by zeroed side
 * information and main data, which decodes as silence (about 78 ms).
 */
export const TINY_MP3_BASE64 = (() => {
  const frameBytes = Math.floor((144 * 128_000) / 44_100); // 417, no padding
  const frame = Buffer.alloc(frameBytes);
  frame.set([0xff, 0xfb, 0x90, 0xc0]); // sync, MPEG-1, Layer III, no CRC | 128k, 44.1k | mono
  return Buffer.concat([frame, frame, frame]).toString('base64');
})();

const LIGHT: Rgb = [0x33, 0x33, 0x66]; // dark glyph for light backgrounds
const DARK: Rgb = [0xee, 0xee, 0xff]; // light glyph for dark backgrounds

/** A ring glyph: `fg` on a transparent-looking neutral ground. */
const ring = (size: number, fg: Rgb, bg: Rgb) =>
  encodePng(size, (x, y) => {
    const c = (size - 1) / 2;
    const d = Math.hypot(x - c, y - c) / (size / 2);
    return d > 0.55 && d < 0.9 ? fg : bg;
  });

const dataUrl = (mime: string, base64: string) => `data:${mime};base64,${base64}`;
const svgIcon = (color: string) =>
  dataUrl('image/svg+xml', Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><circle cx="12" cy="12" r="8" fill="none" stroke="${color}" stroke-width="3"/></svg>`).toString('base64'));

export interface Icon {
  src: string;
  mimeType: string;
  sizes: string[];
  theme: 'light' | 'dark';
}

/**
 * The bench's icon set (MCP 2025-11-25 `icons`): for each theme, PNGs at
 * 16, 32 and 64 pixels and a scalable SVG, all as data: URLs.
 */
export const BENCH_ICONS: Icon[] = (['light', 'dark'] as const).flatMap(theme => {
  const fg = theme === 'light' ? LIGHT : DARK;
  const bg: Rgb = theme === 'light' ? [0xff, 0xff, 0xff] : [0x20, 0x20, 0x28];
  return [
    ...[16, 32, 64].map(size => ({ src: dataUrl('image/png', ring(size, fg, bg).toString('base64')), mimeType: 'image/png', sizes: [`${size}x${size}`], theme })),
    { src: svgIcon(theme === 'light' ? '#336' : '#eef'), mimeType: 'image/svg+xml', sizes: ['any'], theme }
  ];
});
