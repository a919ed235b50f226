import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeImage } from '@imgcls/preprocess';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { sharedData } from '../../../tooling/test-data';

const builtCli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const seedCnn = fileURLToPath(new URL('../../../models/cifar10-seedcnn', import.meta.url));
const photos = sharedData('photos');

function run(args: string[]) {
  const result = spawnSync(process.execPath, [builtCli, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    timeout: 120_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe.skipIf(!photos)('imgcls explain (spawned binary)', () => {
  it('writes a Grad-CAM overlay of a real photo at its own size and prints the class as JSON', async () => {
    const photo = join(photos as string, 'cat.bmp');
    const out = join(mkdtempSync(join(tmpdir(), 'imgcls-explain-')), 'cat-cam.png');
    const { code, stdout, stderr } = run([
      'explain',
      photo,
      '--model',
      seedCnn,
      '--class',
      'cat',
      '--out',
      out,
      '--json',
    ]);
    expect(code, stderr).toBe(0);
    const result = JSON.parse(stdout.trim());
    expect(result).toMatchObject({
      input: photo,
      class: { label: 'cat', index: 3 },
      layer: 'block4_conv',
      method: 'grad-cam',
      out,
    });
    expect(result.class.probability).toBeGreaterThan(0);
    const image = await decodeImage(photo);
    const png = await sharp(out).metadata();
    expect([png.format, png.width, png.height, png.channels]).toEqual([
      'png',
      image.width,
      image.height,
      4,
    ]);
    expect([result.width, result.height]).toEqual([image.width, image.height]);
  });

  it('explains the top class on the input view in text, and names the valid layers for a bad one', () => {
    const directory = mkdtempSync(join(tmpdir(), 'imgcls-explain-'));
    const photo = join(photos as string, 'bird.bmp');
    const text = run([
      'explain',
      photo,
      '-m',
      seedCnn,
      '--size',
      'input',
      '--method',
      'grad-cam++',
      '-o',
      join(directory, 'bird.png'),
    ]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(
      /\(class \d, probability 0\.\d{3}\) explained at layer block4_conv/,
    );
    expect(text.stdout).toContain('(32x32)');
    const bad = run([
      'explain',
      photo,
      '-m',
      seedCnn,
      '--layer',
      'dense',
      '-o',
      join(directory, 'x.png'),
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('"block4_conv"');
    const usage = run(['explain', photo, '-m', seedCnn, '-o', join(directory, 'x.jpg')]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--out must name a .png file');
  });
});
