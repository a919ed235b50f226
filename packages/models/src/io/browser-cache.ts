import * as tf from '@tensorflow/tfjs-core';
import { METADATA_FILE, type ModelMetadata, parseModelMetadata } from '../metadata';
import type { FilePins } from '../store/pins';
import {
  ChecksumMismatchError,
  DownloadError,
  fetchOk,
  OfflineError,
  unlessAbsent,
} from './errors';
import { asModelJson, checkShardBytes, parseJsonFile, pinnedFile } from './model-json';

/** Options of {@link fetchToBrowserCache} and {@link browserCachedModel}. */
export interface BrowserCacheOptions {
  /** Expected SHA-256 (hex) of the file (of model.json for a model); checked after download and on every hit. */
  readonly sha256?: string;
  /** Never touch the network: serve from Cache Storage or fail with OfflineError. */
  readonly offline?: boolean;
  /** Cache Storage bucket; default {@link BROWSER_CACHE_NAME}. */
  readonly cacheName?: string;
  /** Cache Storage to use (tests); default the page's `caches`. */
  readonly cacheStorage?: CacheStorage;
  /** `fetch` to use (tests, proxies); default the global one. */
  readonly fetchImpl?: typeof fetch;
}

/** The Cache Storage bucket models are kept in unless `cacheName` says otherwise. */
export const BROWSER_CACHE_NAME = 'imgcls-models';
/** Response header recording the SHA-256 of a cached body, re-checked on every read. */
const SHA256_HEADER = 'x-imgcls-sha256';

/** Whether this context has Cache Storage and Web Crypto (browsers, on https or localhost pages). */
export function hasBrowserCache(): boolean {
  return (
    typeof globalThis.caches !== 'undefined' && typeof globalThis.crypto?.subtle !== 'undefined'
  );
}

async function sha256Hex(bytes: ArrayBuffer): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/**
 * The bytes of a URL, downloaded once into Cache Storage and served from there afterwards, like the
 * Node download cache: each entry records its SHA-256, which is verified (with `sha256` when given) on
 * every read; a cached entry that no longer verifies is deleted so the next online call downloads again.
 *
 * @throws DownloadError (HTTP status or network failure), ChecksumMismatchError, OfflineError.
 */
export async function fetchToBrowserCache(
  url: string,
  options: BrowserCacheOptions = {},
): Promise<ArrayBuffer> {
  const storage = options.cacheStorage ?? globalThis.caches;
  const cache = await storage.open(options.cacheName ?? BROWSER_CACHE_NAME);
  const expected = options.sha256?.toLowerCase();
  const hit = await cache.match(url);
  if (hit) {
    const bytes = await hit.arrayBuffer();
    const actual = await sha256Hex(bytes);
    const recorded = hit.headers.get(SHA256_HEADER);
    if (recorded === actual && (!expected || expected === actual)) return bytes;
    await cache.delete(url);
    throw new ChecksumMismatchError(url, 'sha256', expected ?? recorded ?? 'none recorded', actual);
  }
  if (options.offline) throw new OfflineError(url);
  const response = await fetchOk(url, options.fetchImpl);
  let bytes: ArrayBuffer;
  try {
    bytes = await response.arrayBuffer();
  } catch (error) {
    throw new DownloadError(url, `The download of ${url} was interrupted.`, undefined, {
      cause: error,
    });
  }
  const actual = await sha256Hex(bytes);
  if (expected && actual !== expected)
    throw new ChecksumMismatchError(url, 'sha256', expected, actual);
  await cache.put(
    url,
    new Response(bytes, {
      headers: {
        'content-type': response.headers.get('content-type') ?? 'application/octet-stream',
        [SHA256_HEADER]: actual,
      },
    }),
  );
  return bytes;
}

/** A model served from Cache Storage: its IOHandler and its metadata, if published beside it. */
export interface BrowserCachedModel {
  readonly handler: tf.io.IOHandler;
  readonly metadata?: ModelMetadata;
}

/** Options of {@link browserCachedModel}: those of the cache, and the pins of the model's files. */
export interface BrowserCachedModelOptions extends BrowserCacheOptions {
  /**
   * SHA-256 (and size) of each file by its path relative to model.json: every file fetched must be
   * pinned and match. Without it, `sha256` pins model.json.
   */
  readonly files?: FilePins;
}

/**
 * Downloads a TF.js model (model.json, its weight shards, and metadata.json when present) into Cache
 * Storage once, then loads it from there; `offline` serves only from the cache. Every shard is checked
 * against its pin, or the checksum recorded when it was cached. A file that turns out not to be what it
 * claims (an HTML page, a truncated shard) is deleted from the cache before the error.
 *
 * @throws DownloadError, ChecksumMismatchError, OfflineError, ModelLoadError.
 */
export async function browserCachedModel(
  modelJsonUrl: string,
  options: BrowserCachedModelOptions = {},
): Promise<BrowserCachedModel> {
  const { files, sha256: _pinsModelJsonOnly, ...cacheOptions } = options;
  const pinned = (path: string) =>
    files
      ? { ...cacheOptions, sha256: pinnedFile(files, path, modelJsonUrl).sha256 }
      : cacheOptions;
  const fetchFile = (path: string) => {
    const url = new URL(path, modelJsonUrl).href;
    return fetchToBrowserCache(url, pinned(path)).then((bytes) => ({ url, bytes }));
  };
  const evicting = evictingOnFailure(options);
  const modelJsonBytes = await fetchToBrowserCache(
    modelJsonUrl,
    files ? pinned('model.json') : options,
  );
  const modelJson = await evicting([modelJsonUrl], async () =>
    asModelJson(parseJsonFile(decode(modelJsonBytes), modelJsonUrl), modelJsonUrl),
  );
  const handler: tf.io.IOHandler = {
    load: () =>
      tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
        const shards = await Promise.all(manifest.flatMap((group) => group.paths).map(fetchFile));
        const sizes = shards.map((shard) => shard.bytes.byteLength);
        await evicting(
          shards.map((shard) => shard.url),
          async () => checkShardBytes(manifest, sizes, modelJsonUrl),
        );
        const weights = tf.io.concatenateArrayBuffers(shards.map((shard) => shard.bytes));
        return [manifest.flatMap((group) => group.weights), weights];
      }),
  };
  // metadata.json is optional beside a hosted model: absent (404) or not cached offline means none;
  // a pinned one is part of the model, and its absence an error.
  const metadataFile = await (files?.[METADATA_FILE]
    ? fetchFile(METADATA_FILE)
    : unlessAbsent(fetchFile(METADATA_FILE)));
  if (!metadataFile) return { handler };
  const metadata = await evicting([metadataFile.url], async () =>
    parseModelMetadata(parseJsonFile(decode(metadataFile.bytes), metadataFile.url)),
  );
  return { handler, metadata };
}

/**
 * Runs a check of cached files; when it fails, those entries are deleted before the error, so what is
 * not what it claims never stays cached.
 */
function evictingOnFailure(options: BrowserCacheOptions) {
  const storage = options.cacheStorage ?? globalThis.caches;
  return async <T>(urls: readonly string[], check: () => Promise<T>): Promise<T> => {
    try {
      return await check();
    } catch (error) {
      const cache = await storage.open(options.cacheName ?? BROWSER_CACHE_NAME);
      await Promise.all(urls.map((url) => cache.delete(url)));
      throw error;
    }
  };
}

const decode = (bytes: ArrayBuffer) => new TextDecoder().decode(bytes);
