import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { ChecksumMismatchError, DownloadError, fetchOk, OfflineError } from './errors';

/** Options of {@link fetchToCache}. */
export interface FetchToCacheOptions {
  /** Expected SHA-256 (hex) of the file; verified after download and on every cache hit. */
  readonly sha256?: string;
  /** Expected MD5 (hex), for sources that publish only MD5 (the CIFAR-10 archive). */
  readonly md5?: string;
  /** Cache directory; default `$IMGCLS_CACHE_DIR` or `~/.cache/imgcls`. */
  readonly cacheDir?: string;
  /** Never touch the network: serve from the cache or fail with OfflineError. */
  readonly offline?: boolean;
  /** `fetch` to use (tests, proxies); default the global one. */
  readonly fetchImpl?: typeof fetch;
  /** Called as bytes arrive; `total` is undefined when the server sends no length. */
  readonly onProgress?: (loaded: number, total: number | undefined) => void;
  readonly signal?: AbortSignal;
}

/** The cache directory used when none is given. */
export function defaultCacheDir(): string {
  return process.env.IMGCLS_CACHE_DIR ?? join(homedir(), '.cache', 'imgcls');
}

/** Where a URL is cached: a hash of the URL (so different sources never collide) plus its file name. */
export function cachePathFor(url: string, cacheDir = defaultCacheDir()): string {
  const key = createHash('sha256').update(url).digest('hex').slice(0, 16);
  const name = basename(new URL(url).pathname) || 'download';
  return join(cacheDir, `${key}-${name}`);
}

/**
 * Downloads a URL into the cache once and returns the local path; later calls are served from the cache
 * (re-verified) without the network. Downloads stream to a temporary file that is checked and then
 * renamed, so the cache never holds a partial or unverified file.
 *
 * @throws DownloadError (HTTP status or network failure), ChecksumMismatchError, OfflineError.
 */
export async function fetchToCache(
  url: string,
  options: FetchToCacheOptions = {},
): Promise<string> {
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const target = cachePathFor(url, cacheDir);
  if (await exists(target)) {
    await verify(url, await hashFile(target), options, target);
    return target;
  }
  if (options.offline) throw new OfflineError(url);
  await mkdir(cacheDir, { recursive: true });
  const temporary = `${target}.${process.pid}.${Date.now()}.partial`;
  try {
    const hashes = await download(url, temporary, options);
    await verify(url, hashes, options);
    await rename(temporary, target);
    return target;
  } finally {
    await rm(temporary, { force: true });
  }
}

interface Hashes {
  readonly sha256: string;
  readonly md5: string;
}

async function download(url: string, path: string, options: FetchToCacheOptions): Promise<Hashes> {
  const response = await fetchOk(
    url,
    options.fetchImpl,
    options.signal ? { signal: options.signal } : {},
  );
  if (!response.body)
    throw new DownloadError(url, `${url} answered without a body.`, response.status);
  const lengthHeader = response.headers.get('content-length');
  const total = lengthHeader ? Number(lengthHeader) : undefined;
  const sha256 = createHash('sha256');
  const md5 = createHash('md5');
  const file = createWriteStream(path);
  let loaded = 0;
  try {
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      sha256.update(value);
      md5.update(value);
      loaded += value.length;
      options.onProgress?.(loaded, total);
      if (!file.write(value))
        await new Promise<void>((resolve) => file.once('drain', () => resolve()));
    }
  } catch (error) {
    file.destroy();
    throw new DownloadError(
      url,
      `The download of ${url} was interrupted after ${loaded} bytes.`,
      undefined,
      { cause: error },
    );
  }
  await new Promise<void>((resolve, reject) =>
    file.end((error?: Error | null) => (error ? reject(error) : resolve())),
  );
  if (total !== undefined && loaded !== total) {
    throw new DownloadError(url, `The download of ${url} ended after ${loaded} of ${total} bytes.`);
  }
  return { sha256: sha256.digest('hex'), md5: md5.digest('hex') };
}

async function verify(
  url: string,
  actual: Hashes,
  options: FetchToCacheOptions,
  cachedPath?: string,
): Promise<void> {
  for (const algorithm of ['sha256', 'md5'] as const) {
    const expected = options[algorithm]?.toLowerCase();
    if (expected && actual[algorithm] !== expected) {
      // A cached file that no longer verifies is removed so the next online call downloads afresh.
      if (cachedPath) await rm(cachedPath, { force: true });
      throw new ChecksumMismatchError(url, algorithm, expected, actual[algorithm]);
    }
  }
}

/** SHA-256 and MD5 of a file, streamed. */
export async function hashFile(path: string): Promise<Hashes> {
  const sha256 = createHash('sha256');
  const md5 = createHash('md5');
  for await (const chunk of createReadStream(path)) {
    sha256.update(chunk as Buffer);
    md5.update(chunk as Buffer);
  }
  return { sha256: sha256.digest('hex'), md5: md5.digest('hex') };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    (stats) => stats.isFile(),
    () => false,
  );
}
