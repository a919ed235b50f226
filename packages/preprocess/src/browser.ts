import {
  checkDimensions,
  DEFAULT_MAX_PIXELS,
  type DecodedImage,
  type DecodeOptions,
  sniffFormat,
} from './decoded';
import { InvalidImageError } from './errors';

export * from './index';

/** What browsers can decode: elements, bitmaps, pixel data, files and video frames. */
export type BrowserImageSource =
  | HTMLImageElement
  | HTMLCanvasElement
  | HTMLVideoElement
  | OffscreenCanvas
  | ImageBitmap
  | ImageData
  | VideoFrame
  | Blob;

/**
 * Decodes a browser image source to 8-bit RGB: EXIF orientation applied (`imageOrientation:
 * 'from-image'`), transparency flattened onto white. Files are checked by their first bytes before
 * decoding, and their declared size against `maxPixels`.
 *
 * @throws InvalidImageError (EMPTY, NOT_AN_IMAGE, CORRUPT) and ImageTooLargeError.
 */
export async function decodeImage(
  source: BrowserImageSource,
  options: DecodeOptions = {},
): Promise<DecodedImage> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (typeof ImageData !== 'undefined' && source instanceof ImageData) {
    checkDimensions(source.width, source.height, maxPixels);
    return rgbaToRgb(source.data, source.width, source.height);
  }
  if (source instanceof Blob) {
    if (source.size === 0) throw new InvalidImageError('EMPTY', 'The file is empty (0 bytes).');
    if (!sniffFormat(new Uint8Array(await source.slice(0, 32).arrayBuffer()))) {
      throw new InvalidImageError(
        'NOT_AN_IMAGE',
        'The file is not an image: expected JPEG, PNG, WebP, GIF, BMP, TIFF or AVIF.',
      );
    }
    let bitmap: ImageBitmap;
    try {
      bitmap = await createImageBitmap(source, { imageOrientation: 'from-image' });
    } catch (error) {
      throw new InvalidImageError(
        'CORRUPT',
        'The browser could not decode this image: it is corrupt or truncated.',
        { cause: error },
      );
    }
    try {
      return drawToRgb(bitmap, bitmap.width, bitmap.height, maxPixels);
    } finally {
      bitmap.close();
    }
  }
  const drawable = source as Exclude<BrowserImageSource, Blob | ImageData>;
  const [width, height] = sourceSize(drawable);
  return drawToRgb(drawable, width, height, maxPixels);
}

function sourceSize(source: Exclude<BrowserImageSource, Blob | ImageData>): [number, number] {
  if (typeof HTMLImageElement !== 'undefined' && source instanceof HTMLImageElement)
    return [source.naturalWidth, source.naturalHeight];
  if (typeof HTMLVideoElement !== 'undefined' && source instanceof HTMLVideoElement)
    return [source.videoWidth, source.videoHeight];
  if (typeof VideoFrame !== 'undefined' && source instanceof VideoFrame)
    return [source.displayWidth, source.displayHeight];
  return [(source as { width: number }).width, (source as { height: number }).height];
}

function drawToRgb(
  source: CanvasImageSource,
  width: number,
  height: number,
  maxPixels: number,
): DecodedImage {
  checkDimensions(width, height, maxPixels);
  const canvas =
    typeof OffscreenCanvas !== 'undefined'
      ? new OffscreenCanvas(width, height)
      : Object.assign(document.createElement('canvas'), { width, height });
  const context = canvas.getContext('2d', { willReadFrequently: true }) as
    | CanvasRenderingContext2D
    | OffscreenCanvasRenderingContext2D
    | null;
  if (!context)
    throw new InvalidImageError('CORRUPT', 'No 2D canvas is available to decode the image.');
  context.fillStyle = '#ffffff';
  context.fillRect(0, 0, width, height);
  context.drawImage(source, 0, 0, width, height);
  return rgbaToRgb(context.getImageData(0, 0, width, height).data, width, height);
}

function rgbaToRgb(rgba: Uint8ClampedArray, width: number, height: number): DecodedImage {
  const data = new Uint8Array(width * height * 3);
  for (let pixel = 0, out = 0; pixel < width * height; pixel++, out += 3) {
    const alpha = rgba[pixel * 4 + 3] as number;
    for (let channel = 0; channel < 3; channel++) {
      const value = rgba[pixel * 4 + channel] as number;
      data[out + channel] =
        alpha === 255 ? value : Math.round((value * alpha + 255 * (255 - alpha)) / 255);
    }
  }
  return { data, width, height };
}
