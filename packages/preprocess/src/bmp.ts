import { checkDimensions, DEFAULT_MAX_PIXELS, type DecodedImage } from './decoded';
import { InvalidImageError } from './errors';

const BI_RGB = 0;
const BI_BITFIELDS = 3;
const BI_ALPHABITFIELDS = 6;

/**
 * Decodes a Windows BMP (the prebuilt `sharp` has no BMP loader): uncompressed 1/4/8-bit palette,
 * 16/24/32-bit, BI_BITFIELDS masks, bottom-up or top-down rows. Alpha is flattened onto white.
 *
 * @throws InvalidImageError for truncated files, RLE or JPEG/PNG-in-BMP compression, or bad headers.
 * @throws ImageTooLargeError when the declared size exceeds `maxPixels`.
 */
export function decodeBmp(bytes: Uint8Array, maxPixels = DEFAULT_MAX_PIXELS): DecodedImage {
  if (bytes.length < 26)
    throw new InvalidImageError('TRUNCATED', 'The BMP file ends inside its header.');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const pixelOffset = view.getUint32(10, true);
  const headerSize = view.getUint32(14, true);
  if (headerSize < 12 || 14 + headerSize > bytes.length) {
    throw new InvalidImageError('TRUNCATED', 'The BMP file ends inside its header.');
  }
  const core = headerSize === 12;
  const width = core ? view.getUint16(18, true) : view.getInt32(18, true);
  const rawHeight = core ? view.getInt16(22, true) : view.getInt32(22, true);
  const bitsPerPixel = view.getUint16(core ? 24 : 28, true);
  const compression = core ? BI_RGB : view.getUint32(30, true);
  const height = Math.abs(rawHeight);
  const topDown = rawHeight < 0;
  checkDimensions(width, height, maxPixels);
  if (![1, 4, 8, 16, 24, 32].includes(bitsPerPixel)) {
    throw new InvalidImageError(
      'UNSUPPORTED_FORMAT',
      `BMP with ${bitsPerPixel} bits per pixel is not supported.`,
    );
  }
  if (compression !== BI_RGB && compression !== BI_BITFIELDS && compression !== BI_ALPHABITFIELDS) {
    throw new InvalidImageError(
      'UNSUPPORTED_FORMAT',
      `BMP compression ${compression} (RLE or embedded JPEG/PNG) is not supported; convert the image to PNG.`,
    );
  }

  const masks = readMasks(view, headerSize, compression, bitsPerPixel);
  const palette =
    bitsPerPixel <= 8
      ? readPalette(bytes, 14 + headerSize, core ? 3 : 4, view, bitsPerPixel, core)
      : [];
  const rowBytes = Math.ceil((width * bitsPerPixel) / 32) * 4;
  if (pixelOffset + rowBytes * height > bytes.length) {
    throw new InvalidImageError('TRUNCATED', 'The BMP file ends before its last row of pixels.');
  }
  const data = new Uint8Array(width * height * 3);
  for (let row = 0; row < height; row++) {
    const sourceRow = pixelOffset + (topDown ? row : height - 1 - row) * rowBytes;
    for (let column = 0; column < width; column++) {
      const [red, green, blue, alpha] = readPixel(
        bytes,
        view,
        sourceRow,
        column,
        bitsPerPixel,
        palette,
        masks,
      );
      const out = (row * width + column) * 3;
      // Flatten transparency onto white, the same background the other decoders use.
      data[out] = Math.round((red * alpha + 255 * (255 - alpha)) / 255);
      data[out + 1] = Math.round((green * alpha + 255 * (255 - alpha)) / 255);
      data[out + 2] = Math.round((blue * alpha + 255 * (255 - alpha)) / 255);
    }
  }
  return { data, width, height };
}

type Rgba = [number, number, number, number];
interface Masks {
  red: number;
  green: number;
  blue: number;
  alpha: number;
}

function readMasks(
  view: DataView,
  headerSize: number,
  compression: number,
  bitsPerPixel: number,
): Masks | undefined {
  if (bitsPerPixel !== 16 && bitsPerPixel !== 32) return undefined;
  if (compression === BI_RGB) {
    return bitsPerPixel === 16
      ? { red: 0x7c00, green: 0x03e0, blue: 0x001f, alpha: 0 }
      : { red: 0x00ff0000, green: 0x0000ff00, blue: 0x000000ff, alpha: 0 };
  }
  // Masks follow a 40-byte info header, or sit inside V4/V5 headers at the same offsets.
  const base = 14 + 40;
  const alpha =
    compression === BI_ALPHABITFIELDS || headerSize >= 56 ? view.getUint32(base + 12, true) : 0;
  return {
    red: view.getUint32(base, true),
    green: view.getUint32(base + 4, true),
    blue: view.getUint32(base + 8, true),
    alpha,
  };
}

function readPalette(
  bytes: Uint8Array,
  offset: number,
  entrySize: number,
  view: DataView,
  bitsPerPixel: number,
  core: boolean,
): Rgba[] {
  const declared = core ? 0 : view.getUint32(46, true);
  const count = declared > 0 ? declared : 2 ** bitsPerPixel;
  if (offset + count * entrySize > bytes.length)
    throw new InvalidImageError('TRUNCATED', 'The BMP file ends inside its palette.');
  return Array.from({ length: count }, (_, index) => {
    const at = offset + index * entrySize;
    return [bytes[at + 2] as number, bytes[at + 1] as number, bytes[at] as number, 255];
  });
}

function scaleMasked(value: number, mask: number): number {
  if (mask === 0) return 255;
  const shift = 31 - Math.clz32(mask & -mask);
  const bits = 32 - Math.clz32(mask >>> shift);
  const component = (value & mask) >>> shift;
  return Math.round((component * 255) / (2 ** bits - 1));
}

function readPixel(
  bytes: Uint8Array,
  view: DataView,
  rowStart: number,
  column: number,
  bitsPerPixel: number,
  palette: Rgba[],
  masks: Masks | undefined,
): Rgba {
  switch (bitsPerPixel) {
    case 24: {
      const at = rowStart + column * 3;
      return [bytes[at + 2] as number, bytes[at + 1] as number, bytes[at] as number, 255];
    }
    case 32:
    case 16: {
      const value =
        bitsPerPixel === 32
          ? view.getUint32(rowStart + column * 4, true)
          : view.getUint16(rowStart + column * 2, true);
      const m = masks as Masks;
      return [
        scaleMasked(value, m.red),
        scaleMasked(value, m.green),
        scaleMasked(value, m.blue),
        m.alpha ? scaleMasked(value, m.alpha) : 255,
      ];
    }
    default: {
      const bitOffset = column * bitsPerPixel;
      const byte = bytes[rowStart + (bitOffset >> 3)] as number;
      const index = (byte >> (8 - bitsPerPixel - (bitOffset & 7))) & ((1 << bitsPerPixel) - 1);
      const entry = palette[index];
      if (!entry)
        throw new InvalidImageError(
          'CORRUPT',
          `BMP pixel refers to palette entry ${index} of ${palette.length}.`,
        );
      return entry;
    }
  }
}
