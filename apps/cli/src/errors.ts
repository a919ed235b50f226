import { ImgclsError } from '@imgcls/preprocess';

/** A mistake in how the CLI was called: wrong flag values, missing inputs. Exit code 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Exit codes: 0 success, 1 a run that failed or had failed inputs, 2 a usage error, 130 interrupted. */
export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

/** What to do next, for the error codes users meet most. */
const HINTS: Record<string, string> = {
  INVALID_IMAGE: 'check that the file is a JPEG, PNG, WebP, GIF, TIFF or BMP image',
  IMAGE_TOO_LARGE: 'resize the image, or raise the limit with --max-pixels',
  UNKNOWN_MODEL: 'run `imgcls models list` to see the available models',
  OFFLINE:
    'fill the cache while online (`imgcls models pull <id>`), drop --offline, or point --model at a local copy',
  DOWNLOAD_FAILED:
    'check the network connection and --remote-host; without one, use a local model folder, an installed model package or `imgcls models import`',
  MODEL_NOT_FOUND:
    'run `imgcls models list` to see where each model would load from; --models-dir, --offline and --no-remote change the answer',
  MODEL_NOT_LOCAL:
    'run `imgcls models list` to see where each model would load from; pass a model folder to use a copy on disk',
  MODEL_PACKAGE_VERSION: 'install the model package version this imgcls pins',
  CLASS_MISMATCH:
    'rename the dataset class folders to the model labels (its metadata.json "labels")',
  CHECKSUM_MISMATCH:
    'a download that fails its checksum is not cached: run `imgcls models pull` again or use another --remote-host or --cdn; an installed package that fails it: reinstall it',
  LABEL_MISMATCH: "fix the model's metadata.json labels to match its output units",
};

/** Formats any thrown value for a person: message and hint, never a stack trace for user errors. */
export function describeError(error: unknown): {
  message: string;
  hint?: string;
  exitCode: number;
} {
  if (error instanceof UsageError) {
    return { message: error.message, hint: error.hint, exitCode: EXIT.usage };
  }
  if (ImgclsError.isInstance(error)) {
    const hint = HINTS[error.code];
    return { message: error.message, ...(hint ? { hint } : {}), exitCode: EXIT.failed };
  }
  const message = error instanceof Error ? error.message : String(error);
  const stack = process.env.IMGCLS_DEBUG && error instanceof Error ? `\n${error.stack}` : '';
  return {
    message: `unexpected error: ${message}${stack}`,
    hint: 'set IMGCLS_DEBUG=1 for a stack trace, and please report it',
    exitCode: EXIT.failed,
  };
}
