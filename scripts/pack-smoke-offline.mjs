// pack-smoke's offline check: in the scratch project, with downloads off and no network,
// loadClassifier('cifar10') must serve the installed model package, and its top-5 on 20 test images
// must equal the repository copy's, from a CommonJS script and from an ES module.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { childEnv, fail, reason, root, run, say } from './pack-smoke-common.mjs';

const repoModel = join(root, 'models/cifar10-airbench-float16');
// The same place tooling/test-data.ts looks for the workplace's real data.
const sharedData = process.env.IMGCLS_SHARED_DATA ?? resolve(root, '../shared/data');
const cifarArchive = join(sharedData, 'cifar10/cifar10-jpg.tar.gz');
// The class names as the model reads them (metadata.json's labels), so they are written down once.
const CIFAR_LABELS = JSON.parse(readFileSync(join(repoModel, 'metadata.json'), 'utf8')).labels;
/** Probabilities of the installed and the repository copy may differ by this much. */
const TOLERANCE = 1e-6;
/** Registry ids of the other model packages: each must be served from its installed package. */
const OTHER_IDS = [
  'cifar10-airbench',
  'cifar10-resnet9',
  'cifar10-resnet9-float16',
  'cifar10-seedcnn',
  'cifar10-seedcnn-uint8',
];

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

/** 20 test images (two per class) from the CIFAR-10 archive, or synthetic ones where it is absent. */
function testImages(project) {
  const directory = join(project, 'images');
  mkdirSync(directory, { recursive: true });
  if (existsSync(cifarArchive)) return cifarImages(directory);
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

/** The first two test images of each class, extracted from the archive into `directory`. */
function cifarImages(directory) {
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

/** compareInScratch wrapped as a CommonJS script and as an ES module, keyed by how each loads it. */
function comparisonScripts() {
  const body = (lib) =>
    `const options = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));\n` +
    `${compareInScratch.toString()}\n` +
    `const summary = await compareInScratch(${lib}, options);\n` +
    'fs.writeFileSync(process.argv[3], JSON.stringify(summary));\n';
  return {
    require:
      `const fs = require('node:fs');\nconst lib = require('@imgcls/classifier');\n` +
      `(async () => {\n${body('lib')}})().catch((error) => { console.error(error); process.exit(1); });\n`,
    import: `import * as fs from 'node:fs';\nimport * as lib from '@imgcls/classifier';\n${body('lib')}`,
  };
}

/** Fails unless cifar10 came from the installed package, the repository copy from its path, offline. */
function checkOrigins(style, summary, project) {
  const modelDir = join(project, 'node_modules/@imgcls/model-cifar10-airbench-float16');
  if (summary.requests !== 0)
    fail(`${style}: ${summary.requests} network request(s) were attempted`);
  if (summary.installed.source !== 'package' || resolve(summary.installed.origin) !== modelDir)
    fail(
      `${style}: cifar10 came from ${summary.installed.source} ${summary.installed.origin}, not the installed package ${modelDir}`,
    );
  if (summary.repository.source !== 'path' || resolve(summary.repository.origin) !== repoModel)
    fail(`${style}: the repository copy came from ${summary.repository.origin}, not ${repoModel}`);
}

/** Fails on each image whose two top-5s differ; counts the repository copy's right top-1s. */
function compareTop5(style, results) {
  let largest = 0;
  let mismatches = 0;
  let correct = 0;
  for (const { path, label, installed, repository } of results) {
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
  return { largest, mismatches, correct };
}

/** Checks one comparison run's summary; returns its per-image results. */
function checkComparison(style, summary, project, real) {
  checkOrigins(style, summary, project);
  const { largest, mismatches, correct } = compareTop5(style, summary.results);
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

/**
 * Runs the comparison with require and with import in `project`. Returns whether the images are real
 * CIFAR-10 ones and the first successful run's per-image results (undefined if both runs failed).
 */
export function compareOffline(project, cacheDir) {
  const { real, images } = testImages(project);
  const optionsFile = join(project, 'compare-options.json');
  writeFileSync(optionsFile, JSON.stringify({ repoModel, images, otherIds: OTHER_IDS }));
  let results;
  for (const [style, code] of Object.entries(comparisonScripts())) {
    const file = join(project, style === 'require' ? 'compare.cjs' : 'compare.mjs');
    const resultFile = join(project, `compare-${style}.json`);
    writeFileSync(file, code);
    try {
      run(process.execPath, [file, optionsFile, resultFile], {
        cwd: project,
        env: childEnv(cacheDir),
      });
      const summary = JSON.parse(readFileSync(resultFile, 'utf8'));
      // Both runs are checked; the quickstart needs only one run's results.
      const checked = checkComparison(style, summary, project, real);
      results ??= checked;
    } catch (error) {
      fail(`${style}: comparing the installed cifar10 with the repository copy:\n${reason(error)}`);
    }
  }
  return { real, results };
}
