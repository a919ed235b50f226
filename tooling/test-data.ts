import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file lives in `<root>/tooling`). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Where the workplace's real data lives: `../shared/data` beside the repository, or the folder
 * named by `IMGCLS_SHARED_DATA`. It is never copied into the repository.
 */
export const SHARED_DATA_DIR =
  process.env.IMGCLS_SHARED_DATA ?? resolve(REPO_ROOT, '../shared/data');

/**
 * Absolute path of a file or folder under the shared data directory, or `undefined` (after printing
 * why) when it is absent, for `describe.skipIf(!path)`: real-data tests skip loudly, never silently.
 */
export function sharedData(relativePath: string): string | undefined {
  const path = resolve(SHARED_DATA_DIR, relativePath);
  if (existsSync(path)) return path;
  console.warn(
    `[imgcls] skipping real-data tests: ${path} is absent (set IMGCLS_SHARED_DATA to the shared data folder)`,
  );
  return undefined;
}
