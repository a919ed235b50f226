import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PRESETS } from '@imgcls/preprocess';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cachedModel,
  directoryHandler,
  fetchToCache,
  type ModelMetadata,
  writeMetadata,
} from '../src/node';
import { caught, useWasm } from './setup';

const payload = new TextEncoder().encode('imgcls test payload '.repeat(500));
const sha256 = createHash('sha256').update(payload).digest('hex');
const md5 = createHash('md5').update(payload).digest('hex');

/** A loopback server with fixed routes that counts its requests. */
function startServer(
  files: Map<string, Uint8Array>,
): Promise<{ server: Server; base: string; hits: () => number }> {
  let hits = 0;
  const server = createServer((request, response) => {
    hits++;
    const path = request.url ?? '/';
    if (path === '/truncated.bin') {
      response.writeHead(200, { 'content-length': String(payload.length) });
      response.write(payload.subarray(0, 100));
      setTimeout(() => response.destroy(), 20);
      return;
    }
    const body = files.get(path);
    if (!body) {
      response.writeHead(404).end('not found');
      return;
    }
    response.writeHead(200, { 'content-length': String(body.length) }).end(body);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ server, base: `http://127.0.0.1:${port}`, hits: () => hits });
    }),
  );
}

describe('fetchToCache against a local HTTP server', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  const files = new Map<string, Uint8Array>([['/payload.bin', payload]]);

  beforeAll(async () => {
    server = await startServer(files);
  });
  afterAll(() => new Promise<void>((resolve) => server.server.close(() => resolve())));

  it('downloads once, verifies SHA-256 and MD5, and serves later calls from the cache', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'imgcls-cache-'));
    const progress: number[] = [];
    const path = await fetchToCache(`${server.base}/payload.bin`, {
      sha256,
      md5,
      cacheDir,
      onProgress: (loaded) => progress.push(loaded),
    });
    expect(new Uint8Array(readFileSync(path))).toEqual(payload);
    expect(progress.at(-1)).toBe(payload.length);
    const hitsAfterFirst = server.hits();
    expect(await fetchToCache(`${server.base}/payload.bin`, { sha256, cacheDir })).toBe(path);
    expect(
      await fetchToCache(`${server.base}/payload.bin`, { sha256, cacheDir, offline: true }),
    ).toBe(path);
    expect(server.hits()).toBe(hitsAfterFirst);
  });

  it('rejects a wrong checksum and caches nothing', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'imgcls-cache-'));
    const error = await caught(
      fetchToCache(`${server.base}/payload.bin`, { sha256: '0'.repeat(64), cacheDir }),
    );
    expect(error.code).toBe('CHECKSUM_MISMATCH');
    expect(error.actual).toBe(sha256);
    expect(readdirSync(cacheDir)).toEqual([]);
  });

  it('detects a cached file corrupted after the fact and removes it', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'imgcls-cache-'));
    const path = await fetchToCache(`${server.base}/payload.bin`, { md5, cacheDir });
    const { writeFileSync } = await import('node:fs');
    writeFileSync(path, 'tampered');
    expect((await caught(fetchToCache(`${server.base}/payload.bin`, { md5, cacheDir }))).code).toBe(
      'CHECKSUM_MISMATCH',
    );
    expect(readdirSync(cacheDir)).toEqual([]);
  });

  it('reports HTTP errors with their status', async () => {
    const error = await caught(
      fetchToCache(`${server.base}/missing.bin`, {
        cacheDir: mkdtempSync(join(tmpdir(), 'imgcls-cache-')),
      }),
    );
    expect([error.code, error.status]).toEqual(['DOWNLOAD_FAILED', 404]);
  });

  it('fails offline when nothing is cached, without touching the network', async () => {
    const before = server.hits();
    const error = await caught(
      fetchToCache(`${server.base}/payload.bin`, {
        offline: true,
        cacheDir: mkdtempSync(join(tmpdir(), 'imgcls-cache-')),
      }),
    );
    expect(error.code).toBe('OFFLINE');
    expect(server.hits()).toBe(before);
  });

  it('leaves no partial file when a download is cut off', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'imgcls-cache-'));
    expect((await caught(fetchToCache(`${server.base}/truncated.bin`, { cacheDir }))).code).toBe(
      'DOWNLOAD_FAILED',
    );
    expect(readdirSync(cacheDir)).toEqual([]);
  });

  it('fails clearly when the server is unreachable', async () => {
    const error = await caught(
      fetchToCache('http://127.0.0.1:9/nothing.bin', {
        cacheDir: mkdtempSync(join(tmpdir(), 'imgcls-cache-')),
      }),
    );
    expect(error.code).toBe('DOWNLOAD_FAILED');
  });
});

describe('model directories and cached hosted models', () => {
  beforeAll(useWasm);

  it('saves a layers model with metadata and loads it back from disk and over HTTP', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'imgcls-model-'));
    const input = tfl.input({ shape: [4] });
    const output = tfl.layers
      .dense({ units: 3, activation: 'softmax', name: 'predictions' })
      .apply(input) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: output });
    await model.save(directoryHandler(directory));
    const metadata: ModelMetadata = {
      schemaVersion: 1,
      id: 'tiny',
      name: 'tiny',
      version: '1',
      format: 'layers-model',
      labels: ['a', 'b', 'c'],
      output: 'probabilities',
      preset: PRESETS.cifar10,
    };
    await writeMetadata(directory, metadata);
    const probe = tf.ones([1, 4]);
    const expected = (model.predict(probe) as tf.Tensor).dataSync();

    const fromDisk = await tfl.loadLayersModel(directoryHandler(directory));
    expect((fromDisk.predict(probe) as tf.Tensor).dataSync()).toEqual(expected);

    const files = new Map(
      readdirSync(directory).map((name) => [
        `/m/${name}`,
        new Uint8Array(readFileSync(join(directory, name))),
      ]),
    );
    const server = await startServer(files);
    try {
      const cacheDir = mkdtempSync(join(tmpdir(), 'imgcls-cache-'));
      const hosted = await cachedModel(`${server.base}/m/model.json`, { cacheDir });
      expect(hosted.metadata?.labels).toEqual(['a', 'b', 'c']);
      const fromHttp = await tfl.loadLayersModel(hosted.handler);
      expect((fromHttp.predict(probe) as tf.Tensor).dataSync()).toEqual(expected);
    } finally {
      server.server.close();
    }
  });

  it('reports a directory without model.json as a model load error', async () => {
    const error = await caught(
      directoryHandler(mkdtempSync(join(tmpdir(), 'imgcls-empty-'))).load?.() as Promise<unknown>,
    );
    expect(error.code).toBe('MODEL_LOAD_FAILED');
  });
});
