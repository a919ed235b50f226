import { ImgclsError } from '@imgcls/preprocess/errors';

/** A download failed: HTTP error status, network failure, or an interrupted transfer. */
export class DownloadError extends ImgclsError {
  constructor(
    readonly url: string,
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super('DOWNLOAD_FAILED', message, options);
  }
}

/** Downloaded or cached bytes do not have the expected checksum: corrupt, or changed upstream. */
export class ChecksumMismatchError extends ImgclsError {
  constructor(
    readonly url: string,
    readonly algorithm: 'sha256' | 'md5',
    readonly expected: string,
    readonly actual: string,
    /** What to do about it; by default, what a mismatched download means. */
    advice = 'The download is corrupt or the file changed upstream; nothing was cached.',
  ) {
    super(
      'CHECKSUM_MISMATCH',
      `${url}: ${algorithm} is ${actual}, expected ${expected}. ${advice}`,
    );
  }
}

/** Offline mode is on and the file is not in the cache. */
export class OfflineError extends ImgclsError {
  constructor(readonly url: string) {
    super('OFFLINE', `${url} is not cached and offline mode forbids downloading it.`);
  }
}

/**
 * An optional file beside a hosted model (metadata.json): undefined when it is absent (HTTP 404) or not
 * cached in offline mode; any other failure is rethrown.
 */
export function unlessAbsent<T>(fetching: Promise<T>): Promise<T | undefined> {
  return fetching.catch((error: unknown) => {
    if ((error instanceof DownloadError && error.status === 404) || error instanceof OfflineError)
      return undefined;
    throw error;
  });
}

/**
 * A successful response for `url`: a network failure or an HTTP error status becomes a DownloadError
 * that names the URL (and the status).
 */
export async function fetchOk(
  url: string,
  fetchImpl: typeof fetch = fetch,
  init: RequestInit = {},
): Promise<Response> {
  let response: Response;
  try {
    response = await fetchImpl(url, init);
  } catch (error) {
    throw new DownloadError(url, `Cannot reach ${url}: ${(error as Error).message}`, undefined, {
      cause: error,
    });
  }
  if (!response.ok)
    throw new DownloadError(
      url,
      `${url} answered HTTP ${response.status} ${response.statusText}`.trim(),
      response.status,
    );
  return response;
}
