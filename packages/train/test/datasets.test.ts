import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImgclsError } from '@imgcls/preprocess';
import { describe, expect, it } from 'vitest';
import { sharedData } from '../../../tooling/test-data';
import { CIFAR_RECORD_BYTES, parseCifarBinary, readTar } from '../src/index';

/** A CIFAR-10 record whose pixel p of channel c holds (c·50 + p) mod 256, with the given label. */
function record(label: number): Uint8Array {
  const bytes = new Uint8Array(CIFAR_RECORD_BYTES);
  bytes[0] = label;
  for (let channel = 0; channel < 3; channel++) {
    for (let pixel = 0; pixel < 1024; pixel++)
      bytes[1 + channel * 1024 + pixel] = (channel * 50 + pixel) % 256;
  }
  return bytes;
}

async function collect(path: string) {
  const entries = [];
  for await (const entry of readTar(path)) entries.push(entry);
  return entries;
}

async function errorCode(action: Promise<unknown>): Promise<string | undefined> {
  const error = await action.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  return ImgclsError.isInstance(error) ? error.code : String(error);
}

describe('CIFAR-10 binary format', () => {
  it('reads labels and converts channel-major pixels to channels-last', () => {
    const bytes = new Uint8Array([...record(3), ...record(9)]);
    const batch = parseCifarBinary(bytes);
    expect(batch.count).toBe(2);
    expect(Array.from(batch.labels)).toEqual([3, 9]);
    // Pixel 5 of image 0: red 5, green 55, blue 105.
    expect(Array.from(batch.images.subarray(15, 18))).toEqual([5, 55, 105]);
    expect(Array.from(batch.images.subarray(3072 + 15, 3072 + 18))).toEqual([5, 55, 105]);
  });

  it('rejects truncated batches and impossible labels', () => {
    expect(() => parseCifarBinary(record(1).subarray(0, 3000))).toThrow(/truncated/);
    expect(() => parseCifarBinary(record(12))).toThrow(/label 12/);
    try {
      parseCifarBinary(new Uint8Array(0));
    } catch (error) {
      expect(ImgclsError.isInstance(error, 'DATASET_FORMAT')).toBe(true);
    }
  });
});

describe('readTar', () => {
  const folder = mkdtempSync(join(tmpdir(), 'imgcls-tar-'));
  const longName = `${'nested-folder-name/'.repeat(6)}data_batch_1.bin`;
  mkdirSync(join(folder, 'src', ...longName.split('/').slice(0, -1)), { recursive: true });
  writeFileSync(join(folder, 'src', 'batches.meta.txt'), 'airplane\nautomobile\n');
  writeFileSync(join(folder, 'src', longName), new Uint8Array([...record(4), ...record(7)]));
  const archive = join(folder, 'cifar.tar.gz');
  // Written by the system's tar (GNU format), an implementation independent of ours.
  execFileSync('tar', ['-czf', archive, '-C', join(folder, 'src'), '.']);

  it('streams every regular file, including names longer than 100 characters', async () => {
    const entries = await collect(archive);
    const names = entries.map((entry) => entry.name.replace(/^\.\//, '')).sort();
    expect(names).toEqual(['batches.meta.txt', longName]);
    const batch = entries.find((entry) => entry.name.endsWith('data_batch_1.bin'));
    expect(parseCifarBinary(batch?.data as Uint8Array).count).toBe(2);
  });

  it('rejects truncated archives and non-gzip data with DATASET_FORMAT errors', async () => {
    const tar = join(folder, 'plain.tar');
    execFileSync('tar', ['-cf', tar, '-C', join(folder, 'src'), '.']);
    const bytes = readFileSync(tar);
    const truncated = join(folder, 'truncated.tar');
    writeFileSync(truncated, bytes.subarray(0, 1500));
    expect(await errorCode(collect(truncated))).toBe('DATASET_FORMAT');
    const corruptHeader = join(folder, 'corrupt.tar');
    const damaged = Buffer.from(bytes);
    damaged[100] = (damaged[100] as number) ^ 0xff;
    writeFileSync(corruptHeader, damaged);
    expect(await errorCode(collect(corruptHeader))).toBe('DATASET_FORMAT');
    const notGzip = join(folder, 'fake.tar.gz');
    writeFileSync(notGzip, 'this is not gzip data at all');
    expect(await errorCode(collect(notGzip))).toBe('DATASET_FORMAT');
  });

  const realArchive = sharedData('cifar10/cifar10-jpg.tar.gz');
  it.skipIf(!realArchive)('streams the real CIFAR-10 JPEG archive', async () => {
    const seen: string[] = [];
    for await (const entry of readTar(realArchive as string)) {
      seen.push(entry.name);
      expect([0xff, 0xd8]).toEqual(Array.from(entry.data.subarray(0, 2)));
      if (seen.length === 50) break;
    }
    expect(seen.every((name) => /^cifar10\/(train|test)\/[a-z]+\/\d+\.jpg$/.test(name))).toBe(true);
  });
});
