/**
 * PNG pictures for the tests, made with fast-png: small valid ones, and a valid one too large
 * for the bridge to accept.
 */
import { randomBytes } from 'node:crypto';
import { encode } from 'fast-png';

/** Base64 of a valid PNG of `width` × `height` RGB pixels in a simple gradient. */
export function pngBase64(width = 8, height = 8, channels = 3): string {
  const data = new Uint8Array(width * height * channels);
  for (let i = 0; i < data.length; i += 1) data[i] = (i * 7) % 256;
  return Buffer.from(encode({ width, height, data, channels, depth: 8 })).toString('base64');
}

/** Base64 of a valid palette PNG (PNG-8), the kind the vendor's guide says NoPass sends. */
export function palettePngBase64(width = 8, height = 8): string {
  const data = new Uint8Array(width * height).map((_, i) => i % 3);
  const palette = [
    [255, 0, 0],
    [0, 255, 0],
    [0, 0, 255],
  ];
  return Buffer.from(encode({ width, height, data, channels: 1, depth: 8, palette })).toString(
    'base64',
  );
}

/** The bytes of a valid PNG of random RGBA noise, which does not compress. */
export function noisePng(width: number, height: number): Buffer {
  const data = new Uint8Array(randomBytes(width * height * 4));
  return Buffer.from(encode({ width, height, data, channels: 4, depth: 8 }));
}
