import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const PACKAGE_DIRECTORY = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Runs each script in a plain Node process of its module type and returns what each printed. */
function runEach(
  scripts: Record<'module' | 'commonjs', readonly string[]>,
): Record<string, string> {
  const printed: Record<string, string> = {};
  for (const [type, lines] of Object.entries(scripts)) {
    const run = spawnSync(process.execPath, [`--input-type=${type}`, '-e', lines.join('\n')], {
      cwd: PACKAGE_DIRECTORY,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.stderr, type).toBe('');
    printed[type] = run.stdout.trim();
  }
  return printed;
}

// Plain-Node processes on the built package (`dist/`, made by `build`): what users import.
describe('package entries', () => {
  it('share one model registry between @imgcls/models and @imgcls/models/node, in ESM and CommonJS', () => {
    const entry =
      "{ id: 'shared-entry', description: 'test', source: { kind: 'url', url: 'https://example.com/model.json' } }";
    const printed = runEach({
      module: [
        "import { registerModel } from '@imgcls/models';",
        "import { resolveModel } from '@imgcls/models/node';",
        `registerModel(${entry});`,
        "console.log(resolveModel('shared-entry').id);",
      ],
      commonjs: [
        "const { resolveModel } = require('@imgcls/models/node');",
        `require('@imgcls/models').registerModel(${entry});`,
        "console.log(resolveModel('shared-entry').id);",
      ],
    });
    expect(printed).toEqual({ module: 'shared-entry', commonjs: 'shared-entry' });
  });

  it('loads no image decoder: importing @imgcls/models and @imgcls/models/node leaves sharp unloaded', () => {
    // sharp is CommonJS, so it lands in require.cache however it is loaded, from ESM too.
    const loadedSharp =
      'console.log(Object.keys(require.cache).some((path) => /[\\\\/]sharp[\\\\/]/.test(path)));';
    const printed = runEach({
      module: [
        "import { createRequire } from 'node:module';",
        "await import('@imgcls/models');",
        "await import('@imgcls/models/node');",
        'const require = createRequire(import.meta.url);',
        loadedSharp,
      ],
      commonjs: ["require('@imgcls/models');", "require('@imgcls/models/node');", loadedSharp],
    });
    expect(printed).toEqual({ module: 'false', commonjs: 'false' });
  });
});
