#!/usr/bin/env node
// Runs the pnpm version pinned in package.json's `packageManager` through npx, so a fresh machine
// needs only Node.js and npm: no global pnpm and no corepack (whose signature checks fail offline).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const rootManifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const pinned = /^pnpm@(\d+\.\d+\.\d+)/.exec(rootManifest.packageManager ?? '');
if (!pinned) {
  console.error('package.json must pin pnpm as "packageManager": "pnpm@X.Y.Z"');
  process.exit(1);
}
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
const result = spawnSync(npx, ['--yes', `pnpm@${pinned[1]}`, ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, COREPACK_ENABLE_STRICT: '0' },
});
process.exit(result.status ?? 1);
