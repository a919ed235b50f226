import { ImgclsError } from '@imgcls/preprocess/errors';

/** A dataset file or archive is truncated, corrupt, or not in the expected format. */
export class DatasetFormatError extends ImgclsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('DATASET_FORMAT', message, options);
  }
}

/** Files of an image-folder dataset cannot be read as images; `paths` lists every one found. */
export class UnreadableImageError extends ImgclsError {
  constructor(
    readonly paths: readonly string[],
    reason: string,
    options?: { cause?: unknown },
  ) {
    const shown = paths.slice(0, 10).join(', ');
    const more = paths.length > 10 ? ` and ${paths.length - 10} more` : '';
    super(
      'UNREADABLE_IMAGE',
      `${paths.length === 1 ? 'An image file' : `${paths.length} image files`} cannot be read (${reason}): ${shown}${more}. Replace or remove ${paths.length === 1 ? 'it' : 'them'}, then run again.`,
      options,
    );
  }
}

/** A dataset could not be downloaded from its official source; the message says how to supply it locally. */
export class DatasetDownloadError extends ImgclsError {
  constructor(
    readonly url: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('DATASET_DOWNLOAD_FAILED', message, options);
  }
}
