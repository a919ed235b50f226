import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const PACKAGE_DIRECTORY = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Runs a script in a plain Node process on the built package (`dist/`, made by `build`): what users import. */
function run(type: 'module' | 'commonjs', lines: readonly string[]): string {
  const result = spawnSync(process.execPath, [`--input-type=${type}`, '-e', lines.join('\n')], {
    cwd: PACKAGE_DIRECTORY,
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(result.stderr, type).toBe('');
  return result.stdout.trim();
}

const LOADED =
  "console.log(['sharp', 'tfjs-core'].map((name) => Object.keys(require.cache).some((path) => path.includes(name))).join());";

describe('@imgcls/preprocess/errors', () => {
  it('holds the same error classes as the main entry, in ESM and CommonJS', () => {
    expect(
      run('module', [
        "import { ImgclsError, InvalidArgumentError } from '@imgcls/preprocess/errors';",
        "import * as main from '@imgcls/preprocess';",
        'console.log(main.ImgclsError === ImgclsError && main.InvalidArgumentError === InvalidArgumentError);',
      ]),
    ).toBe('true');
    expect(
      run('commonjs', [
        "const errors = require('@imgcls/preprocess/errors');",
        "const error = new (require('@imgcls/preprocess').InvalidArgumentError)('x');",
        "console.log(error instanceof errors.ImgclsError && errors.ImgclsError.isInstance(error, 'INVALID_ARGUMENT'));",
      ]),
    ).toBe('true');
  });

  it('loads neither sharp nor TensorFlow.js', () => {
    expect(run('commonjs', ["require('@imgcls/preprocess/errors');", LOADED])).toBe('false,false');
    expect(
      run('module', [
        "import { createRequire } from 'node:module';",
        "await import('@imgcls/preprocess/errors');",
        'const require = createRequire(import.meta.url);',
        LOADED,
      ]),
    ).toBe('false,false');
  });

  it('lets the main entry load without sharp until the first decode', () => {
    expect(run('commonjs', ["require('@imgcls/preprocess');", LOADED])).toBe('false,true');
  });
});
