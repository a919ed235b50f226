import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImgclsError } from '@imgcls/preprocess';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CIFAR_RECORD_BYTES,
  isCifar10BinaryArchive,
  loadCifar10,
  readCifar10Archive,
} from '../src/index';

const CLASSES = ['plane', 'car', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

/** Record `n` of batch `b`: label (n + b) mod 10; pixel p of channel c = (b·40 + n·7 + c·50 + p) mod 256. */
function batchFile(batch: number, records: number): Uint8Array {
  const bytes = new Uint8Array(records * CIFAR_RECORD_BYTES);
  for (let n = 0; n < records; n++) {
    const offset = n * CIFAR_RECORD_BYTES;
    bytes[offset] = (n + batch) % 10;
    for (let channel = 0; channel < 3; channel++)
      for (let pixel = 0; pixel < 1024; pixel++)
        bytes[offset + 1 + channel * 1024 + pixel] =
          (batch * 40 + n * 7 + channel * 50 + pixel) % 256;
  }
  return bytes;
}

/** A synthetic archive laid out as the official one, written by the system's tar. */
function officialLayout(folder: string, options: { omit?: string } = {}): string {
  const root = join(folder, 'cifar-10-batches-bin');
  mkdirSync(root, { recursive: true });
  for (let batch = 1; batch <= 5; batch++) {
    if (options.omit !== `data_batch_${batch}.bin`)
      writeFileSync(join(root, `data_batch_${batch}.bin`), batchFile(batch, 3));
  }
  writeFileSync(join(root, 'test_batch.bin'), batchFile(6, 2));
  writeFileSync(join(root, 'batches.meta.txt'), `${CLASSES.join('\n')}\n\n`);
  writeFileSync(join(root, 'readme.html'), '<p>synthetic</p>');
  const archive = join(folder, 'cifar-10-binary.tar.gz');
  execFileSync('tar', ['-czf', archive, '-C', folder, 'cifar-10-batches-bin']);
  return archive;
}

const md5 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('hex');

async function codeOf(action: Promise<unknown>): Promise<string | undefined> {
  const error = await action.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  return ImgclsError.isInstance(error) ? error.code : String(error);
}

describe('CIFAR-10 binary archive', () => {
  const folder = mkdtempSync(join(tmpdir(), 'imgcls-cifar-'));
  const archive = officialLayout(folder);
  const bytes = readFileSync(archive);
  /** What the server answers per path: bytes, and optionally a Content-Length that lies (cut transfer). */
  const routes = new Map<string, { body: Uint8Array; claimedLength?: number }>();
  let hits = 0;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    server = createServer((request, response) => {
      hits++;
      const route = routes.get(request.url ?? '');
      if (!route) {
        response.writeHead(404).end();
        return;
      }
      response.writeHead(200, {
        'content-length': String(route.claimedLength ?? route.body.length),
      });
      if (route.claimedLength !== undefined) {
        response.write(route.body);
        response.destroy();
      } else response.end(route.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('reads the five training batches in order and the test batch, channels last', async () => {
    const { train, test } = await readCifar10Archive(archive);
    expect([train.count, test.count]).toEqual([15, 2]);
    expect(train.classes).toEqual(CLASSES);
    // Training image 4 is record 1 of data_batch_2: label 3; pixel 10 is (80 + 7 + 10, +50, +100).
    expect(train.labels[4]).toBe(3);
    expect(Array.from(train.pixels.subarray(4 * 3072 + 30, 4 * 3072 + 33))).toEqual([97, 147, 197]);
    expect(Array.from(test.labels)).toEqual([6, 7]);
    expect([train.height, train.width]).toEqual([32, 32]);
  });

  it('tells the binary archive from an image-folder archive by its first file', async () => {
    expect(await isCifar10BinaryArchive(archive)).toBe(true);
    const other = mkdtempSync(join(tmpdir(), 'imgcls-not-cifar-'));
    mkdirSync(join(other, 'set', 'train', 'cat'), { recursive: true });
    writeFileSync(join(other, 'set', 'train', 'cat', '0.png'), 'x');
    execFileSync('tar', ['-czf', join(other, 'set.tar.gz'), '-C', other, 'set']);
    expect(await isCifar10BinaryArchive(join(other, 'set.tar.gz'))).toBe(false);
  });

  it('downloads once with the MD5 checked, then serves the cache, also offline', async () => {
    routes.set('/good/cifar-10-binary.tar.gz', { body: bytes });
    const cacheDir = mkdtempSync(join(tmpdir(), 'imgcls-cifar-cache-'));
    const source = { url: `${base}/good/cifar-10-binary.tar.gz`, md5: md5(bytes) };
    const before = hits;
    const first = await loadCifar10({ source, cacheDir });
    expect(first.train.count).toBe(15);
    expect(hits - before).toBe(1);
    const again = await loadCifar10({ source, cacheDir, offline: true });
    expect(hits - before).toBe(1);
    expect(again.archivePath).toBe(first.archivePath);
    expect(Array.from(again.train.pixels)).toEqual(Array.from(first.train.pixels));
  });

  it('refuses a download with the wrong MD5 and caches nothing', async () => {
    routes.set('/tampered/cifar-10-binary.tar.gz', { body: bytes });
    const cacheDir = mkdtempSync(join(tmpdir(), 'imgcls-cifar-cache-'));
    const source = { url: `${base}/tampered/cifar-10-binary.tar.gz`, md5: '0'.repeat(32) };
    expect(await codeOf(loadCifar10({ source, cacheDir }))).toBe('CHECKSUM_MISMATCH');
    expect(readdirSync(cacheDir)).toEqual([]);
  });

  it('reports a transfer cut short or a missing file as a download error telling how to supply it', async () => {
    routes.set('/cut/cifar-10-binary.tar.gz', {
      body: bytes.subarray(0, 1000),
      claimedLength: bytes.length,
    });
    const cacheDir = mkdtempSync(join(tmpdir(), 'imgcls-cifar-cache-'));
    const source = { url: `${base}/cut/cifar-10-binary.tar.gz`, md5: md5(bytes) };
    expect(await codeOf(loadCifar10({ source, cacheDir }))).toBe('DATASET_DOWNLOAD_FAILED');
    expect(readdirSync(cacheDir)).toEqual([]);
    const missing = { url: `${base}/nowhere/cifar-10-binary.tar.gz`, md5: md5(bytes) };
    const error = await loadCifar10({ source: missing, cacheDir }).catch(
      (thrown: unknown) => thrown,
    );
    expect((error as Error).message).toMatch(/HTTP 404.*readCifar10Archive\(path\)/);
  });

  it('rejects truncated and corrupt archives that match their checksum with DATASET_FORMAT', async () => {
    const truncated = bytes.subarray(0, Math.floor(bytes.length / 2));
    const corrupt = Buffer.from(bytes);
    for (let i = 200; i < 400; i++) corrupt[i] = (corrupt[i] as number) ^ 0x5a;
    for (const [name, body] of [
      ['truncated', truncated],
      ['corrupt', corrupt],
    ] as const) {
      routes.set(`/${name}/cifar-10-binary.tar.gz`, { body });
      const cacheDir = mkdtempSync(join(tmpdir(), 'imgcls-cifar-cache-'));
      const source = { url: `${base}/${name}/cifar-10-binary.tar.gz`, md5: md5(body) };
      expect(await codeOf(loadCifar10({ source, cacheDir })), name).toBe('DATASET_FORMAT');
    }
  });

  it('names the missing batch files of an incomplete archive', async () => {
    const incomplete = officialLayout(mkdtempSync(join(tmpdir(), 'imgcls-cifar-')), {
      omit: 'data_batch_3.bin',
    });
    const error = await readCifar10Archive(incomplete).catch((thrown: unknown) => thrown);
    expect(ImgclsError.isInstance(error, 'DATASET_FORMAT')).toBe(true);
    expect((error as Error).message).toContain('lacks data_batch_3.bin');
  });

  it('fails offline with an empty cache, without touching the network', async () => {
    const before = hits;
    const cacheDir = mkdtempSync(join(tmpdir(), 'imgcls-cifar-cache-'));
    const source = { url: `${base}/good/cifar-10-binary.tar.gz`, md5: md5(bytes) };
    expect(await codeOf(loadCifar10({ source, cacheDir, offline: true }))).toBe('OFFLINE');
    expect(hits).toBe(before);
  });
});
