import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli';

const builtCli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

describe('imgcls train (spawned binary)', () => {
  let workspace: string;
  beforeAll(async () => {
    workspace = mkdtempSync(join(tmpdir(), 'imgcls-train-'));
    const colours: Record<string, [number, number, number]> = {
      cat: [200, 30, 30],
      dog: [30, 200, 30],
      ship: [30, 30, 200],
    };
    for (const split of ['train', 'test']) {
      for (const [name, [r, g, b]] of Object.entries(colours)) {
        mkdirSync(join(workspace, 'set', split, name), { recursive: true });
        for (let i = 0; i < (split === 'train' ? 30 : 6); i++) {
          const jpeg = await sharp({
            create: {
              width: 16,
              height: 16,
              channels: 3,
              background: { r: r - i, g: g - i, b: b - i },
            },
          })
            .jpeg()
            .toBuffer();
          writeFileSync(join(workspace, 'set', split, name, `${i}.jpg`), jpeg);
        }
      }
    }
    execFileSync('tar', ['-czf', join(workspace, 'set.tar.gz'), '-C', workspace, 'set']);
  });

  it('stops cleanly on Ctrl-C with a checkpoint, then resumes and finishes with a test report', async () => {
    const args = [
      'train',
      '--data',
      'set.tar.gz',
      '--arch',
      'seedcnn',
      '--epochs',
      '12',
      '--batch-size',
      '4',
      '--out',
      'models/tiny',
    ];
    // An earlier, longer run left its history (and a line cut short) in the folder: the new run replaces it.
    mkdirSync(join(workspace, 'models/tiny'), { recursive: true });
    const stale = Array.from({ length: 20 }, (_, i) => JSON.stringify({ epoch: i + 1, loss: 9 }));
    writeFileSync(join(workspace, 'models/tiny/history.jsonl'), `${stale.join('\n')}\n{"epoch": 3`);
    const interrupted = await runCli(args, workspace, /epoch 1\/12/);
    expect(interrupted.code).toBe(130);
    expect(interrupted.stderr).toMatch(/interrupted at step \d+: checkpoint saved/);
    expect(existsSync(join(workspace, 'models/tiny/checkpoint/checkpoint.json'))).toBe(true);

    const resumed = await runCli([...args, '--resume'], workspace);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resumed from .*checkpoint at step [1-9]\d* \(epoch \d+\)/);
    expect(resumed.stdout).toContain('weighted avg');
    const metadata = JSON.parse(readFileSync(join(workspace, 'models/tiny/metadata.json'), 'utf8'));
    expect(metadata.metrics.testAccuracy).toBeGreaterThanOrEqual(0);
    expect(metadata.source).toContain('imgcls train --data set.tar.gz --arch seedcnn');
    const history = readFileSync(join(workspace, 'models/tiny/history.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(history.map((line) => line.epoch)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(history.every((line) => line.loss !== 9)).toBe(true);
    const ends = history.map((line) => Date.parse(line.endedAt));
    expect(ends.every((end, i) => Number.isFinite(end) && end >= (ends[i - 1] ?? 0))).toBe(true);
    expect(history.every((line) => line.seconds > 0)).toBe(true);

    const card = await runCli(['models', 'card', 'models/tiny'], workspace);
    expect(card.code, card.stderr).toBe(0);
    const text = readFileSync(join(workspace, 'models/tiny/MODEL_CARD.md'), 'utf8');
    expect(text).toContain(
      `**${(metadata.metrics.testAccuracy * 100).toFixed(2)}%** on 18 test images`,
    );
    // The history table adds up the epochs' times: the last row's is the training time of all 12.
    const minutes = history.reduce((sum, line) => sum + line.seconds, 0) / 60;
    expect(text).toContain(
      '| epoch | training loss | validation accuracy | training minutes so far |',
    );
    expect(text).toMatch(new RegExp(`\\| 12 \\| [\\d.]+ \\| [^|]+ \\| ${minutes.toFixed(1)} \\|`));
    for (const chart of ['training-curves.svg', 'confusion-matrix.svg', 'per-class-f1.svg']) {
      expect(readFileSync(join(workspace, 'models/tiny', chart), 'utf8')).toMatch(/^<svg /);
    }
  }, 180_000); // two CLI processes that train 12 short epochs: room for a busy CI machine

  it('refuses --resume when there is no checkpoint to continue, with a hint', async () => {
    const result = await runCli(
      ['train', '--data', 'set.tar.gz', '--arch', 'seedcnn', '--out', 'models/none', '--resume'],
      workspace,
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--resume: there is no checkpoint');
    expect(result.stderr).toContain('drop --resume');
  });

  it('rejects an unknown architecture, schedule or optimizer, and --width or --logit-scale outside resnet9, as usage errors', async () => {
    const result = await runCli(['train', '--data', 'set.tar.gz', '--arch', 'vgg99'], workspace);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/'vgg99' is invalid\. Allowed choices are seedcnn, /);
    // The enumerated flags that once trained silently with another value: refused with the valid list.
    const cosin = await runCli(['train', '--data', 'set.tar.gz', '--schedule', 'cosin'], workspace);
    expect(cosin.code).toBe(2);
    expect(cosin.stderr).toContain(
      "'cosin' is invalid. Allowed choices are onecycle, cosine, triangular, constant",
    );
    const adam = await runCli(['train', '--data', 'set.tar.gz', '--optimizer', 'adam'], workspace);
    expect(adam.code).toBe(2);
    expect(adam.stderr).toContain("'adam' is invalid. Allowed choices are adamw, sgd");
    const width = ['train', '--data', 'set.tar.gz', '--width', '0.5'];
    const seed = await runCli([...width, '--arch', 'seedcnn'], workspace);
    expect(seed.code).toBe(2);
    expect(seed.stderr).toContain('--width applies to --arch resnet9 only');
    const zero = await runCli([...width.slice(0, 4), '0'], workspace);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toContain('--width must be a number from 0.125 to 4, got "0"');
    const scale = ['train', '--data', 'set.tar.gz', '--logit-scale', '0.125'];
    const seedScale = await runCli([...scale, '--arch', 'seedcnn'], workspace);
    expect(seedScale.code).toBe(2);
    expect(seedScale.stderr).toContain('--logit-scale applies to --arch resnet9 only');
    const negative = await runCli([...scale.slice(0, 4), '-1'], workspace);
    expect(negative.code).toBe(2);
    expect(negative.stderr).toContain('--logit-scale must be a number from 0.001 to 1000');
  });
});

/** A CIFAR-10 binary batch file of `records` records: label n mod 10, pixels (batch + n + p) mod 256. */
function cifarBatch(batch: number, records: number): Uint8Array {
  const bytes = new Uint8Array(records * 3073);
  for (let n = 0; n < records; n++) {
    bytes[n * 3073] = n % 10;
    for (let p = 0; p < 3072; p++) bytes[n * 3073 + 1 + p] = (batch * 31 + n * 17 + p) % 256;
  }
  return bytes;
}

describe('imgcls train on image folders and the CIFAR-10 binary archive (spawned binary)', () => {
  let workspace: string;
  beforeAll(async () => {
    workspace = mkdtempSync(join(tmpdir(), 'imgcls-train-folder-'));
    const colours: Record<string, [number, number, number]> = {
      tulip: [200, 30, 60],
      fern: [30, 180, 40],
      iris: [90, 60, 200],
    };
    for (const split of ['train', 'test']) {
      for (const [name, [r, g, b]] of Object.entries(colours)) {
        mkdirSync(join(workspace, 'flowers', split, name), { recursive: true });
        for (let i = 0; i < (split === 'train' ? 12 : 3); i++) {
          const png = await sharp({
            create: { width: 12, height: 12, channels: 3, background: { r: r - i, g, b: b + i } },
          })
            .png()
            .toBuffer();
          writeFileSync(join(workspace, 'flowers', split, name, `${i}.png`), png);
        }
      }
    }
    writeFileSync(join(workspace, 'flowers', 'train', 'fern', 'README.txt'), 'notes');
    const binary = join(workspace, 'cifar-10-batches-bin');
    mkdirSync(binary);
    for (let batch = 1; batch <= 5; batch++)
      writeFileSync(join(binary, `data_batch_${batch}.bin`), cifarBatch(batch, 4));
    writeFileSync(join(binary, 'test_batch.bin'), cifarBatch(6, 5));
    execFileSync('tar', [
      '-czf',
      join(workspace, 'cifar-10-binary.tar.gz'),
      '-C',
      workspace,
      'cifar-10-batches-bin',
    ]);
  });

  it('trains on a folder with cutout, jitter, mixup and clipping, records them, and refuses a changed resume', async () => {
    const args = (cutout: string) => [
      'train',
      '--data',
      'flowers',
      '--arch',
      'seedcnn',
      '--epochs',
      '3',
      '--batch-size',
      '4',
      '--augment',
      '--cutout',
      cutout,
      '--jitter',
      '0.2',
      '--mixup',
      '0.2',
      '--clip-norm',
      '2',
      '--image-size',
      '16',
    ];
    const interrupted = await runCli(args('4'), workspace, /epoch 1\/3/);
    expect(interrupted.code, interrupted.stderr).toBe(130);
    expect(interrupted.stderr).toContain('ignored 1 files that are not images');
    const manifest = JSON.parse(
      readFileSync(join(workspace, 'models/flowers-seedcnn/checkpoint/checkpoint.json'), 'utf8'),
    );
    expect(manifest.settings).toMatchObject({
      clipNorm: 2,
      source: 'image-folder',
      data: { augmentation: { cropPadding: 4, cutout: 4, brightness: 0.2, mixup: 0.2 } },
    });

    const changed = await runCli(args('2'), workspace);
    expect(changed.code).toBe(1);
    expect(changed.stderr).toMatch(/written with other settings \(data was .*"cutout":4/);

    const resumed = await runCli(args('4'), workspace);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resumed from .*checkpoint at step [1-9]/);
    expect(resumed.stdout).toContain('weighted avg');
    const metadata = JSON.parse(
      readFileSync(join(workspace, 'models/flowers-seedcnn/metadata.json'), 'utf8'),
    );
    expect(metadata.labels).toEqual(['fern', 'iris', 'tulip']);
    expect(metadata.id).toBe('flowers-seedcnn');
    expect(metadata.preset).toMatchObject({ height: 16, width: 16 });
    expect(metadata.source).toContain(
      '--augment --cutout 4 --jitter 0.2 --mixup 0.2 --clip-norm 2 --image-size 16 --seed 1',
    );
  });

  it('reads the official binary archive layout from a local file', async () => {
    const result = await runCli(
      [
        'train',
        '--data',
        'cifar-10-binary.tar.gz',
        '--arch',
        'seedcnn',
        '--epochs',
        '1',
        '--batch-size',
        '8',
        '--out',
        'models/binary',
      ],
      workspace,
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/18 training and 2 validation images/);
    const metadata = JSON.parse(
      readFileSync(join(workspace, 'models/binary/metadata.json'), 'utf8'),
    );
    expect(metadata.id).toBe('cifar10-seedcnn');
    expect(metadata.preset).toMatchObject({ height: 32, width: 32 });
    expect(metadata.source).not.toContain('--clip-norm');
  });

  it('trains a narrow ResNet-9 with a logit scale and records it in the model and, with label smoothing, in its source', async () => {
    const result = await runCli(
      [
        'train',
        '--data',
        'cifar-10-binary.tar.gz',
        '--arch',
        'resnet9',
        '--width',
        '0.125',
        '--logit-scale',
        '0.125',
        '--label-smoothing',
        '0.2',
        '--epochs',
        '1',
        '--batch-size',
        '8',
        '--out',
        'models/narrow',
      ],
      workspace,
    );
    expect(result.code, result.stderr).toBe(0);
    const metadata = JSON.parse(
      readFileSync(join(workspace, 'models/narrow/metadata.json'), 'utf8'),
    );
    expect(metadata.id).toBe('cifar10-resnet9-w0.125');
    expect(metadata.source).toContain('--width 0.125 --logit-scale 0.125 --label-smoothing 0.2');
    const topology = readFileSync(join(workspace, 'models/narrow/model.json'), 'utf8');
    expect(topology).toContain('"name":"logit_scale"');
  });

  it('trains airbench with its recipe flags, tests and serves it with flip-translate views', async () => {
    const recipe = [
      'train',
      '--data',
      'cifar-10-binary.tar.gz',
      '--arch',
      'airbench',
      '--epochs',
      '1',
      '--batch-size',
      '8',
      '--lr',
      '0.01',
      '--optimizer',
      'sgd',
      '--momentum',
      '0.85',
      '--weight-decay',
      '0.0089',
      '--bias-lr-scale',
      '64',
      '--schedule',
      'triangular',
      '--augment',
      '--crop-padding',
      '2',
      '--alternate-flip',
      '--lookahead',
      '--validation-split',
      '0',
      '--out',
      'models/air',
    ];
    const result = await runCli([...recipe, '--tta', 'flip-translate'], workspace);
    expect(result.code, result.stderr).toBe(0);
    const metadata = JSON.parse(readFileSync(join(workspace, 'models/air/metadata.json'), 'utf8'));
    expect(metadata.architecture).toBe('airbench');
    expect(metadata.testTimeAugmentation).toBe('flip-translate');
    expect(metadata.source).toContain(
      '--validation-split 0 --crop-padding 2 --alternate-flip --momentum 0.85 --weight-decay 0.0089 --bias-lr-scale 64 --lookahead --tta flip-translate',
    );
    expect(metadata.metrics.testAccuracy).toBeGreaterThanOrEqual(0);
    expect(metadata.metrics.testAccuracySingleView).toBeGreaterThanOrEqual(0);
    const card = await runCli(['models', 'card', 'models/air'], workspace);
    expect(card.code, card.stderr).toBe(0);
    expect(readFileSync(join(workspace, 'models/air/MODEL_CARD.md'), 'utf8')).toMatch(
      /on 5 test images, averaging the flip-translate views it is served with \(one view per image: \d+\.\d\d%\)/,
    );
    // evaluate reads image folders: a few CIFAR-class images to run the served model on.
    for (const [index, name] of ['airplane', 'ship'].entries()) {
      mkdirSync(join(workspace, 'cifar-folder', 'test', name), { recursive: true });
      const image = await sharp({
        create: {
          width: 32,
          height: 32,
          channels: 3,
          background: { r: 90 * index, g: 120, b: 200 },
        },
      })
        .png()
        .toBuffer();
      writeFileSync(join(workspace, 'cifar-folder', 'test', name, '0.png'), image);
    }
    const served = await runCli(
      ['evaluate', '--model', 'models/air', '--data', 'cifar-folder'],
      workspace,
    );
    expect(served.code, served.stderr).toBe(0);
    expect(served.stderr).toContain('(flip-translate TTA)');
    const single = await runCli(
      ['evaluate', '--model', 'models/air', '--data', 'cifar-folder', '--tta', 'none'],
      workspace,
    );
    expect(single.code, single.stderr).toBe(0);
    expect(single.stderr).not.toContain('TTA');
    // Re-tested with one view: the single-view accuracy recorded by train, and the wall time kept.
    const retest = await runCli(
      ['models', 'test', 'models/air', '--data', 'cifar-10-binary.tar.gz', '--tta', 'none'],
      workspace,
    );
    expect(retest.code, retest.stderr).toBe(0);
    const retested = JSON.parse(readFileSync(join(workspace, 'models/air/metadata.json'), 'utf8'));
    expect(retested.testTimeAugmentation).toBeUndefined();
    expect(retested.metrics).toEqual({
      epochs: 1,
      trainingSeconds: metadata.metrics.trainingSeconds,
      testAccuracy: metadata.metrics.testAccuracySingleView,
    });
    const unknown = await runCli([...recipe, '--tta', 'rotate'], workspace);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown --tta "rotate"');
    const crop = await runCli(
      ['train', '--data', 'cifar-10-binary.tar.gz', '--crop-padding', '2'],
      workspace,
    );
    expect(crop.code).toBe(2);
    expect(crop.stderr).toContain('--crop-padding applies with --augment only');
  });

  it('rejects a missing --data and --image-size outside image folders as usage errors', async () => {
    const missing = await runCli(['train', '--data', 'no-such-set'], workspace);
    expect([missing.code, missing.stderr]).toEqual([
      2,
      expect.stringContaining('no such file or folder'),
    ]);
    const sized = await runCli(
      ['train', '--data', 'cifar-10-binary.tar.gz', '--image-size', '64'],
      workspace,
    );
    expect(sized.code).toBe(2);
    expect(sized.stderr).toContain('--image-size applies to image folders only');
  });

  it('fails offline without a cached CIFAR-10 with a hint, touching no network', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'imgcls-empty-cache-'));
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [builtCli, 'train', '--data', 'cifar10', '--offline'], {
        cwd: workspace,
        env: { ...process.env, NO_COLOR: '1', IMGCLS_CACHE_DIR: cache },
      });
      let stderr = '';
      child.stderr.on('data', (chunk) => {
        stderr += chunk;
      });
      child.on('exit', (code) => resolve({ code, stderr }));
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`CIFAR-10 is not in the cache (${cache})`);
    expect(result.stderr).toContain('run once without --offline');
  });
});
