import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { sharedData } from '../../../tooling/test-data';

const builtCli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const tflite = sharedData('mobilenet-v2/mobilenet_v2_1.0_224_quant.tflite');
const labels = sharedData('mobilenet-v2/imagenet_labels.txt');
const photos = sharedData('photos');

function run(args: string[], cwd?: string) {
  const result = spawnSync(process.execPath, [builtCli, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    timeout: 120_000,
    ...(cwd ? { cwd } : {}),
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe.skipIf(!tflite || !labels || !photos)(
  'imgcls models import, then classify offline',
  () => {
    it('imports the real quantised MobileNetV2 and classifies Grace Hopper as a military uniform', () => {
      const workspace = mkdtempSync(join(tmpdir(), 'imgcls-import-'));
      const imported = run(
        [
          'models',
          'import',
          tflite as string,
          '--labels',
          labels as string,
          '--id',
          'mobilenet-v2',
        ],
        workspace,
      );
      expect(imported.code, imported.stderr).toBe(0);
      expect(imported.stdout).toContain('224x224x3 → 1001 outputs, per-tensor weights');
      const metadata = JSON.parse(
        readFileSync(join(workspace, 'models/mobilenet-v2/metadata.json'), 'utf8'),
      );
      expect([metadata.labels.length, metadata.backgroundClass]).toEqual([1000, true]);
      // The registry id now resolves to the local copy, so nothing is downloaded.
      const classified = run(
        [
          'classify',
          join(photos as string, 'grace_hopper.bmp'),
          '--model',
          'mobilenet-v2',
          '--offline',
          '--json',
          '-k',
          '3',
        ],
        workspace,
      );
      expect(classified.code).toBe(0);
      const [line] = classified.stdout
        .trim()
        .split('\n')
        .map((text) => JSON.parse(text));
      expect(line.predictions[0].label).toBe('military uniform');
    });

    it('explains a missing labels file without a stack trace', () => {
      const result = run([
        'models',
        'import',
        tflite as string,
        '--labels',
        '/nonexistent/labels.txt',
      ]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('cannot read /nonexistent/labels.txt');
    });
  },
);
