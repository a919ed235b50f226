#!/usr/bin/env node
// Packs every published package with `pnpm pack` (which turns `workspace:*` into real versions),
// installs the tarballs into a scratch project with npm, and checks that each one loads both with
// require() and with import, as a user's project would. Needs the packages built first.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), 'imgcls-pack-'));
const tarballDir = join(scratch, 'tarballs');
const pnpm = join(root, 'node_modules/.bin/pnpm');

try {
  const packageDirs = readdirSync(join(root, 'packages')).map((name) =>
    join(root, 'packages', name),
  );
  const names = [];
  const peers = new Set();
  for (const dir of packageDirs) {
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    if (manifest.private) continue;
    names.push(manifest.name);
    for (const [peer, range] of Object.entries(manifest.peerDependencies ?? {})) {
      if (!manifest.peerDependenciesMeta?.[peer]?.optional) peers.add(`${peer}@${range}`);
    }
    execFileSync(pnpm, ['pack', '--pack-destination', tarballDir], { cwd: dir, stdio: 'ignore' });
  }
  const tarballs = readdirSync(tarballDir).map((file) => join(tarballDir, file));
  const project = join(scratch, 'project');
  execFileSync('mkdir', ['-p', project]);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'scratch', private: true }));
  execFileSync(
    'npm',
    ['install', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs, ...peers],
    { cwd: project, stdio: 'inherit' },
  );
  let failures = 0;
  for (const name of names) {
    for (const [style, code] of [
      [
        'require',
        `const m = require('${name}'); if (!Object.keys(m).length) throw new Error('no exports');`,
      ],
      [
        'import',
        `const m = await import('${name}'); if (!Object.keys(m).length) throw new Error('no exports');`,
      ],
    ]) {
      try {
        const args = style === 'import' ? ['--input-type=module', '-e', code] : ['-e', code];
        execFileSync(process.execPath, args, { cwd: project, stdio: 'pipe' });
        console.log(`pack-smoke: ${name} loads with ${style}`);
      } catch (error) {
        failures += 1;
        console.error(`pack-smoke: ${name} fails with ${style}:\n${error.stderr ?? error}`);
      }
    }
  }
  if (failures > 0) process.exit(1);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
