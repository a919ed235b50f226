import { ImageTooLargeError, InvalidImageError } from './errors';

/** An image decoded to 8-bit RGB, row-major, 3 bytes per pixel, orientation applied, no alpha. */
export interface DecodedImage {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
}

/** Options shared by every decoder. */
export interface DecodeOptions {
  /**
   * Largest width × height accepted, checked from the header before any pixel is decoded, so a small
   * file that declares a huge image (a decompression bomb) is rejected cheaply. Default 50 megapixels.
   */
  readonly maxPixels?: number;
}

/** Default {@link DecodeOptions.maxPixels}: 50 megapixels, larger than any photo a phone takes. */
export const DEFAULT_MAX_PIXELS = 50_000_000;

/** Throws {@link ImageTooLargeError} when width × height exceeds the budget, InvalidImageError when empty. */
export function checkDimensions(
  width: number,
  height: number,
  maxPixels = DEFAULT_MAX_PIXELS,
): void {
  if (!(width > 0 && height > 0)) {
    throw new InvalidImageError(
      'CORRUPT',
      `The image declares a size of ${width}x${height} pixels.`,
    );
  }
  if (width * height > maxPixels) throw new ImageTooLargeError(width, height, maxPixels);
}

/** Image formats recognised from their first bytes. */
export type ImageFormat = 'jpeg' | 'png' | 'gif' | 'webp' | 'bmp' | 'tiff' | 'avif';

/** The format a buffer's magic bytes announce, or undefined when it is none of the supported ones. */
export function sniffFormat(bytes: Uint8Array): ImageFormat | undefined {
  const startsWith = (...signature: number[]) =>
    signature.every((byte, index) => bytes[index] === byte);
  const ascii = (offset: number, text: string) =>
    [...text].every((char, index) => bytes[offset + index] === char.charCodeAt(0));
  if (startsWith(0xff, 0xd8, 0xff)) return 'jpeg';
  if (startsWith(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'png';
  if (ascii(0, 'GIF87a') || ascii(0, 'GIF89a')) return 'gif';
  if (ascii(0, 'RIFF') && ascii(8, 'WEBP')) return 'webp';
  if (ascii(0, 'BM')) return 'bmp';
  if (startsWith(0x49, 0x49, 0x2a, 0x00) || startsWith(0x4d, 0x4d, 0x00, 0x2a)) return 'tiff';
  if (ascii(4, 'ftypavif') || ascii(4, 'ftypavis')) return 'avif';
  return undefined;
}
