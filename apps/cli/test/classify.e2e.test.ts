import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { directoryHandler, writeMetadata } from '@imgcls/models/node';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';

const builtCli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, [builtCli, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ...env },
    timeout: 120_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('imgcls classify (spawned binary)', () => {
  let modelDir: string;
  let photos: string;

  beforeAll(async () => {
    await tf.setBackend('wasm');
    const input = tfl.input({ shape: [8, 8, 3] });
    const pooled = tfl.layers.globalAveragePooling2d({}).apply(input) as tfl.SymbolicTensor;
    const output = tfl.layers
      .dense({ units: 2, activation: 'softmax', name: 'predictions', kernelInitializer: 'ones' })
      .apply(pooled) as tfl.SymbolicTensor;
    modelDir = mkdtempSync(join(tmpdir(), 'imgcls-cli-model-'));
    await tfl.model({ inputs: input, outputs: output }).save(directoryHandler(modelDir));
    await writeMetadata(modelDir, {
      schemaVersion: 1,
      id: 'two-class',
      name: 'Two classes',
      version: '1',
      format: 'layers-model',
      labels: ['light', 'dark'],
      output: 'probabilities',
      preset: { height: 8, width: 8, resize: 'stretch', range: [0, 1] },
    });
    photos = mkdtempSync(join(tmpdir(), 'imgcls-cli-photos-'));
    for (const [name, shade] of [
      ['a.png', 250],
      ['b.jpg', 10],
    ] as const) {
      const image = sharp({
        create: {
          width: 16,
          height: 12,
          channels: 3,
          background: { r: shade, g: shade, b: shade },
        },
      });
      writeFileSync(
        join(photos, name),
        await (name.endsWith('png') ? image.png() : image.jpeg()).toBuffer(),
      );
    }
    writeFileSync(join(photos, 'broken.png'), 'definitely not a png');
  });

  it('classifies a folder, streams one JSON line per image, reports the bad file and exits 1', () => {
    const { code, stdout, stderr } = run([
      'classify',
      photos,
      '--model',
      modelDir,
      '--json',
      '--top-k',
      '2',
    ]);
    const lines = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.map((line) => line.input.split('/').pop())).toEqual([
      'a.png',
      'b.jpg',
      'broken.png',
    ]);
    expect(lines[0].predictions).toHaveLength(2);
    expect(lines[2].error.code).toBe('INVALID_IMAGE');
    expect(stderr).toContain('1 input(s) could not be classified');
    expect(code).toBe(1);
  });

  it('writes CSV and exits 0 when every input works', () => {
    const { code, stdout } = run([
      'classify',
      join(photos, 'a.png'),
      '--model',
      modelDir,
      '--csv',
      '-k',
      '1',
      '--quiet',
    ]);
    const rows = stdout.trim().split('\n');
    expect(rows[0]).toBe('input,rank,label,index,probability,error');
    expect(rows).toHaveLength(2);
    expect(code).toBe(0);
  });

  it('explains usage errors with exit code 2 and unknown models without a stack trace', () => {
    const usage = run(['classify', join(photos, 'a.png'), '--top-k', 'zero']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--top-k must be an integer of at least 1');
    const unknown = run(['classify', join(photos, 'a.png'), '--model', 'resnet-1000']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/error: No model is registered as "resnet-1000"/);
    expect(unknown.stderr).toContain('hint: run `imgcls models list`');
    expect(unknown.stderr).not.toMatch(/\n\s+at /);
  });

  it('runs wasm on the threads asked for (--threads or IMGCLS_THREADS) with the same results', () => {
    const args = ['classify', join(photos, 'a.png'), '--model', modelDir, '--json', '-k', '2'];
    const one = run(['--threads', '1', ...args]);
    const two = run(args, { IMGCLS_THREADS: '2' });
    expect(one.stderr).toContain('on wasm (1 thread)');
    expect(two.stderr).toContain('on wasm (2 threads)');
    expect(two.code).toBe(0);
    expect(JSON.parse(two.stdout).predictions).toEqual(JSON.parse(one.stdout).predictions);
    const bad = run(['--threads', '9', ...args]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--threads must be auto or an integer from 1 to 8, got "9"');
  });

  it('lists the registry', () => {
    const { code, stdout } = run(['models', 'list', '--json']);
    expect(code).toBe(0);
    expect(JSON.parse(stdout).map((entry: { id: string }) => entry.id)).toContain('mobilenet-v2');
  });
});
