import * as tf from '@tensorflow/tfjs-core';
import { ModelLoadError } from '../errors';
import {
  BROWSER_CACHE_NAME,
  browserCachedModel,
  fetchToBrowserCache,
  hasBrowserCache,
} from '../io/browser-cache';
import { fetchOk, OfflineError } from '../io/errors';
import { asModelJson, checkShardBytes, parseJsonFile } from '../io/model-json';
import { METADATA_FILE, parseModelMetadata } from '../metadata';
import type { ModelStoreSettings } from './settings';
import { createModelStore, type LoadedFiles, type StorePlatform } from './store';

/** The page (or worker) URL that relative folders and paths resolve against. */
const pageUrl = () => globalThis.location?.href;
const sameOrigin = (url: string) => {
  const page = pageUrl();
  return page !== undefined && new URL(url, page).origin === new URL(page).origin;
};
const asFolder = (location: string) => (location.endsWith('/') ? location : `${location}/`);

/**
 * A model folder (or model.json URL) fetched as is, through the browser's HTTP cache: the page's own
 * files, so a redeployed model is never served stale.
 */
async function loadFolder(location: string): Promise<LoadedFiles> {
  const modelJsonUrl = /\.json$/i.test(location)
    ? location
    : new URL('model.json', asFolder(location)).href;
  const modelJson = asModelJson(
    parseJsonFile(await (await fetchOk(modelJsonUrl)).text(), modelJsonUrl),
    modelJsonUrl,
  );
  const handler: tf.io.IOHandler = {
    load: () =>
      tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
        const paths = manifest.flatMap((group) => group.paths);
        const shards = await Promise.all(
          paths.map(async (path) =>
            (await fetchOk(new URL(path, modelJsonUrl).href)).arrayBuffer(),
          ),
        );
        checkShardBytes(
          manifest,
          shards.map((shard) => shard.byteLength),
          modelJsonUrl,
        );
        return [manifest.flatMap((group) => group.weights), tf.io.concatenateArrayBuffers(shards)];
      }),
  };
  const metadataUrl = new URL(METADATA_FILE, modelJsonUrl).href;
  const metadataResponse = await fetch(metadataUrl).catch(() => undefined);
  if (!metadataResponse?.ok) return { handler };
  const metadata = parseModelMetadata(parseJsonFile(await metadataResponse.text(), metadataUrl));
  return { handler, metadata };
}

/** Whether a download goes through Cache Storage: pinned files always, a caller's URL when cross-origin. */
function useCache(url: string, pinned: boolean): boolean {
  if (!hasBrowserCache()) {
    if (pinned)
      throw new ModelLoadError(
        `${url} is pinned by checksums, which need Cache Storage and Web Crypto: serve the page from https or localhost.`,
      );
    return false;
  }
  return pinned || !sameOrigin(url);
}

const cacheOptions = (settings: ModelStoreSettings) => ({
  cacheName: settings.cacheName,
  offline: settings.offline,
});

const browserPlatform: StorePlatform = {
  environment: () => ({}),
  join: (base, name) => new URL(`${name}/`, new URL(asFolder(base), pageUrl())).href,
  pathLocation: (path) => new URL(path, pageUrl()).href,
  hasModel: async (folder) =>
    fetch(new URL('model.json', asFolder(folder)).href, { method: 'HEAD' }).then(
      (response) => response.ok,
      () => false,
    ),
  loadFolder,
  installedPackage: async () => undefined,
  isCached: async (modelJsonUrl, settings, files) => {
    if (!hasBrowserCache()) return false;
    const cache = await caches.open(settings.cacheName ?? BROWSER_CACHE_NAME);
    const urls = files
      ? Object.keys(files).map((file) => new URL(file, modelJsonUrl).href)
      : [modelJsonUrl];
    const hits = await Promise.all(urls.map((url) => cache.match(url)));
    return hits.every(Boolean);
  },
  loadUrl: async (modelJsonUrl, settings, files) => {
    if (useCache(modelJsonUrl, files !== undefined))
      return browserCachedModel(modelJsonUrl, {
        ...cacheOptions(settings),
        ...(files ? { files } : {}),
      });
    if (settings.offline) throw new OfflineError(modelJsonUrl);
    return loadFolder(modelJsonUrl);
  },
  readBytes: async (url, settings) => {
    if (useCache(url, false))
      return new Uint8Array(await fetchToBrowserCache(url, cacheOptions(settings)));
    if (settings.offline) throw new OfflineError(url);
    return new Uint8Array(await (await fetchOk(url)).arrayBuffer());
  },
  notFoundHint: (entry) =>
    entry.source.kind === 'package'
      ? `Allow downloads (allowRemote), point remoteHost at a mirror that serves ${entry.source.package.name}@${entry.source.package.version}, or serve its folder and set modelsFolder.`
      : 'Allow downloads (allowRemote), or serve a copy of the model and set modelsFolder.',
};

/**
 * The model store in browsers (and workers): a caller's URL or path (against the page); the configured
 * models folder (a URL); the pinned package on the npm CDN (or mirror), kept in Cache Storage.
 */
export const modelStore = createModelStore(browserPlatform);
