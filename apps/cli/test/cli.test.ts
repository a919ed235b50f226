import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const builtCli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

describe('imgcls binary', () => {
  it('is built before its tests run', () => {
    expect(existsSync(builtCli), `missing ${builtCli}: run the build first`).toBe(true);
  });

  it('prints its version and exits 0', () => {
    const output = execFileSync(process.execPath, [builtCli, '--version'], { encoding: 'utf8' });
    expect(output.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
