#!/usr/bin/env node
// Packs every published package with `pnpm pack` (which turns `workspace:*` into real versions): the
// libraries under packages/ and the model packages under models/. Checks that each model tarball holds
// exactly its `files` whitelist, installs every tarball into a scratch project outside the workspace, and
// checks there, as a user's project would:
// - each library loads with require() and with import, and each model package's files resolve;
// - offline (allowRemote: false, a dead remoteHost, fetch replaced by a function that throws),
//   loadClassifier('cifar10') serves the installed model package, and its top-5 on 20 CIFAR-10 test
//   images equals the repository copy's (models/cifar10-airbench) loaded in the same script, from a
//   CommonJS script and from an ES module;
// - the README's Node quickstart, extracted as written, runs in a fresh project that installs what its
//   `npm install` line names (with the tarballs standing in for @imgcls packages) and prints the
//   expected top class; the README's browser snippet bundles with Vite in that project.
// Needs the packages built first. Prints one `pack-smoke: …` line per result; exits 1 on any failure.
// PACK_SMOKE_KEEP=1 keeps the scratch folder for a look afterwards.
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
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
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const started = Date.now();
const scratch = mkdtempSync(join(tmpdir(), 'imgcls-pack-'));
const tarballDir = join(scratch, 'tarballs');
const pnpm = join(root, 'node_modules/.bin/pnpm');
const repoModel = join(root, 'models/cifar10-airbench');
// The same place tooling/test-data.ts looks for the workplace's real data.
const sharedData = process.env.IMGCLS_SHARED_DATA ?? resolve(root, '../shared/data');
const cifarArchive = join(sharedData, 'cifar10/cifar10-jpg.tar.gz');
const CIFAR_LABELS = [
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
];
/** Probabilities of the installed and the repository copy may differ by this much. */
const TOLERANCE = 1e-6;
/** Registry ids of the other model packages: each must be served from its installed package. */
const OTHER_IDS = ['cifar10-resnet9', 'cifar10-seedcnn', 'cifar10-seedcnn-uint8'];

let failures = 0;
const say = (message) => console.log(`pack-smoke: ${message}`);
const fail = (message) => {
  failures += 1;
  console.error(`pack-smoke: FAILED: ${message}`);
};
const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;
const run = (command, args, options = {}) =>
  execFileSync(command, args, { encoding: 'utf8', stdio: 'pipe', ...options });
/** A child process's own words on failure: stderr, else the error. */
const reason = (error) => String(error.stderr || error.stdout || error.message || error).trim();

/** Environment for code run in a scratch project: no models folder, an empty download cache. */
const childEnv = (cacheDir) => {
  const env = { ...process.env, IMGCLS_CACHE_DIR: cacheDir };
  delete env.IMGCLS_MODELS_DIR;
  return env;
};

/**
 * Runs inside the scratch project, serialised into compare.cjs (given the package by require) and
 * compare.mjs (by import): the installed model package against the repository copy, without network.
 */
async function compareInScratch(lib, options) {
  let requests = 0;
  globalThis.fetch = async (input) => {
    requests += 1;
    throw new Error(`no network in pack-smoke, yet a request for ${String(input?.url ?? input)}`);
  };
  // The discard port on loopback: should anything still try the CDN, it finds nothing listening.
  lib.modelSettings.remoteHost = 'http://127.0.0.1:9';
  const installed = await lib.loadClassifier('cifar10', { allowRemote: false });
  const repository = await lib.loadClassifier(options.repoModel);
  const info = (classifier) => {
    const { source, origin, backend } = classifier.info();
    return { source, origin, backend };
  };
  const results = [];
  for (const image of options.images) {
    const fromPackage = await installed.classify(image.path, { topK: 5 });
    const fromRepository = await repository.classify(image.path, { topK: 5 });
    results.push({ ...image, installed: fromPackage, repository: fromRepository });
  }
  const others = [];
  for (const id of options.otherIds) {
    const classifier = await lib.loadClassifier(id, { allowRemote: false });
    const [best] = await classifier.classify(options.images[0].path, { topK: 1 });
    others.push({ id, ...info(classifier), label: best.label });
    classifier.dispose();
  }
  const summary = { installed: info(installed), repository: info(repository), results, others };
  installed.dispose();
  repository.dispose();
  return { ...summary, requests };
}

/** Runs inside the scratch project (sharp is installed there): 20 deterministic 32x32 PNGs. */
async function syntheticImages(sharp, directory, count) {
  const paths = [];
  for (let index = 0; index < count; index += 1) {
    let state = 0x9e3779b9 ^ (index * 0x85ebca6b);
    const next = () => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return state >>> 24;
    };
    const [r, g, b] = [next(), next(), next()];
    const pixels = Buffer.alloc(32 * 32 * 3);
    for (let y = 0; y < 32; y += 1)
      for (let x = 0; x < 32; x += 1) {
        const offset = (y * 32 + x) * 3;
        const noise = next() >> 2;
        pixels[offset] = (r + x * 5 + noise) & 255;
        pixels[offset + 1] = (g + y * 7 + noise) & 255;
        pixels[offset + 2] = (b + (x ^ y) * 3 + noise) & 255;
      }
    const path = `${directory}/synthetic-${String(index).padStart(2, '0')}.png`;
    await sharp(pixels, { raw: { width: 32, height: 32, channels: 3 } })
      .png()
      .toFile(path);
    paths.push(path);
  }
  return paths;
}

/**
 * Preloaded (`node --import`) before the README's snippet: downloads off and fetch throwing, so the
 * snippet can only succeed from the installed model package.
 */
const NO_NETWORK = `import { modelSettings } from '@imgcls/classifier';
modelSettings.allowRemote = false;
modelSettings.remoteHost = 'http://127.0.0.1:9';
globalThis.fetch = async (input) => {
  throw new Error('no network in pack-smoke, yet a request for ' + String(input?.url ?? input));
};
`;

/** A fenced block's body after `marker` in `text` (e.g. the first ```js block). */
function fencedBlock(text, language) {
  const match = new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``).exec(text);
  if (!match) throw new Error(`no \`\`\`${language} block`);
  return match[1];
}

/** The README's Node quickstart: its npm install arguments and its script. */
function readmeQuickstart() {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = /<!-- quickstart-node -->([\s\S]*?)<!-- \/quickstart-node -->/.exec(readme)?.[1];
  if (!section)
    throw new Error('README.md has no <!-- quickstart-node --> … <!-- /quickstart-node -->');
  const install = fencedBlock(section, 'sh').replace(/\\\n/g, ' ').trim();
  const words = install.split(/\s+/);
  if (words[0] !== 'npm' || words[1] !== 'install')
    throw new Error(`the quickstart's sh block is not one npm install: ${install}`);
  const script = fencedBlock(section, 'js');
  const image = /classify\('([^']+)'/.exec(script)?.[1];
  const printed = /console\.log\(.*\/\/ (.+)$/m.exec(script)?.[1]?.trim();
  if (!image || !printed)
    throw new Error(
      "the quickstart's script needs classify('<file>', …) and console.log(…); // <output>",
    );
  return { packages: words.slice(2), script, image, printed };
}

/** The browser snippet (the ```js block after the Node quickstart whose comment names src/main.js). */
function readmeBrowserSnippet() {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const match = /```js\n(\/\/ src\/main\.js[\s\S]*?)```/.exec(readme);
  if (!match) throw new Error('README.md has no ```js block starting with // src/main.js');
  return match[1];
}

/** Packs one package folder; returns the tarball path and the files pnpm put in it. */
function pack(dir) {
  const output = run(pnpm, ['pack', '--pack-destination', tarballDir, '--json'], { cwd: dir });
  const { filename, files } = JSON.parse(output);
  return { tarball: filename, files: files.map((file) => file.path).sort() };
}

/** 20 test images (two per class) from the CIFAR-10 archive, or synthetic ones where it is absent. */
function testImages(project) {
  const directory = join(project, 'images');
  mkdirSync(directory, { recursive: true });
  if (existsSync(cifarArchive)) {
    const members = CIFAR_LABELS.flatMap((label) =>
      ['0000', '0001'].map((number) => `cifar10/test/${label}/${number}.jpg`),
    );
    // The test split comes first in the archive, so tar stops after a few hundred kilobytes.
    run('tar', ['-xzf', cifarArchive, '-C', directory, '--occurrence=1', ...members]);
    say(`20 CIFAR-10 test images (2 per class) from ${cifarArchive}`);
    return {
      real: true,
      images: members.map((member) => ({
        path: join(directory, member),
        label: member.split('/')[2],
      })),
    };
  }
  const script = join(project, 'synthetic.mjs');
  writeFileSync(
    script,
    `import sharp from 'sharp';\n${syntheticImages.toString()}\n` +
      `console.log(JSON.stringify(await syntheticImages(sharp, ${JSON.stringify(directory)}, 20)));\n`,
  );
  const paths = JSON.parse(run(process.execPath, [script], { cwd: project }));
  say(
    `REAL IMAGES ABSENT: ${cifarArchive} not found (set IMGCLS_SHARED_DATA); comparing on 20 synthetic ` +
      '32x32 PNGs instead, which still compares the installed package with the repository copy',
  );
  return { real: false, images: paths.map((path) => ({ path, label: null })) };
}

/** Checks one comparison run's summary; returns its per-image results. */
function checkComparison(style, summary, project, real) {
  const modelDir = join(project, 'node_modules/@imgcls/model-cifar10-airbench');
  if (summary.requests !== 0)
    fail(`${style}: ${summary.requests} network request(s) were attempted`);
  if (summary.installed.source !== 'package' || resolve(summary.installed.origin) !== modelDir)
    fail(
      `${style}: cifar10 came from ${summary.installed.source} ${summary.installed.origin}, not the installed package ${modelDir}`,
    );
  if (summary.repository.source !== 'path' || resolve(summary.repository.origin) !== repoModel)
    fail(`${style}: the repository copy came from ${summary.repository.origin}, not ${repoModel}`);
  let largest = 0;
  let mismatches = 0;
  let correct = 0;
  for (const { path, label, installed, repository } of summary.results) {
    const same =
      installed.length === 5 &&
      installed.every((entry, rank) => {
        const other = repository[rank];
        const difference = Math.abs(entry.probability - other.probability);
        largest = Math.max(largest, difference);
        return entry.label === other.label && difference <= TOLERANCE;
      });
    if (!same) {
      mismatches += 1;
      fail(
        `${style}: ${basename(path)}: installed ${JSON.stringify(installed)} != repository ${JSON.stringify(repository)}`,
      );
    }
    if (label && repository[0]?.label === label) correct += 1;
  }
  const accuracy = real ? `; top-1 right on ${correct}/${summary.results.length}` : '';
  if (mismatches === 0)
    say(
      `${style}: loadClassifier('cifar10', { allowRemote: false }) served the installed package (source ` +
        `'package', ${summary.installed.backend}, no network request) and its top-5 equals the repository ` +
        `copy's on all ${summary.results.length} images (largest probability difference ` +
        `${largest.toExponential(1)}, tolerance ${TOLERANCE})${accuracy}`,
    );
  for (const other of summary.others) {
    if (other.source === 'package') say(`${style}: ${other.id} served from its installed package`);
    else fail(`${style}: ${other.id} came from ${other.source} ${other.origin}, not its package`);
  }
  return summary.results;
}

try {
  // 1. Pack the libraries and the model packages.
  const libraries = new Map(); // name -> { tarball, manifest }
  const peers = new Set();
  for (const name of readdirSync(join(root, 'packages'))) {
    const dir = join(root, 'packages', name);
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    if (manifest.private) continue;
    for (const [peer, range] of Object.entries(manifest.peerDependencies ?? {})) {
      if (!manifest.peerDependenciesMeta?.[peer]?.optional) peers.add(`${peer}@${range}`);
    }
    libraries.set(manifest.name, { tarball: pack(dir).tarball, manifest });
  }
  const models = new Map(); // name -> tarball
  for (const folder of readdirSync(join(root, 'models')).sort()) {
    const dir = join(root, 'models', folder);
    if (!existsSync(join(dir, 'package.json'))) continue;
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const { tarball, files } = pack(dir);
    models.set(manifest.name, tarball);
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

  // 2. One scratch project with every tarball and the libraries' non-optional peers.
  const project = join(scratch, 'project');
  const cacheDir = join(scratch, 'empty-cache');
  mkdirSync(project, { recursive: true });
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'scratch', private: true }));
  const tarballs = [
    ...[...libraries.values()].map((library) => library.tarball),
    ...models.values(),
  ];
  const npmInstall = (cwd, args) =>
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...args], {
      cwd,
      stdio: 'inherit',
    });
  npmInstall(project, [...tarballs, ...peers]);
  say(`installed ${tarballs.length} tarballs and ${[...peers].join(', ')} in ${project}`);

  // 3. Every library loads with require and import; every model package's files resolve.
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
  for (const [name, requireCode, importCode] of checks) {
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

  // 4. Offline: the installed cifar10 package against the repository copy, with require and import.
  const { real, images } = testImages(project);
  const optionsFile = join(project, 'compare-options.json');
  writeFileSync(optionsFile, JSON.stringify({ repoModel, images, otherIds: OTHER_IDS }));
  const body = (lib) =>
    `const options = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));\n` +
    `${compareInScratch.toString()}\n` +
    `const summary = await compareInScratch(${lib}, options);\n` +
    'fs.writeFileSync(process.argv[3], JSON.stringify(summary));\n';
  const scripts = {
    require:
      `const fs = require('node:fs');\nconst lib = require('@imgcls/classifier');\n` +
      `(async () => {\n${body('lib')}})().catch((error) => { console.error(error); process.exit(1); });\n`,
    import: `import * as fs from 'node:fs';\nimport * as lib from '@imgcls/classifier';\n${body('lib')}`,
  };
  let repositoryTop1;
  for (const [style, code] of Object.entries(scripts)) {
    const file = join(project, style === 'require' ? 'compare.cjs' : 'compare.mjs');
    const resultFile = join(project, `compare-${style}.json`);
    writeFileSync(file, code);
    try {
      run(process.execPath, [file, optionsFile, resultFile], {
        cwd: project,
        env: childEnv(cacheDir),
      });
      const results = checkComparison(
        style,
        JSON.parse(readFileSync(resultFile, 'utf8')),
        project,
        real,
      );
      repositoryTop1 ??= results;
    } catch (error) {
      fail(`${style}: comparing the installed cifar10 with the repository copy:\n${reason(error)}`);
    }
  }

  // 5. The README's Node quickstart, in a fresh project installed from its own npm install line.
  try {
    const quickstart = readmeQuickstart();
    const app = join(scratch, 'quickstart');
    mkdirSync(app, { recursive: true });
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'quickstart', private: true }));
    // @imgcls packages come from the tarballs, with the @imgcls libraries they depend on (not on npm yet).
    const wanted = new Set();
    const addLibrary = (name) => {
      if (wanted.has(name) || !libraries.has(name)) return;
      wanted.add(name);
      for (const dependency of Object.keys(libraries.get(name).manifest.dependencies ?? {}))
        addLibrary(dependency);
    };
    const fromRegistry = [];
    for (const spec of quickstart.packages) {
      if (libraries.has(spec)) addLibrary(spec);
      else if (models.has(spec)) wanted.add(spec);
      else if (spec.startsWith('@imgcls/'))
        throw new Error(`the README installs ${spec}, unknown here`);
      else fromRegistry.push(spec);
    }
    npmInstall(app, [
      ...[...wanted].map((name) => libraries.get(name)?.tarball ?? models.get(name)),
      ...fromRegistry,
    ]);
    // The image the snippet names: a real one of its class, which the repository copy gets right.
    const expectedLabel = basename(quickstart.image).replace(/\.[^.]+$/, '');
    const pick =
      (real &&
        (repositoryTop1 ?? []).find(
          (result) =>
            result.label === expectedLabel && result.repository[0].label === expectedLabel,
        )) ||
      repositoryTop1?.[0];
    if (!pick) throw new Error('no comparison results to pick the quickstart image from');
    copyFileSync(pick.path, join(app, quickstart.image));
    const expected = `${real ? expectedLabel : pick.repository[0].label} package`;
    writeFileSync(join(app, 'classify.mjs'), quickstart.script);
    writeFileSync(join(app, 'no-network.mjs'), NO_NETWORK);
    const printed = run(process.execPath, ['--import', './no-network.mjs', 'classify.mjs'], {
      cwd: app,
      env: childEnv(cacheDir),
    }).trim();
    if (printed !== expected)
      fail(`README quickstart printed "${printed}", expected "${expected}" (${pick.path})`);
    else if (real && quickstart.printed !== printed)
      fail(`README quickstart prints "${printed}" but its comment says "${quickstart.printed}"`);
    else
      say(
        `README quickstart (npm install ${quickstart.packages.join(' ')}; node classify.mjs, ` +
          `downloads off) printed "${printed}" for ${real ? 'a real CIFAR-10' : 'a synthetic'} ${quickstart.image}`,
      );

    // The browser snippet bundles with Vite from the same tarballs (no browser run: no network here).
    const snippet = readmeBrowserSnippet();
    mkdirSync(join(app, 'src'), { recursive: true });
    writeFileSync(join(app, 'src/main.js'), snippet);
    writeFileSync(
      join(app, 'index.html'),
      '<!doctype html><meta charset="utf-8"><script type="module" src="/src/main.js"></script>',
    );
    const { build } = await import('vite');
    const outDir = join(app, 'dist');
    await build({ root: app, configFile: false, logLevel: 'error', build: { outDir } });
    const bundle = readdirSync(join(outDir, 'assets'))
      .filter((file) => file.endsWith('.js'))
      .map((file) => readFileSync(join(outDir, 'assets', file), 'utf8'))
      .join('\n');
    // Vite swaps Node built-ins for __vite-browser-external stubs: none may be left in a browser build.
    const nodeOnly = ['__vite-browser-external', '"sharp"', '"node:fs"', '"node:module"'].filter(
      (name) => bundle.includes(name),
    );
    if (nodeOnly.length > 0) fail(`the browser bundle refers to ${nodeOnly.join(', ')}`);
    else say(`README browser snippet bundles with Vite (${kib(bundle.length)} of JavaScript)`);
  } catch (error) {
    fail(`README quickstart: ${reason(error)}`);
  }
} catch (error) {
  fail(reason(error));
} finally {
  // biome-ignore lint/suspicious/noUndeclaredEnvVars: a debugging switch of a script turbo never runs
  if (process.env.PACK_SMOKE_KEEP) say(`kept ${scratch}`);
  else rmSync(scratch, { recursive: true, force: true });
}
say(
  `${failures === 0 ? 'all checks passed' : `${failures} failure(s)`} in ${((Date.now() - started) / 1000).toFixed(0)} s`,
);
process.exit(failures > 0 ? 1 : 0);
