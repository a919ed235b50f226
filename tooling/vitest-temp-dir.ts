import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

// Tests make their scratch folders with `mkdtemp(join(os.tmpdir(), …))`, and the CLI processes they
// spawn do the same. `os.tmpdir()` reads TMPDIR on every call and child processes inherit it, so
// pointing it at one folder per test file, removed after the file, cleans up every one of them,
// including those of a test that failed halfway.
const previousTmpdir = process.env.TMPDIR;
const testFileDirectory = mkdtempSync(join(tmpdir(), 'imgcls-test-'));
process.env.TMPDIR = testFileDirectory;

afterAll(() => {
  if (previousTmpdir === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = previousTmpdir;
  rmSync(testFileDirectory, { recursive: true, force: true });
});
