import { ImgclsError } from '@imgcls/preprocess';

/** A dataset file or archive is truncated, corrupt, or not in the expected format. */
export class DatasetFormatError extends ImgclsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('DATASET_FORMAT', message, options);
  }
}
