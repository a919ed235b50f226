import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type ModelCheck, verifyModelDirectory, weightsSha256 } from '../src/node';

// Weights worked out by hand: float32 [2, 3] = 24 bytes, uint8-quantised [4] = 4, float16-quantised [3] = 6:
// 34 bytes over two shards of 20 and 14 bytes.
const weights = [
  { name: 'dense/kernel', shape: [2, 3], dtype: 'float32' },
  {
    name: 'conv/kernel',
    shape: [4],
    dtype: 'float32',
    quantization: { dtype: 'uint8', scale: 0.1, min: -1 },
  },
  { name: 'conv/bias', shape: [3], dtype: 'float32', quantization: { dtype: 'float16' } },
];
const shardA = Uint8Array.from({ length: 20 }, (_, index) => index);
const shardB = Uint8Array.from({ length: 14 }, (_, index) => 200 - index);
const expectedSha = createHash('sha256').update(shardA).update(shardB).digest('hex');

function modelFolder(options: { weightsSha256?: string; shardB?: Uint8Array } = {}): string {
  const directory = mkdtempSync(join(tmpdir(), 'imgcls-verify-'));
  writeFileSync(
    join(directory, 'model.json'),
    JSON.stringify({
      modelTopology: { class_name: 'Sequential' },
      weightsManifest: [{ paths: ['a.bin', 'b.bin'], weights }],
    }),
  );
  writeFileSync(join(directory, 'a.bin'), shardA);
  writeFileSync(join(directory, 'b.bin'), options.shardB ?? shardB);
  writeFileSync(
    join(directory, 'metadata.json'),
    JSON.stringify({
      schemaVersion: 1,
      id: 'tiny',
      name: 'Tiny',
      version: '1',
      format: 'layers-model',
      labels: ['a', 'b', 'c'],
      output: 'probabilities',
      preset: { height: 8, width: 8, resize: 'stretch', range: [0, 1] },
      ...(options.weightsSha256 ? { weightsSha256: options.weightsSha256 } : {}),
    }),
  );
  return directory;
}

const checkNamed = (checks: readonly ModelCheck[], name: string) =>
  checks.find((check) => check.name === name);

describe('verifyModelDirectory', () => {
  it('hashes the shards in manifest order', async () => {
    expect(await weightsSha256(modelFolder())).toBe(expectedSha);
  });

  it('passes a complete folder, counting quantised weights at their stored size', async () => {
    const result = await verifyModelDirectory(modelFolder({ weightsSha256: expectedSha }));
    expect(result.ok).toBe(true);
    expect(result.weightsSha256).toBe(expectedSha);
    expect(checkNamed(result.checks, 'weight sizes')?.detail).toMatch(/^34 bytes/);
    expect(checkNamed(result.checks, 'weightsSha256')?.detail).toBe(`matches ${expectedSha}`);
  });

  it('reports a checksum that is not recorded without failing', async () => {
    const result = await verifyModelDirectory(modelFolder());
    expect(result.ok).toBe(true);
    expect(checkNamed(result.checks, 'weightsSha256')?.detail).toMatch(/not recorded/);
  });

  it('fails a shard of the wrong length and a changed shard', async () => {
    const truncated = await verifyModelDirectory(
      modelFolder({ weightsSha256: expectedSha, shardB: shardB.subarray(0, 10) }),
    );
    expect(truncated.ok).toBe(false);
    expect(checkNamed(truncated.checks, 'weight sizes')).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/hold 30 bytes, the weight specs need 34/),
    });
    const changed = shardB.slice();
    changed[0] = 0;
    const tampered = await verifyModelDirectory(
      modelFolder({ weightsSha256: expectedSha, shardB: changed }),
    );
    expect(checkNamed(tampered.checks, 'weight sizes')?.ok).toBe(true);
    expect(checkNamed(tampered.checks, 'weightsSha256')).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/changed or corrupted/),
    });
  });

  it('fails a folder without model.json or with invalid metadata, without throwing', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'imgcls-verify-empty-'));
    const result = await verifyModelDirectory(empty);
    expect(result.ok).toBe(false);
    expect(checkNamed(result.checks, 'model.json')?.ok).toBe(false);
    expect(checkNamed(result.checks, 'metadata.json')?.ok).toBe(false);
    expect(result.weightsSha256).toBeUndefined();
  });
});
