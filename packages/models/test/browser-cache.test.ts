import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ImgclsError } from '@imgcls/preprocess';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserCachedModel, fetchToBrowserCache } from '../src/index';
import { useWasm } from './setup';

/**
 * Cache Storage as the Cache API specifies it (match / put / delete by URL), for Node, which has none;
 * the same code runs against Chromium's real Cache Storage in apps/web/e2e/library.e2e.ts.
 */
class MemoryCacheStorage {
  readonly buckets = new Map<string, Map<string, Response>>();
  async open(name: string): Promise<Cache> {
    const entries = this.buckets.get(name) ?? new Map<string, Response>();
    this.buckets.set(name, entries);
    return {
      match: async (url: string) => entries.get(url)?.clone(),
      put: async (url: string, response: Response) => {
        entries.set(url, response.clone());
      },
      delete: async (url: string) => entries.delete(url),
    } as unknown as Cache;
  }
}

async function errorOf(promise: Promise<unknown>): Promise<ImgclsError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(ImgclsError.isInstance(error), String(error)).toBe(true);
  return error as ImgclsError;
}

describe('the browser model cache (Cache Storage)', () => {
  const files = new Map<string, Uint8Array>();
  let server: Server;
  let base: string;
  let hits = 0;
  let model: tfl.LayersModel;

  beforeAll(async () => {
    await useWasm();
    const input = tfl.input({ shape: [3] });
    const output = tfl.layers
      .dense({ units: 2, kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }) })
      .apply(input) as tfl.SymbolicTensor;
    model = tfl.model({ inputs: input, outputs: output });
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        files.set('/m/group1-shard1of1.bin', new Uint8Array(artifacts.weightData as ArrayBuffer));
        const json = {
          modelTopology: artifacts.modelTopology,
          weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: artifacts.weightSpecs }],
        };
        files.set('/m/model.json', new TextEncoder().encode(JSON.stringify(json)));
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    server = createServer((request, response) => {
      hits++;
      const body = files.get(request.url ?? '');
      if (!body) response.writeHead(404).end();
      else response.writeHead(200).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => {
    server?.close();
    model?.dispose();
  });

  const sha256Of = (path: string) =>
    createHash('sha256')
      .update(files.get(path) as Uint8Array)
      .digest('hex');

  it('downloads a model once, then loads it from the cache, even offline', async () => {
    const cacheStorage = new MemoryCacheStorage() as unknown as CacheStorage;
    const url = `${base}/m/model.json`;
    const options = { cacheStorage, sha256: sha256Of('/m/model.json') };
    const first = await browserCachedModel(url, options);
    expect(first.metadata).toBeUndefined(); // none published: 404 is not an error
    const loaded = await tfl.loadLayersModel(first.handler);
    const hitsAfterDownload = hits;
    const cached = await tfl.loadLayersModel(
      (await browserCachedModel(url, { ...options, offline: true })).handler,
    );
    expect(hits).toBe(hitsAfterDownload);
    const x = tf.tensor2d([[1, -2, 0.5]]);
    const [expected, fromCache] = [model.predict(x), cached.predict(x)] as tf.Tensor[];
    expect(Array.from((fromCache as tf.Tensor).dataSync())).toEqual(
      Array.from((expected as tf.Tensor).dataSync()),
    );
    tf.dispose([x, expected as tf.Tensor, fromCache as tf.Tensor]);
    loaded.dispose();
    cached.dispose();
  });

  it('caches nothing when the download does not have the expected checksum', async () => {
    const cacheStorage = new MemoryCacheStorage();
    const url = `${base}/m/model.json`;
    const wrong = 'ab'.repeat(32);
    const error = await errorOf(
      fetchToBrowserCache(url, {
        cacheStorage: cacheStorage as unknown as CacheStorage,
        sha256: wrong,
      }),
    );
    expect(error.code).toBe('CHECKSUM_MISMATCH');
    expect(error.message).toContain(wrong);
    expect(cacheStorage.buckets.get('imgcls-models')?.size ?? 0).toBe(0);
  });

  it('detects a corrupted cache entry, deletes it, and downloads afresh on the next call', async () => {
    const cacheStorage = new MemoryCacheStorage();
    const storage = cacheStorage as unknown as CacheStorage;
    const url = `${base}/m/group1-shard1of1.bin`;
    const original = new Uint8Array(await fetchToBrowserCache(url, { cacheStorage: storage }));
    const entries = cacheStorage.buckets.get('imgcls-models') as Map<string, Response>;
    const stored = entries.get(url) as Response;
    const corrupted = original.slice();
    corrupted[0] = (corrupted[0] as number) ^ 0xff;
    entries.set(url, new Response(corrupted, { headers: stored.headers }));
    expect((await errorOf(fetchToBrowserCache(url, { cacheStorage: storage }))).code).toBe(
      'CHECKSUM_MISMATCH',
    );
    expect(entries.has(url)).toBe(false);
    const again = new Uint8Array(await fetchToBrowserCache(url, { cacheStorage: storage }));
    expect(again).toEqual(original);
  });

  it('fails offline without a cached copy, and reports HTTP errors with their status', async () => {
    const cacheStorage = new MemoryCacheStorage() as unknown as CacheStorage;
    const before = hits;
    const offline = await errorOf(
      browserCachedModel(`${base}/m/model.json`, { cacheStorage, offline: true }),
    );
    expect(offline.code).toBe('OFFLINE');
    expect(hits).toBe(before);
    const missing = await errorOf(fetchToBrowserCache(`${base}/absent.json`, { cacheStorage }));
    expect(missing.code).toBe('DOWNLOAD_FAILED');
    expect((missing as ImgclsError & { status?: number }).status).toBe(404);
  });
});
