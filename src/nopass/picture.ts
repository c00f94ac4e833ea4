/**
 * The picture a user matches in the NoPass app. It arrives twice, from two sides: in the reply
 * to RequestAuthorization and in every UpdatePicture callback, and both go through the checks
 * here before the bridge stores it or shows it on a page.
 *
 * The check is structural, not a decode: strict base64, a size cap, the PNG signature, a sane
 * IHDR first chunk, and an intact chain of chunks (lengths and CRCs) that ends with IEND after at
 * least one IDAT. That rejects truncated, padded and non-PNG data without inflating anything, so
 * a hostile picture costs no more than its own bytes.
 */
import { crc32 } from 'node:zlib';
import { z } from 'zod';

/** Largest decoded picture accepted. NoPass pictures are a few kilobytes. */
export const PICTURE_MAX_BYTES = 512 * 1024;

/** Largest width or height accepted: far beyond any picture meant for a phone to match. */
const MAX_DIMENSION = 4096;

/** Longest picture lifetime accepted; a pending login does not live longer than an hour. */
export const NEXT_CHANGE_MAX_MS = 3_600_000;

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Bit depths the PNG specification allows for each colour type. */
const DEPTHS: Record<number, number[]> = {
  0: [1, 2, 4, 8, 16],
  2: [8, 16],
  3: [1, 2, 4, 8],
  4: [8, 16],
  6: [8, 16],
};

/**
 * Milliseconds until the picture changes: a positive whole number. Also accepted as a string of
 * digits, because the vendor's guide lists the field's type as the string "int" and ASP.NET
 * reads numbers from strings by default.
 */
export const nextChangeMs = z
  .union([z.number(), z.string().regex(/^\d{1,10}$/, 'expected a whole number')])
  .transform(Number)
  .pipe(z.number().int().positive().max(NEXT_CHANGE_MAX_MS));

function validHeader(bytes: Buffer, offset: number): boolean {
  const width = bytes.readUInt32BE(offset);
  const height = bytes.readUInt32BE(offset + 4);
  const depth = bytes[offset + 8] ?? 0;
  const colourType = bytes[offset + 9] ?? -1;
  const [compression, filter, interlace] = [
    bytes[offset + 10],
    bytes[offset + 11],
    bytes[offset + 12],
  ];
  return (
    width >= 1 &&
    width <= MAX_DIMENSION &&
    height >= 1 &&
    height <= MAX_DIMENSION &&
    (DEPTHS[colourType]?.includes(depth) ?? false) &&
    compression === 0 &&
    filter === 0 &&
    (interlace === 0 || interlace === 1)
  );
}

/**
 * Whether `bytes` is a complete PNG file: signature, IHDR first, chunks intact, a palette before
 * the data of a palette picture, IEND last.
 */
function isPng(bytes: Buffer): boolean {
  if (bytes.length < SIGNATURE.length || !bytes.subarray(0, 8).equals(SIGNATURE)) return false;

  let offset = SIGNATURE.length;
  let sawData = false;
  let sawPalette = false;
  const indexed = bytes[25] === 3;
  while (offset + 12 <= bytes.length) {
    const length = bytes.readUInt32BE(offset);
    const dataStart = offset + 8;
    const dataEnd = dataStart + length;
    if (dataEnd + 4 > bytes.length) return false;

    const type = bytes.toString('latin1', offset + 4, dataStart);
    if (crc32(bytes.subarray(offset + 4, dataEnd)) !== bytes.readUInt32BE(dataEnd)) return false;

    if (offset === SIGNATURE.length) {
      if (type !== 'IHDR' || length !== 13 || !validHeader(bytes, dataStart)) return false;
    } else if (type === 'IHDR') {
      return false;
    }
    if (type === 'PLTE') sawPalette = true;
    // A palette picture (PNG-8, what NoPass sends) has nothing to show without its palette.
    if (type === 'IDAT' && indexed && !sawPalette) return false;
    if (type === 'IDAT') sawData = true;
    // Nothing may follow IEND: trailing bytes are how data gets smuggled in a picture.
    if (type === 'IEND') return sawData && length === 0 && dataEnd + 4 === bytes.length;

    offset = dataEnd + 4;
  }
  return false;
}

/**
 * Whether `value` is standard base64 (with padding, no whitespace, no `data:` prefix) of a
 * complete PNG file of at most `PICTURE_MAX_BYTES`.
 */
export function isPngBase64(value: string): boolean {
  if (value.length === 0 || value.length % 4 !== 0) return false;
  // Checked before decoding, so an oversize string is refused without allocating its bytes.
  if ((value.length / 4) * 3 > PICTURE_MAX_BYTES + 2) return false;
  if (!BASE64.test(value)) return false;

  const bytes = Buffer.from(value, 'base64');
  // Node's decoder is lenient; only the canonical encoding of the decoded bytes is accepted.
  if (bytes.length > PICTURE_MAX_BYTES || bytes.toString('base64') !== value) return false;
  return isPng(bytes);
}
