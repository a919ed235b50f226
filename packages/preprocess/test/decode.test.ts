import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { sharedData } from '../../../tooling/test-data';
import {
  decodeBmp,
  decodeImage,
  ImgclsError,
  type InvalidImageReason,
  sniffFormat,
} from '../src/node';
import { buildBmp } from './bmp-fixtures';

const red = { r: 255, g: 0, b: 0 };

async function solid(
  format: 'jpeg' | 'png' | 'webp' | 'gif' | 'tiff',
  width = 6,
  height = 4,
): Promise<Uint8Array> {
  const image = sharp({ create: { width, height, channels: 3, background: red } });
  return new Uint8Array(
    await image.toFormat(format, format === 'jpeg' ? { quality: 100 } : {}).toBuffer(),
  );
}

describe('decodeImage (Node)', () => {
  for (const format of ['jpeg', 'png', 'webp', 'gif', 'tiff'] as const) {
    it(`decodes ${format.toUpperCase()} to RGB`, async () => {
      const bytes = await solid(format);
      expect(sniffFormat(bytes)).toBe(format);
      const image = await decodeImage(bytes);
      expect([image.width, image.height, image.data.length]).toEqual([6, 4, 6 * 4 * 3]);
      expect(
        Math.abs((image.data[0] as number) - 255) +
          (image.data[1] as number) +
          (image.data[2] as number),
      ).toBeLessThan(12);
    });
  }

  it('applies the EXIF orientation', async () => {
    // A 6x2 image with orientation 6 (rotate 90° clockwise) must come out 2x6.
    const bytes = await sharp({ create: { width: 6, height: 2, channels: 3, background: red } })
      .withMetadata({ orientation: 6 })
      .jpeg()
      .toBuffer();
    const image = await decodeImage(bytes);
    expect([image.width, image.height]).toEqual([2, 6]);
  });

  it('flattens transparency onto white and turns grayscale into RGB', async () => {
    const transparent = await sharp({
      create: { width: 2, height: 2, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } },
    })
      .png()
      .toBuffer();
    expect(Array.from((await decodeImage(transparent)).data.slice(0, 3))).toEqual([255, 255, 255]);
    const gray = await sharp(Buffer.from([10, 200, 90, 40]), {
      raw: { width: 2, height: 2, channels: 1 },
    })
      .png()
      .toBuffer();
    const image = await decodeImage(gray);
    expect(Array.from(image.data.slice(0, 6))).toEqual([10, 10, 10, 200, 200, 200]);
  });

  it('reads files by path', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'imgcls-decode-'));
    const path = join(folder, 'red.png');
    writeFileSync(path, await solid('png'));
    expect((await decodeImage(path)).width).toBe(6);
  });
});

describe('decodeBmp', () => {
  const pixels = [
    [255, 0, 0],
    [0, 255, 0],
    [0, 0, 255],
    [10, 20, 30],
    [40, 50, 60],
    [70, 80, 90],
  ];
  const flat = pixels.flat();

  it('reads 24-bit bottom-up and top-down rows with padding', () => {
    for (const topDown of [false, true]) {
      const image = decodeBmp(buildBmp({ width: 3, height: 2, bitsPerPixel: 24, pixels, topDown }));
      expect(Array.from(image.data)).toEqual(flat);
    }
  });

  it('reads 32-bit and 32-bit BI_BITFIELDS with alpha flattened on white', () => {
    expect(
      Array.from(decodeBmp(buildBmp({ width: 3, height: 2, bitsPerPixel: 32, pixels })).data),
    ).toEqual(flat);
    const withAlpha = pixels.map(([r, g, b], i) => [r, g, b, i === 0 ? 0 : 255] as number[]);
    const image = decodeBmp(
      buildBmp({
        width: 3,
        height: 2,
        bitsPerPixel: 32,
        pixels: withAlpha,
        bitfields: [0xff0000, 0xff00, 0xff, 0xff000000],
      }),
    );
    expect(Array.from(image.data)).toEqual([255, 255, 255, ...flat.slice(3)]);
  });

  it('reads 8-bit and 1-bit palettes', () => {
    const palette = [
      [0, 0, 0],
      [255, 128, 0],
    ];
    for (const bitsPerPixel of [8, 1] as const) {
      const image = decodeBmp(
        buildBmp({
          width: 3,
          height: 2,
          bitsPerPixel,
          palette,
          pixels: [[1], [0], [1], [0], [0], [1]],
        }),
      );
      expect(Array.from(image.data)).toEqual([
        255, 128, 0, 0, 0, 0, 255, 128, 0, 0, 0, 0, 0, 0, 0, 255, 128, 0,
      ]);
    }
  });
});

const realPhotos = sharedData('photos');
describe.skipIf(!realPhotos)('the real BMP photos', () => {
  it('decodes grace_hopper.bmp, cat.bmp and bird.bmp with plausible content', async () => {
    for (const name of ['grace_hopper.bmp', 'cat.bmp', 'bird.bmp']) {
      const image = await decodeImage(join(realPhotos as string, name));
      expect(image.width * image.height * 3).toBe(image.data.length);
      expect(image.width).toBeGreaterThan(100);
      const mean = image.data.reduce((sum, value) => sum + value, 0) / image.data.length;
      expect(mean).toBeGreaterThan(20);
      expect(mean).toBeLessThan(235);
    }
  });
});

/** CRC-32 (IEEE) as PNG chunks use it. */
function crc32(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

describe('bad inputs get typed errors', () => {
  let png: Uint8Array;
  let jpeg: Uint8Array;
  beforeAll(async () => {
    png = await solid('png', 64, 64);
    jpeg = new Uint8Array(
      await sharp({ create: { width: 64, height: 64, channels: 3, background: red } })
        .jpeg()
        .toBuffer(),
    );
  });

  const hugeBmp = () => {
    const bytes = buildBmp({ width: 1, height: 1, bitsPerPixel: 24, pixels: [[0, 0, 0]] });
    new DataView(bytes.buffer).setInt32(18, 100_000, true);
    new DataView(bytes.buffer).setInt32(22, 100_000, true);
    return bytes;
  };
  const hugePngHeader = () => {
    const bytes = png.slice();
    const view = new DataView(bytes.buffer);
    // IHDR width and height (big-endian) at offsets 16 and 20, then a valid CRC over type + data.
    view.setUint32(16, 60_000);
    view.setUint32(20, 60_000);
    view.setUint32(29, crc32(bytes.subarray(12, 29)));
    return bytes;
  };
  const text = (value: string) => new TextEncoder().encode(value);

  const corpus: Array<[string, () => Uint8Array | string, InvalidImageReason | 'IMAGE_TOO_LARGE']> =
    [
      ['empty buffer', () => new Uint8Array(0), 'EMPTY'],
      ['plain text', () => text('hello, I am not an image'), 'NOT_AN_IMAGE'],
      ['HTML page', () => text('<!doctype html><html><body>404</body></html>'), 'NOT_AN_IMAGE'],
      ['JSON', () => text('{"image": false}'), 'NOT_AN_IMAGE'],
      [
        'random bytes',
        () => Uint8Array.from({ length: 512 }, (_, i) => (i * 7919 + 13) % 251),
        'NOT_AN_IMAGE',
      ],
      ['PDF header', () => text('%PDF-1.7\n%\u00e2\u00e3\u00cf\u00d3'), 'NOT_AN_IMAGE'],
      ['ZIP archive', () => Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0]), 'NOT_AN_IMAGE'],
      ['JPEG magic only', () => Uint8Array.from([0xff, 0xd8, 0xff]), 'TRUNCATED'],
      ['PNG signature only', () => png.slice(0, 8), 'TRUNCATED'],
      ['PNG cut in half', () => png.slice(0, Math.floor(png.length / 2)), 'TRUNCATED'],
      ['JPEG cut in half', () => jpeg.slice(0, Math.floor(jpeg.length / 2)), 'TRUNCATED'],
      [
        'PNG with garbage between header and end',
        () =>
          Uint8Array.from([...png.slice(0, 33), ...new Uint8Array(64).fill(7), ...png.slice(-12)]),
        'CORRUPT',
      ],
      ['GIF header only', () => text('GIF89a'), 'TRUNCATED'],
      ['WebP header only', () => text('RIFF\u0000\u0000\u0000\u0000WEBPVP8 '), 'CORRUPT'],
      ['BMP header only', () => text('BM'), 'TRUNCATED'],
      [
        'BMP without pixel rows',
        () =>
          buildBmp({
            width: 4,
            height: 4,
            bitsPerPixel: 24,
            pixels: Array(16).fill([0, 0, 0]),
          }).slice(0, 60),
        'TRUNCATED',
      ],
      [
        'BMP with RLE compression',
        () =>
          buildBmp({
            width: 1,
            height: 1,
            bitsPerPixel: 8,
            pixels: [[0]],
            palette: [[0, 0, 0]],
            compression: 1,
          }),
        'UNSUPPORTED_FORMAT',
      ],
      [
        'BMP of zero width',
        () => {
          const b = buildBmp({ width: 1, height: 1, bitsPerPixel: 24, pixels: [[0, 0, 0]] });
          new DataView(b.buffer).setInt32(18, 0, true);
          return b;
        },
        'CORRUPT',
      ],
      ['BMP declaring 10 gigapixels', hugeBmp, 'IMAGE_TOO_LARGE'],
      ['PNG header declaring 3.6 gigapixels', hugePngHeader, 'IMAGE_TOO_LARGE'],
      ['path that does not exist', () => '/nonexistent/imgcls/photo.jpg', 'NOT_FOUND'],
      ['directory path', () => tmpdir(), 'NOT_AN_IMAGE'],
    ];

  it(`has at least 20 bad inputs (${corpus.length})`, () => {
    expect(corpus.length).toBeGreaterThanOrEqual(20);
  });

  for (const [name, make, expected] of corpus) {
    it(`rejects ${name} with ${expected}`, async () => {
      const error = await decodeImage(make()).then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      expect(ImgclsError.isInstance(error), `${name}: ${String(error)}`).toBe(true);
      const typed = error as ImgclsError & { reason?: string };
      if (expected === 'IMAGE_TOO_LARGE') expect(typed.code).toBe('IMAGE_TOO_LARGE');
      else {
        expect(typed.code).toBe('INVALID_IMAGE');
        expect(typed.reason).toBe(expected);
      }
      expect(typed.message.length).toBeGreaterThan(10);
    });
  }
});
