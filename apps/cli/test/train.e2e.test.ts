import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';

const builtCli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

/** Runs the CLI; when `interruptOn` appears in stderr, sends SIGINT like a user pressing Ctrl-C. */
function run(
  args: string[],
  cwd: string,
  interruptOn?: RegExp,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [builtCli, ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: '1' },
    });
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      if (interruptOn && !interrupted && interruptOn.test(stderr)) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

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
    const interrupted = await run(args, workspace, /epoch 1\/12/);
    expect(interrupted.code).toBe(130);
    expect(interrupted.stderr).toMatch(/interrupted at step \d+: checkpoint saved/);
    expect(existsSync(join(workspace, 'models/tiny/checkpoint/checkpoint.json'))).toBe(true);

    const resumed = await run(args, workspace);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resumed from .*checkpoint at step [1-9]\d* \(epoch \d+\)/);
    expect(resumed.stdout).toContain('weighted avg');
    const metadata = JSON.parse(readFileSync(join(workspace, 'models/tiny/metadata.json'), 'utf8'));
    expect(metadata.metrics.testAccuracy).toBeGreaterThanOrEqual(0);
    expect(metadata.source).toContain('imgcls train --data set.tar.gz --arch seedcnn');
    const epochs = readFileSync(join(workspace, 'models/tiny/history.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line).epoch);
    expect(epochs).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));

    const card = await run(['models', 'card', 'models/tiny'], workspace);
    expect(card.code, card.stderr).toBe(0);
    const text = readFileSync(join(workspace, 'models/tiny/MODEL_CARD.md'), 'utf8');
    expect(text).toContain(
      `**${(metadata.metrics.testAccuracy * 100).toFixed(2)}%** on 18 test images`,
    );
    expect(text).toContain('| 12 |');
    for (const chart of ['training-curves.svg', 'confusion-matrix.svg', 'per-class-f1.svg']) {
      expect(readFileSync(join(workspace, 'models/tiny', chart), 'utf8')).toMatch(/^<svg /);
    }
  });

  it('rejects an unknown architecture as a usage error', async () => {
    const result = await run(['train', '--data', 'set.tar.gz', '--arch', 'vgg99'], workspace);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown --arch "vgg99"');
  });
});
