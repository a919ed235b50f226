#!/usr/bin/env node
// The whole test suite, as CI and `npm test` run it: lint, build + typecheck + unit tests + package
// checks (publint, are-the-types-wrong), browser end-to-end tests, the packed-tarball smoke test, then
// one summary line over every vitest report. Later steps still run when one fails, so a run shows
// everything that is broken; the exit code is non-zero if any step failed.
import { spawnSync } from 'node:child_process';

const steps = [
  ['lint', 'turbo', ['run', 'lint']],
  [
    'build, typecheck, unit tests, package checks',
    'turbo',
    ['run', 'build', 'typecheck', 'test', 'test:build', '--concurrency=2'],
  ],
  ['browser end-to-end tests', 'turbo', ['run', 'test:e2e', '--concurrency=1']],
  ['packed tarballs load with require and import', 'node', ['scripts/pack-smoke.mjs']],
  ['summary', 'node', ['scripts/test-summary.mjs']],
];

const failed = [];
for (const [title, command, args] of steps) {
  const started = Date.now();
  console.log(`\n=== ${title}`);
  const result = spawnSync(command, args, { stdio: 'inherit' });
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  if (result.status !== 0) failed.push(title);
  console.log(`=== ${title}: ${result.status === 0 ? 'ok' : 'FAILED'} (${seconds} s)`);
}
if (failed.length > 0) {
  console.error(`\nverify: failed steps: ${failed.join('; ')}`);
  process.exit(1);
}
