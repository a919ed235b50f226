import { readFile } from 'node:fs/promises';
import type Sharp from 'sharp';
import { decodeBmp } from './bmp';
import {
  checkDimensions,
  DEFAULT_MAX_PIXELS,
  type DecodedImage,
  type DecodeOptions,
  sniffFormat,
} from './decoded';
import { ImgclsError, InvalidImageError } from './errors';

/** What Node can decode: a file path, or the file's bytes. */
export type NodeImageSource = string | Uint8Array | ArrayBuffer;

/**
 * Decodes an image file or its bytes to 8-bit RGB with `sharp` (JPEG, PNG, WebP, GIF — first frame —,
 * TIFF, AVIF) or the built-in BMP decoder: EXIF orientation applied, transparency flattened onto white,
 * grayscale and CMYK converted to RGB.
 *
 * @throws InvalidImageError (`reason` says why: EMPTY, TRUNCATED, NOT_AN_IMAGE, UNSUPPORTED_FORMAT,
 *   NOT_FOUND, CORRUPT) and ImageTooLargeError; never a raw sharp or file-system error.
 */
export async function decodeImage(
  source: NodeImageSource,
  options: DecodeOptions = {},
): Promise<DecodedImage> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const bytes = typeof source === 'string' ? await readImageFile(source) : toBytes(source);
  if (bytes.length === 0) throw new InvalidImageError('EMPTY', 'The image is empty (0 bytes).');
  const format = sniffFormat(bytes);
  if (!format) {
    throw new InvalidImageError(
      'NOT_AN_IMAGE',
      'The data is not an image: expected JPEG, PNG, WebP, GIF, BMP, TIFF or AVIF.',
    );
  }
  if (format === 'bmp') return decodeBmp(bytes, maxPixels);
  const sharp = await loadSharp();
  try {
    // Header only: sharp's own pixel limit is lifted here so that our check, with its clear error, decides.
    const metadata = await sharp(bytes, { limitInputPixels: false }).metadata();
    checkDimensions(metadata.width ?? 0, metadata.height ?? 0, maxPixels);
    const { data, info } = await sharp(bytes, { limitInputPixels: maxPixels, failOn: 'truncated' })
      .rotate()
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) {
      throw new InvalidImageError(
        'UNSUPPORTED_FORMAT',
        `Decoding gave ${info.channels} channels instead of RGB.`,
      );
    }
    return {
      data: new Uint8Array(data.buffer, data.byteOffset, data.length),
      width: info.width,
      height: info.height,
    };
  } catch (error) {
    if (ImgclsError.isInstance(error)) throw error;
    const message = error instanceof Error ? error.message : String(error);
    const truncated =
      /premature end|truncat|unexpected end|end of (file|stream)|not enough data/i.test(message) ||
      missesTrailer(format, bytes);
    throw new InvalidImageError(
      truncated ? 'TRUNCATED' : 'CORRUPT',
      truncated
        ? `The ${format.toUpperCase()} file is truncated.`
        : `The ${format.toUpperCase()} file is corrupt: ${message}`,
      { cause: error },
    );
  }
}

let sharpModule: Promise<typeof Sharp> | undefined;

/**
 * `sharp`, loaded on the first decode rather than at import: packages that import this entry only for its
 * presets, tensors or errors (the model store, a server's error handling) must not load a native image
 * decoder they never use.
 */
function loadSharp(): Promise<typeof Sharp> {
  sharpModule ??= import('sharp').then((module) => module.default);
  return sharpModule;
}

async function readImageFile(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new InvalidImageError('NOT_FOUND', `No file at ${path}.`, { cause: error });
    if (code === 'EISDIR')
      throw new InvalidImageError('NOT_AN_IMAGE', `${path} is a directory, not an image file.`, {
        cause: error,
      });
    throw new InvalidImageError('NOT_FOUND', `Cannot read ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** True when a PNG lacks its closing IEND chunk or a JPEG its end-of-image marker: the tail is missing. */
function missesTrailer(format: string, bytes: Uint8Array): boolean {
  const tail = (count: number) => bytes.subarray(Math.max(0, bytes.length - count));
  if (format === 'png') return !new TextDecoder('latin1').decode(tail(12)).includes('IEND');
  if (format === 'jpeg')
    return !tail(64).some((byte, index, all) => byte === 0xff && all[index + 1] === 0xd9);
  return false;
}

function toBytes(source: Uint8Array | ArrayBuffer): Uint8Array {
  return source instanceof Uint8Array ? source : new Uint8Array(source);
}
