// pack-smoke's README check: the Node quickstart, extracted as written, runs in a fresh project that
// installs what its `npm install` line names (with the tarballs standing in for @imgcls packages) and
// prints the expected top class; the browser snippet bundles with Vite in that project.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { childEnv, fail, kib, npmInstall, reason, root, run, say } from './pack-smoke-common.mjs';

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

/** The body of the first fenced block in `text` for `language` (e.g. the first ```js block). */
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

/**
 * What to `npm install` for the README's package list: @imgcls packages as tarballs, with the @imgcls
 * libraries they depend on (not on npm yet); everything else from the registry.
 */
function installArguments(specs, libraries, models) {
  const wanted = new Set();
  const addLibrary = (name) => {
    if (wanted.has(name) || !libraries.has(name)) return;
    wanted.add(name);
    for (const dependency of Object.keys(libraries.get(name).manifest.dependencies ?? {}))
      addLibrary(dependency);
  };
  const fromRegistry = [];
  for (const spec of specs) {
    if (libraries.has(spec)) addLibrary(spec);
    else if (models.has(spec)) wanted.add(spec);
    else if (spec.startsWith('@imgcls/'))
      throw new Error(`the README installs ${spec}, unknown here`);
    else fromRegistry.push(spec);
  }
  return [
    ...[...wanted].map((name) => libraries.get(name)?.tarball ?? models.get(name)),
    ...fromRegistry,
  ];
}

/**
 * The image the snippet names: a real one of its class, which the repository copy gets right; with
 * synthetic images, the first one. Returns it with the line the snippet should print for it.
 */
function pickImage(quickstart, { real, results }) {
  const expectedLabel = basename(quickstart.image).replace(/\.[^.]+$/, '');
  const pick =
    (real &&
      (results ?? []).find(
        (result) => result.label === expectedLabel && result.repository[0].label === expectedLabel,
      )) ||
    results?.[0];
  if (!pick) throw new Error('no comparison results to pick the quickstart image from');
  return { pick, expected: `${real ? expectedLabel : pick.repository[0].label} package` };
}

/** Installs the quickstart into scratch/quickstart, runs it offline and checks its output; returns the project. */
function runNodeQuickstart({ scratch, cacheDir, libraries, models, offline }) {
  const quickstart = readmeQuickstart();
  const app = join(scratch, 'quickstart');
  mkdirSync(app, { recursive: true });
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'quickstart', private: true }));
  npmInstall(app, installArguments(quickstart.packages, libraries, models));
  const { pick, expected } = pickImage(quickstart, offline);
  copyFileSync(pick.path, join(app, quickstart.image));
  writeFileSync(join(app, 'classify.mjs'), quickstart.script);
  writeFileSync(join(app, 'no-network.mjs'), NO_NETWORK);
  const printed = run(process.execPath, ['--import', './no-network.mjs', 'classify.mjs'], {
    cwd: app,
    env: childEnv(cacheDir),
  }).trim();
  if (printed !== expected)
    fail(`README quickstart printed "${printed}", expected "${expected}" (${pick.path})`);
  else if (offline.real && quickstart.printed !== printed)
    fail(`README quickstart prints "${printed}" but its comment says "${quickstart.printed}"`);
  else
    say(
      `README quickstart (npm install ${quickstart.packages.join(' ')}; node classify.mjs, ` +
        `downloads off) printed "${printed}" for ${offline.real ? 'a real CIFAR-10' : 'a synthetic'} ${quickstart.image}`,
    );
  return app;
}

/** The browser snippet, built with Vite in `app` from the same tarballs (no browser run: no network here). */
async function bundleBrowserSnippet(app) {
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
}

/**
 * The README's Node quickstart, then its browser snippet in the same project. Whatever stops either
 * one is a single failure; the other checks of the run still count.
 */
export async function checkReadmeQuickstart(context) {
  try {
    const app = runNodeQuickstart(context);
    await bundleBrowserSnippet(app);
  } catch (error) {
    fail(`README quickstart: ${reason(error)}`);
  }
}
