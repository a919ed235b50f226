import { crc32 } from 'node:zlib';
import sharp from 'sharp';

/** Deterministic noise (xorshift), each seed different: small real images for the models' inputs. */
export async function noiseImage(
  seed: number,
  size = 32,
  format: 'png' | 'jpeg' = 'png',
): Promise<Uint8Array> {
  let state = (seed * 2654435761) >>> 0 || 1;
  const pixels = Buffer.alloc(size * size * 3);
  for (let index = 0; index < pixels.length; index++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    pixels[index] = state & 0xff;
  }
  const image = sharp(pixels, { raw: { width: size, height: size, channels: 3 } });
  return new Uint8Array(await (format === 'png' ? image.png() : image.jpeg()).toBuffer());
}

/** A small real PNG (noise, deterministic). */
export const pngImage = (size = 32, seed = 1): Promise<Uint8Array> => noiseImage(seed, size, 'png');

/** The PNG with its header rewritten to declare 60000×60000 pixels (a decompression bomb's shape). */
export function hugeHeader(png: Uint8Array): Uint8Array {
  const bytes = png.slice();
  const view = new DataView(bytes.buffer);
  view.setUint32(16, 60_000);
  view.setUint32(20, 60_000);
  // A valid chunk checksum, so only the declared size is wrong.
  view.setUint32(29, crc32(bytes.subarray(12, 29)));
  return bytes;
}
