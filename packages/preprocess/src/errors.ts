const IMGCLS_ERROR_MARKER = Symbol.for('imgcls.error');

/**
 * Base class of every error thrown by `@imgcls/*` packages.
 *
 * Each subclass carries a stable `code` that programs can switch on and a message that tells the
 * user what to do. Use {@link ImgclsError.isInstance} rather than `instanceof`: it also recognises
 * errors thrown by another copy of the package (two versions installed side by side).
 */
export class ImgclsError extends Error {
  readonly [IMGCLS_ERROR_MARKER] = true;

  /**
   * @param code - Stable machine-readable identifier, e.g. `'INVALID_IMAGE'`.
   * @param message - What went wrong and what to do about it.
   * @param options - `cause`: the underlying error, when there is one.
   */
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }

  /** True for any imgcls error, from any copy of the package; narrows to a given `code` when passed. */
  static isInstance(value: unknown, code?: string): value is ImgclsError {
    if (typeof value !== 'object' || value === null) return false;
    if ((value as Record<symbol, unknown>)[IMGCLS_ERROR_MARKER] !== true) return false;
    return code === undefined || (value as ImgclsError).code === code;
  }
}

/** A configuration value is outside its documented range or of the wrong kind. */
export class InvalidArgumentError extends ImgclsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_ARGUMENT', message, options);
  }
}

/** Why an input could not be read as an image. */
export type InvalidImageReason =
  | 'EMPTY'
  | 'TRUNCATED'
  | 'NOT_AN_IMAGE'
  | 'UNSUPPORTED_FORMAT'
  | 'NOT_FOUND'
  | 'CORRUPT';

/** The input is not a readable image: empty, truncated, corrupt, not an image, or of an unsupported kind. */
export class InvalidImageError extends ImgclsError {
  constructor(
    readonly reason: InvalidImageReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('INVALID_IMAGE', message, options);
  }
}

/** The image has more pixels than allowed (a decompression bomb, or simply too large to process). */
export class ImageTooLargeError extends ImgclsError {
  constructor(
    readonly width: number,
    readonly height: number,
    readonly maxPixels: number,
  ) {
    super(
      'IMAGE_TOO_LARGE',
      `The image is ${width}x${height} (${(width * height).toLocaleString('en-US')} pixels), more than the limit of ${maxPixels.toLocaleString('en-US')}: resize it or raise maxPixels.`,
    );
  }
}
