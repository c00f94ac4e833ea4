/**
 * The pictures a person compares between the website and the phone. Each one is a 3×3 grid of
 * coloured shapes on pale tiles, drawn from random bytes, so two pictures differ at a glance and
 * a mismatch is obvious. They are real 8-bit palette PNGs (colour type 3), the format NoPass
 * sends, encoded by fast-png.
 */
import { randomBytes } from 'node:crypto';
import { encode } from 'fast-png';

/** Width and height of a picture, in pixels. */
export const PICTURE_SIZE = 120;

const GRID = 3;
const CELL = PICTURE_SIZE / GRID;
/** Bytes of randomness one picture is drawn from: shape, colour and tile for each cell. */
export const SEED_BYTES = GRID * GRID * 3;

const PALETTE: number[][] = [
  [250, 250, 246], // 0 frame
  [55, 55, 60], // 1 grid lines
  // 2..13: shape colours, far enough apart to name them ("the red circle")
  [214, 39, 40],
  [247, 129, 16],
  [236, 196, 18],
  [44, 160, 44],
  [23, 163, 168],
  [31, 88, 214],
  [126, 60, 200],
  [227, 80, 160],
  [133, 84, 42],
  [20, 20, 24],
  [145, 145, 150],
  [150, 206, 40],
  // 14..17: pale tiles behind the shapes
  [255, 247, 214],
  [222, 236, 255],
  [255, 226, 236],
  [226, 246, 226],
];
const SHAPE_COLOURS = 12;
const FIRST_SHAPE_COLOUR = 2;
const TILES = 4;
const FIRST_TILE = 14;

type Shape = (u: number, v: number) => boolean;

// Shapes in a cell's own coordinates, u and v from -1 to 1 across the drawable area.
const SHAPES: Shape[] = [
  (u, v) => u * u + v * v <= 1, // disc
  (u, v) => Math.abs(u) <= 0.8 && Math.abs(v) <= 0.8, // square
  (u, v) => Math.abs(u) + Math.abs(v) <= 1, // diamond
  (u, v) => v >= -0.9 && v <= 0.9 && Math.abs(u) <= (v + 0.9) / 1.8, // triangle
  (u, v) => (Math.abs(u) <= 0.3 && Math.abs(v) <= 1) || (Math.abs(v) <= 0.3 && Math.abs(u) <= 1),
  (u, v) => u * u + v * v <= 1 && u * u + v * v >= 0.3, // ring
];

/** Draws the picture described by `seed` (at least `SEED_BYTES` bytes) as PNG bytes. */
export function renderPicture(seed: Uint8Array): Uint8Array {
  if (seed.length < SEED_BYTES) throw new RangeError(`a picture needs ${SEED_BYTES} seed bytes`);
  const pixels = new Uint8Array(PICTURE_SIZE * PICTURE_SIZE);
  for (let y = 0; y < PICTURE_SIZE; y += 1) {
    for (let x = 0; x < PICTURE_SIZE; x += 1) {
      pixels[y * PICTURE_SIZE + x] = colourAt(seed, x, y);
    }
  }
  return encode({
    width: PICTURE_SIZE,
    height: PICTURE_SIZE,
    data: pixels,
    depth: 8,
    channels: 1,
    palette: PALETTE,
  });
}

function colourAt(seed: Uint8Array, x: number, y: number): number {
  const edge = PICTURE_SIZE - 1;
  const lx = x % CELL;
  const ly = y % CELL;
  if (lx === 0 || ly === 0 || x === edge || y === edge) return 1;
  const cell = Math.floor(y / CELL) * GRID + Math.floor(x / CELL);
  const shapeByte = seed[cell * 3] ?? 0;
  const colourByte = seed[cell * 3 + 1] ?? 0;
  const tileByte = seed[cell * 3 + 2] ?? 0;
  // A 5 px margin keeps neighbouring shapes apart.
  const half = (CELL - 10) / 2;
  const u = (lx - CELL / 2) / half;
  const v = (ly - CELL / 2) / half;
  const shape = SHAPES[shapeByte % SHAPES.length];
  if (shape?.(u, v)) return FIRST_SHAPE_COLOUR + (colourByte % SHAPE_COLOURS);
  return FIRST_TILE + (tileByte % TILES);
}

/**
 * A new random picture as base64, never equal to `previous`, so every rotation visibly
 * changes what the person sees.
 */
export function randomPicture(previous?: string): string {
  for (;;) {
    const image = Buffer.from(renderPicture(randomBytes(SEED_BYTES))).toString('base64');
    if (image !== previous) return image;
  }
}
