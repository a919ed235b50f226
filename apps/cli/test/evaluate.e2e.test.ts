import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CIFAR10_LABELS } from '@imgcls/models';
import { directoryHandler, writeMetadata } from '@imgcls/models/node';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { sharedData } from '../../../tooling/test-data';

const builtCli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

function run(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const result = spawnSync(process.execPath, [builtCli, ...args], {
    encoding: 'utf8',
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    timeout: 300_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** No stack trace reaches the user: Node prints frames as "    at …". */
const noStack = (text: string) => expect(text).not.toMatch(/^\s+at /m);

/**
 * A model that tells light images from dark ones by their mean brightness v (0..1): logits
 * [3v − 1.5, −3v + 1.5] for the labels [light, dark], so P(light) = σ(6v − 3).
 */
async function saveLightDarkModel(directory: string, invert = false): Promise<void> {
  const input = tfl.input({ shape: [8, 8, 3] });
  const pooled = tfl.layers.globalAveragePooling2d({}).apply(input) as tfl.SymbolicTensor;
  const dense = tfl.layers.dense({ units: 2, activation: 'softmax', name: 'predictions' });
  const output = dense.apply(pooled) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: output });
  const sign = invert ? -1 : 1;
  dense.setWeights([
    tf.tensor2d(
      [1, -1, 1, -1, 1, -1].map((w) => w * sign),
      [3, 2],
    ),
    tf.tensor1d([-1.5 * sign, 1.5 * sign]),
  ]);
  await model.save(directoryHandler(directory));
  await writeMetadata(directory, {
    schemaVersion: 1,
    id: invert ? 'inverted' : 'light-dark',
    name: 'Light or dark',
    version: '1',
    format: 'layers-model',
    labels: ['light', 'dark'],
    output: 'probabilities',
    preset: { height: 8, width: 8, resize: 'stretch', range: [0, 1] },
  });
}

async function writeGrey(path: string, shade: number): Promise<void> {
  const image = sharp({
    create: { width: 12, height: 10, channels: 3, background: { r: shade, g: shade, b: shade } },
  });
  writeFileSync(path, await image.png().toBuffer());
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

describe('imgcls evaluate, compare, bench and models verify/pull (spawned binary)', () => {
  let work: string;
  let model: string;
  let inverted: string;
  let data: string;

  beforeAll(async () => {
    await tf.setBackend('wasm');
    work = mkdtempSync(join(tmpdir(), 'imgcls-cli-eval-'));
    model = join(work, 'light-dark');
    inverted = join(work, 'inverted');
    await saveLightDarkModel(model);
    await saveLightDarkModel(inverted, true);
    // test/dark holds 4 dark images and one light one (a labelling mistake); test/light 4 light ones.
    data = join(work, 'data');
    for (const folder of ['test/dark', 'test/light', 'train/dark'])
      mkdirSync(join(data, folder), { recursive: true });
    for (let index = 0; index < 4; index++) {
      await writeGrey(join(data, 'test/dark', `d${index}.png`), 10);
      await writeGrey(join(data, 'test/light', `l${index}.png`), 250);
    }
    await writeGrey(join(data, 'test/dark', 'mislabelled.png'), 250);
    await writeGrey(join(data, 'train/dark', 'ignored.png'), 250);
  }, 120_000);

  it('evaluates a folder: report, charts as SVG and PNG, HTML, and the numbers worked out by hand', async () => {
    const out = join(work, 'evaluation');
    const { code, stdout, stderr } = run([
      'evaluate',
      '--model',
      model,
      '--data',
      data,
      '--out',
      out,
      '--html',
      '--json',
    ]);
    expect(code, stderr).toBe(0);
    const result = JSON.parse(stdout);
    // Dataset classes are the sorted folder names: dark = 0, light = 1 (the model's order is reversed).
    expect(result.data.classes).toEqual(['dark', 'light']);
    expect(result.alignment.kind).toBe('reordered');
    const evaluation = result.evaluation;
    expect(evaluation.examples).toBe(9);
    expect(evaluation.accuracy).toBeCloseTo(8 / 9, 10);
    expect(evaluation.confusion.counts).toEqual([4, 1, 0, 4]);
    // precision(dark) = 4/4, recall(dark) = 4/5; precision(light) = 4/5, recall(light) = 4/4.
    expect(evaluation.scores.perClass[0].recall).toBeCloseTo(0.8, 10);
    expect(evaluation.scores.perClass[1].precision).toBeCloseTo(0.8, 10);
    const worst = evaluation.worst[0];
    expect(worst.id).toMatch(/mislabelled\.png$/);
    expect(worst.trueClassProbability).toBeCloseTo(1 - sigmoid(6 * (250 / 255) - 3), 4);
    expect(evaluation.confidence.wrong.count).toBe(1);
    expect(evaluation.latencyMs.p50).toBeGreaterThan(0);
    for (const chart of ['confusion-matrix', 'reliability', 'per-class-f1']) {
      expect(readFileSync(join(out, `${chart}.svg`), 'utf8')).toMatch(/^<svg /);
      const png = await sharp(join(out, `${chart}.png`)).metadata();
      expect(png.format).toBe('png');
      expect(png.width).toBeGreaterThan(100);
    }
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/<script|src="http/);
    expect(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')).evaluation.examples).toBe(9);
  });

  it('prints a plain-text report without colours when piped', () => {
    const { code, stdout } = run([
      'evaluate',
      '--model',
      model,
      '--data',
      join(data, 'test'),
      '--out',
      join(work, 'text'),
    ]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/precision\s+recall\s+f1-score\s+support/);
    expect(stdout).toMatch(/accuracy 88\.89%/);
    expect(stdout).toMatch(/most confused: dark → light 1/);
    expect(stdout).not.toContain('\u001b[');
  });

  it('rejects bad input with a message, a hint, a non-zero exit code and no stack trace', async () => {
    const missing = run(['evaluate', '--model', model, '--data', join(work, 'nope')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/error: no dataset at .*\nhint: /);
    noStack(missing.stderr);

    const badLimit = run(['evaluate', '--model', model, '--data', data, '--limit', '0']);
    expect(badLimit.code).toBe(2);
    expect(badLimit.stderr).toMatch(/--limit must be an integer of at least 1/);

    const animals = join(work, 'animals');
    mkdirSync(join(animals, 'cat'), { recursive: true });
    await writeGrey(join(animals, 'cat', 'c.png'), 100);
    const mismatch = run(['evaluate', '--model', model, '--data', animals]);
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toMatch(/no label for the dataset class "cat"/);
    expect(mismatch.stderr).toMatch(/hint: rename the dataset class folders/);
    noStack(mismatch.stderr);

    const noModel = run(['evaluate', '--model', 'no-such-model', '--data', data]);
    expect(noModel.code).toBe(1);
    expect(noModel.stderr).toMatch(/hint: run `imgcls models list`/);
    noStack(noModel.stderr);
  });

  it('compares two models on the same images: table, JSON and a Markdown report with its charts', () => {
    const markdown = join(work, 'report', 'COMPARISON.md');
    const { code, stdout, stderr } = run([
      'compare',
      '--models',
      `${model},${inverted}`,
      '--data',
      data,
      '--markdown',
      markdown,
      '--json',
    ]);
    expect(code, stderr).toBe(0);
    const { rows } = JSON.parse(stdout);
    expect(rows.map((row: { name: string }) => row.name)).toEqual(['light-dark', 'inverted']);
    expect(rows[0].accuracy).toBeCloseTo(8 / 9, 10);
    expect(rows[1].accuracy).toBeCloseTo(1 / 9, 10);
    expect(rows[0].parameters).toBe(8);
    expect(rows[0].sizeOnDiskBytes).toBeGreaterThan(0);
    const text = readFileSync(markdown, 'utf8');
    expect(text).toMatch(/\| model \| accuracy \| macro F1 \| ECE \|/);
    expect(text).toMatch(/\| light-dark \| 88\.89% \|/);
    expect(text).toMatch(/- command: `imgcls compare --models /);
    expect(text).toMatch(/- model: `.*light-dark` \(Light or dark\)/);
    for (const name of ['light-dark', 'inverted'])
      for (const chart of ['confusion-matrix', 'reliability', 'per-class-f1']) {
        expect(text).toContain(`](comparison/${name}-${chart}.svg)`);
        expect(existsSync(join(work, 'report', 'comparison', `${name}-${chart}.svg`))).toBe(true);
      }
  });

  it('benchmarks a model and names the backend', () => {
    const { code, stdout } = run([
      'bench',
      '--model',
      model,
      '--runs',
      '3',
      '--batch-size',
      '4',
      '--json',
    ]);
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(result.backend).toBe('wasm');
    expect(result.batch1.runs).toBe(3);
    expect(result.batch1.p95Ms).toBeGreaterThanOrEqual(result.batch1.p50Ms);
    expect(result.batchN).toMatchObject({ batchSize: 4, runs: 3 });
    expect(result.batchN.imagesPerSecond).toBeGreaterThan(0);
  });

  it('verifies a model folder, records its checksum, and fails on truncated weights', () => {
    const copy = join(work, 'verify-me');
    mkdirSync(copy);
    for (const file of ['model.json', 'weights.bin', 'metadata.json'])
      writeFileSync(join(copy, file), readFileSync(join(model, file)));
    const sha256 = createHash('sha256')
      .update(readFileSync(join(copy, 'weights.bin')))
      .digest('hex');

    const recorded = run(['models', 'verify', copy, '--record']);
    expect(recorded.code, recorded.stdout).toBe(0);
    expect(JSON.parse(readFileSync(join(copy, 'metadata.json'), 'utf8')).weightsSha256).toBe(
      sha256,
    );
    const again = run(['models', 'verify', copy, '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ ok: true, weightsSha256: sha256 });

    truncateSync(join(copy, 'weights.bin'), 8);
    const broken = run(['models', 'verify', copy]);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(
      /FAIL weight sizes: the shards hold 8 bytes, the weight specs need 32/,
    );
    expect(broken.stdout).toMatch(/FAIL weightsSha256: metadata.json records/);
  });

  it('pulls a model from a URL into the cache with checksums, and fails clearly when unreachable', async () => {
    const { createServer } = await import('node:http');
    const server = createServer((request, response) => {
      const file = join(model, (request.url ?? '/').replace(/^\/model\//, ''));
      if (!request.url?.startsWith('/model/') || !existsSync(file)) {
        response.writeHead(404).end();
        return;
      }
      response.writeHead(200).end(readFileSync(file));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const cacheDir = join(work, 'cache');
    // spawnSync would block the server in this process: run the CLI asynchronously.
    const { spawn } = await import('node:child_process');
    const pulled = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        [
          builtCli,
          'models',
          'pull',
          `http://127.0.0.1:${port}/model/model.json`,
          '--cache-dir',
          cacheDir,
          '--json',
        ],
        { env: { ...process.env, NO_COLOR: '1' } },
      );
      let stdout = '';
      child.stdout.on('data', (chunk) => {
        stdout += chunk;
      });
      child.on('close', (code) => resolve({ code, stdout }));
    });
    server.close();
    expect(pulled.code).toBe(0);
    const { files, metadata, pinned } = JSON.parse(pulled.stdout);
    expect(metadata).toBe(true);
    expect(pinned).toBe('nothing');
    // model.json, weights.bin and metadata.json, none of them pinned (a URL has no registry entry).
    expect(files).toHaveLength(3);
    for (const file of files as Array<{ url: string; sha256: string }>) {
      const original = readFileSync(join(model, new URL(file.url).pathname.replace('/model/', '')));
      expect(file.sha256).toBe(createHash('sha256').update(original).digest('hex'));
    }

    const unreachable = run([
      'models',
      'pull',
      'http://127.0.0.1:9/model.json',
      '--cache-dir',
      cacheDir,
    ]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/error: Cannot reach http:\/\/127\.0\.0\.1:9\/model\.json/);
    expect(unreachable.stderr).toMatch(/hint: check the network connection/);
    noStack(unreachable.stderr);
  });
});

const cifar = sharedData('cifar10/cifar10-jpg.tar.gz');
const mobilenet = sharedData('mobilenet-v2/mobilenet_v2_1.0_224_quant.tflite');
const imagenetLabels = sharedData('mobilenet-v2/imagenet_labels.txt');

describe.skipIf(!cifar)('imgcls evaluate on the real CIFAR-10 test images', () => {
  it('evaluates the shipped seed CNN on a stratified subset', () => {
    const { code, stdout, stderr } = run([
      'evaluate',
      '--model',
      'models/cifar10-seedcnn',
      '--data',
      cifar as string,
      '--limit',
      '50',
      '--out',
      mkdtempSync(join(tmpdir(), 'imgcls-cli-seed-')),
      '--json',
    ]);
    expect(code, stderr).toBe(0);
    const { data, alignment, evaluation } = JSON.parse(stdout);
    expect(data.classes).toEqual([...CIFAR10_LABELS]);
    expect(alignment.kind).toBe('identical');
    expect(evaluation.examples).toBe(50);
    // Stratified: 5 images of every class.
    expect(evaluation.scores.perClass.map((scores: { support: number }) => scores.support)).toEqual(
      new Array(10).fill(5),
    );
  });

  it.skipIf(!mobilenet || !imagenetLabels)(
    'scores the ImageNet MobileNetV2 zero-shot through the ImageNet → CIFAR-10 mapping',
    () => {
      const { code, stdout, stderr } = run([
        'evaluate',
        '--model',
        mobilenet as string,
        '--labels',
        imagenetLabels as string,
        '--data',
        cifar as string,
        '--limit',
        '20',
        '--out',
        mkdtempSync(join(tmpdir(), 'imgcls-cli-zero-shot-')),
      ]);
      expect(code, stderr).toBe(0);
      expect(stdout).toMatch(/\(zero-shot\) on 20 images/);
      expect(stdout).toMatch(/mapping: zero-shot: 216 of the 1000 ImageNet classes/);
      expect(stdout).toMatch(/deer has no ImageNet counterpart/);
      expect(stdout).toMatch(
        /on average \d+\.\d\d% of the probability fell on the dataset's classes/,
      );
      // Deer is never predicted: its precision, recall and F1 are 0.
      expect(stdout).toMatch(/deer\s+0\.000\s+0\.000\s+0\.000\s+2/);
    },
  );
});
