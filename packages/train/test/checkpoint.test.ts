import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint, saveCheckpoint } from '../src/index';

const POSITION = { step: 3, epoch: 0, batchInEpoch: 3 } as const;

describe('saveCheckpoint', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('round-trips tensors and the position', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'imgcls-checkpoint-'));
    const weights = tf.tensor1d([1.5, -2, 3]);
    await saveCheckpoint(directory, POSITION, 'key', new Map([['w', weights]]));
    const loaded = await loadCheckpoint(directory, 'key');
    expect(loaded?.position).toMatchObject(POSITION);
    expect(Array.from(loaded?.tensors.get('w')?.dataSync() ?? [])).toEqual([1.5, -2, 3]);
    tf.dispose([weights, ...(loaded?.tensors.values() ?? [])]);
  });

  it('leaves no temporary file behind when a write fails, and the previous checkpoint whole', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'imgcls-checkpoint-'));
    const weights = tf.tensor1d([1, 2]);
    await saveCheckpoint(directory, POSITION, 'key', new Map([['w', weights]]));
    // A directory where the next weights file goes: the rename onto it fails after the temporary is written.
    mkdirSync(join(directory, 'weights-4.bin'));
    writeFileSync(join(directory, 'weights-4.bin', 'occupied'), '');
    await expect(
      saveCheckpoint(directory, { ...POSITION, step: 4 }, 'key', new Map([['w', weights]])),
    ).rejects.toThrow();
    expect(readdirSync(directory).filter((file) => file.endsWith('.tmp'))).toEqual([]);
    const loaded = await loadCheckpoint(directory, 'key');
    expect(loaded?.position.step).toBe(3);
    tf.dispose([weights, ...(loaded?.tensors.values() ?? [])]);
  });
});
