#!/usr/bin/env node
// Packs every published package with `pnpm pack` (which turns `workspace:*` into real versions): the
// libraries under packages/ and the model packages under models/. Checks that each model tarball holds
// exactly its `files` whitelist, installs every tarball into a scratch project outside the workspace, and
// checks there, as a user's project would:
// - each library loads with require() and with import, and each model package's files resolve;
// - offline (allowRemote: false, a dead remoteHost, fetch replaced by a function that throws),
//   loadClassifier('cifar10') serves the installed model package, and its top-5 on 20 CIFAR-10 test
//   images equals the repository copy's (models/cifar10-airbench-float16) loaded in the same script, from a
//   CommonJS script and from an ES module (pack-smoke-offline.mjs);
// - the README's Node quickstart, extracted as written, runs in a fresh project that installs what its
//   `npm install` line names (with the tarballs standing in for @imgcls packages) and prints the
//   expected top class; the README's browser snippet bundles with Vite in that project
//   (pack-smoke-quickstart.mjs).
// Needs the packages built first. Prints one `pack-smoke: …` line per result; exits 1 on any failure.
// PACK_SMOKE_KEEP=1 keeps the scratch folder for a look afterwards.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import {
  fail,
  failureCount,
  kib,
  npmInstall,
  reason,
  root,
  run,
  say,
} from './pack-smoke-common.mjs';
import { compareOffline } from './pack-smoke-offline.mjs';
import { checkReadmeQuickstart } from './pack-smoke-quickstart.mjs';

const pnpm = join(root, 'node_modules/.bin/pnpm');

const readManifest = (dir) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));

/** Packs one package folder; returns the tarball path and the files pnpm put in it. */
function pack(dir, tarballDir) {
  const output = run(pnpm, ['pack', '--pack-destination', tarballDir, '--json'], { cwd: dir });
  const { filename, files } = JSON.parse(output);
  return { tarball: filename, files: files.map((file) => file.path).sort() };
}

/**
 * Packs each public library under packages/. Returns name -> { tarball, manifest } and the libraries'
 * non-optional peers, which a user installs alongside.
 */
function packLibraries(tarballDir) {
  const libraries = new Map();
  const peers = new Set();
  for (const name of readdirSync(join(root, 'packages'))) {
    const dir = join(root, 'packages', name);
    const manifest = readManifest(dir);
    if (manifest.private) continue;
    for (const [peer, range] of Object.entries(manifest.peerDependencies ?? {})) {
      if (!manifest.peerDependenciesMeta?.[peer]?.optional) peers.add(`${peer}@${range}`);
    }
    libraries.set(manifest.name, { tarball: pack(dir, tarballDir).tarball, manifest });
  }
  return { libraries, peers };
}

/** Packs each model folder under models/ that is a package, checking its whitelist; name -> tarball. */
function packModels(tarballDir) {
  const models = new Map();
  for (const folder of readdirSync(join(root, 'models')).sort()) {
    const dir = join(root, 'models', folder);
    if (!existsSync(join(dir, 'package.json'))) continue;
    const manifest = readManifest(dir);
    const { tarball, files } = pack(dir, tarballDir);
    models.set(manifest.name, tarball);
    checkWhitelist(dir, manifest, tarball, files);
  }
  return models;
}

/** Fails unless the tarball holds exactly the manifest's `files`; otherwise prints its sizes. */
function checkWhitelist(dir, manifest, tarball, files) {
  // npm always adds package.json; nothing else may come in beyond the whitelist.
  const expected = [...new Set([...manifest.files, 'package.json'])].sort();
  const listed = run('tar', ['-tzf', tarball])
    .split('\n')
    .filter(Boolean)
    .map((entry) => entry.replace(/^package\//, ''))
    .sort();
  const unpacked = listed.reduce((sum, file) => sum + statSync(join(dir, file)).size, 0);
  const size = `${kib(statSync(tarball).size)} packed, ${kib(unpacked)} unpacked`;
  if (JSON.stringify(listed) !== JSON.stringify(expected) || listed.join() !== files.join())
    fail(
      `${manifest.name}: the tarball holds [${listed.join(', ')}], its whitelist is [${expected.join(', ')}]`,
    );
  else {
    const left = readdirSync(dir).filter((file) => !listed.includes(file));
    say(
      `${basename(tarball)}: ${size}, exactly its ${listed.length} whitelisted files ` +
        `(${listed.join(', ')}${left.length > 0 ? `; not ${left.join(', ')}` : ''})`,
    );
  }
}

/** One scratch project with every tarball and the libraries' non-optional peers, and an empty cache. */
function installScratchProject(scratch, { libraries, peers, models }) {
  const project = join(scratch, 'project');
  const cacheDir = join(scratch, 'empty-cache');
  mkdirSync(project, { recursive: true });
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'scratch', private: true }));
  const tarballs = [
    ...[...libraries.values()].map((library) => library.tarball),
    ...models.values(),
  ];
  npmInstall(project, [...tarballs, ...peers]);
  say(`installed ${tarballs.length} tarballs and ${[...peers].join(', ')} in ${project}`);
  return { project, cacheDir };
}

/** [name, CommonJS check, ES module check] per package: a library has exports, a model's files resolve. */
function entryChecks(libraries, models) {
  const checks = [...libraries.keys()].map((name) => [
    name,
    `const m = require('${name}'); if (!Object.keys(m).length) throw new Error('no exports');`,
    `const m = await import('${name}'); if (!Object.keys(m).length) throw new Error('no exports');`,
  ]);
  for (const name of models.keys())
    checks.push([
      name,
      `for (const f of ['model.json', 'weights.bin', 'metadata.json']) require('fs').statSync(require.resolve('${name}/' + f));`,
      `import { statSync } from 'node:fs'; import { fileURLToPath } from 'node:url';
       for (const f of ['model.json', 'weights.bin', 'metadata.json']) statSync(fileURLToPath(import.meta.resolve('${name}/' + f)));`,
    ]);
  return checks;
}

/** Every library loads with require and import; every model package's files resolve. */
function checkEntries(project, libraries, models) {
  for (const [name, requireCode, importCode] of entryChecks(libraries, models)) {
    for (const [style, args] of [
      ['require', ['-e', requireCode]],
      ['import', ['--input-type=module', '-e', importCode]],
    ]) {
      try {
        run(process.execPath, args, { cwd: project });
        say(`${name} loads with ${style}`);
      } catch (error) {
        fail(`${name} with ${style}:\n${reason(error)}`);
      }
    }
  }
}

const started = Date.now();
const scratch = mkdtempSync(join(tmpdir(), 'imgcls-pack-'));
try {
  const tarballDir = join(scratch, 'tarballs');
  const { libraries, peers } = packLibraries(tarballDir);
  const models = packModels(tarballDir);
  const { project, cacheDir } = installScratchProject(scratch, { libraries, peers, models });
  checkEntries(project, libraries, models);
  const offline = compareOffline(project, cacheDir);
  await checkReadmeQuickstart({ scratch, cacheDir, libraries, models, offline });
} catch (error) {
  fail(reason(error));
} finally {
  // biome-ignore lint/suspicious/noUndeclaredEnvVars: a debugging switch of a script turbo never runs
  if (process.env.PACK_SMOKE_KEEP) say(`kept ${scratch}`);
  else rmSync(scratch, { recursive: true, force: true });
}
const failures = failureCount();
say(
  `${failures === 0 ? 'all checks passed' : `${failures} failure(s)`} in ${((Date.now() - started) / 1000).toFixed(0)} s`,
);
process.exit(failures > 0 ? 1 : 0);
