/**
 * The picture check shared by RequestAuthorization and UpdatePicture: a picture reaches the
 * store and a browser only if it is strict base64 of a complete, sane PNG within the size cap.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import { isPngBase64, PICTURE_MAX_BYTES } from '../../src/nopass/picture.ts';
import { noisePng, palettePngBase64, pngBase64 } from './pictures.ts';

const valid = pngBase64();
const validBytes = Buffer.from(valid, 'base64');

/** The PNG with its IHDR width replaced (and the chunk's CRC recomputed, so only size is off). */
function withWidth(width: number): string {
  const bytes = Buffer.from(validBytes);
  bytes.writeUInt32BE(width, 16);
  bytes.writeUInt32BE(crc32(bytes.subarray(12, 29)), 29);
  return bytes.toString('base64');
}

describe('isPngBase64', () => {
  it('works on a sample whose encoding has padding and both + and /', () => {
    assert.ok(valid.endsWith('gg==') && valid.includes('+') && valid.includes('/'));
    assert.deepEqual(Buffer.from(`${valid.slice(0, -3)}h==`, 'base64'), validBytes);
  });

  it('accepts a palette PNG (PNG-8), as NoPass sends', () => {
    assert.equal(isPngBase64(palettePngBase64()), true);
  });

  it('refuses a palette PNG without its palette', () => {
    const bytes = Buffer.from(palettePngBase64(), 'base64');
    const plte = bytes.indexOf('PLTE') - 4;
    const length = bytes.readUInt32BE(plte);
    const withoutPalette = Buffer.concat([
      bytes.subarray(0, plte),
      bytes.subarray(plte + 12 + length),
    ]);
    assert.equal(isPngBase64(withoutPalette.toString('base64')), false);
  });

  it('accepts valid PNGs in RGB, RGBA and grey', () => {
    assert.equal(isPngBase64(valid), true);
    assert.equal(isPngBase64(pngBase64(3, 5, 4)), true);
    assert.equal(isPngBase64(pngBase64(1, 1, 1)), true);
  });

  const notBase64: [string, string][] = [
    ['empty', ''],
    ['punctuation', 'not base64!'],
    ['a line break inside', `${valid.slice(0, 40)}\n${valid.slice(40)}`],
    ['a data: URL', `data:image/png;base64,${valid}`],
    ['missing padding', valid.slice(0, -2)],
    ['URL-safe alphabet', valid.replaceAll('+', '-').replaceAll('/', '_')],
    ['padding in the middle', `iVBO=${valid.slice(5)}`],
    // Decodes to the very same bytes in a lenient decoder; only the canonical form is accepted.
    ['non-zero bits under the padding', `${valid.slice(0, -3)}h==`],
  ];
  for (const [name, value] of notBase64) {
    it(`refuses text that is not strict base64: ${name}`, () => {
      assert.equal(isPngBase64(value), false);
    });
  }

  it('refuses base64 of something that is not a PNG', () => {
    assert.equal(
      isPngBase64(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>').toString('base64')),
      false,
    );
    assert.equal(
      isPngBase64(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 74, 70]).toString('base64')),
      false,
    );
    // The signature alone is not a picture.
    assert.equal(isPngBase64(validBytes.subarray(0, 8).toString('base64')), false);
  });

  it('refuses a truncated PNG', () => {
    for (const keep of [20, 33, Math.floor(validBytes.length / 2), validBytes.length - 1]) {
      assert.equal(isPngBase64(validBytes.subarray(0, keep).toString('base64')), false, `${keep}`);
    }
  });

  it('refuses a PNG with bytes after its end or a damaged chunk', () => {
    const trailing = Buffer.concat([validBytes, Buffer.from('extra')]);
    assert.equal(isPngBase64(trailing.toString('base64')), false);

    const damaged = Buffer.from(validBytes);
    damaged[45] = (damaged[45] ?? 0) ^ 0xff;
    assert.equal(isPngBase64(damaged.toString('base64')), false);
  });

  it('refuses implausible dimensions', () => {
    assert.equal(isPngBase64(withWidth(8)), true);
    assert.equal(isPngBase64(withWidth(0)), false);
    assert.equal(isPngBase64(withWidth(100_000)), false);
  });

  it('refuses a valid PNG over the size cap', () => {
    const big = noisePng(400, 400);
    assert.ok(big.length > PICTURE_MAX_BYTES, `noise PNG is only ${big.length} bytes`);
    assert.equal(isPngBase64(big.toString('base64')), false);

    const small = noisePng(100, 100);
    assert.ok(small.length < PICTURE_MAX_BYTES);
    assert.equal(isPngBase64(small.toString('base64')), true);
  });
});
