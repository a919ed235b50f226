import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join, normalize } from 'node:path';
import { MODEL_PACKAGES } from '@imgcls/models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CdnServer, startCdnServer } from '../../../tooling/cdn-server';
import { REPO_ROOT } from '../../../tooling/test-data';
import { runCli } from './run-cli';

// Real processes of the built CLI against real HTTP on loopback: a CDN stand-in serving the repository's
// model folders as packages, and a plain static server over a folder `imgcls models mirror` wrote.

const SEEDCNN = MODEL_PACKAGES['cifar10-seedcnn'];
if (!SEEDCNN) throw new Error('cifar10-seedcnn is not a pinned model package');
const SEEDCNN_KEY = `${SEEDCNN.name}@${SEEDCNN.version}`;

/** No models folder or cache from the environment: each test names its own. */
const CLEAN_ENV = { IMGCLS_MODELS_DIR: undefined, IMGCLS_CACHE_DIR: undefined };

interface Listed {
  id: string;
  description: string;
  source: string;
  location: string | null;
  reason?: string;
  remote: string;
  cached: boolean;
}

interface Pulled {
  url: string;
  cacheDir: string;
  pinned: string;
  files: { url: string; path: string; bytes: number; sha256: string }[];
}

/** A static file server over a folder, as a company would serve a mirror. */
async function serveFolder(root: string) {
  const server = createServer((request, response) => {
    const path = normalize(decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname));
    const file = join(root, path);
    if (!file.startsWith(root) || !existsSync(file)) {
      response.writeHead(404).end('Not found');
      return;
    }
    response.writeHead(200).end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const byId = (stdout: string) =>
  new Map((JSON.parse(stdout) as Listed[]).map((row) => [row.id, row]));

/** The pulled files by name, as the pins list them. */
const filesByName = (pulled: Pulled) =>
  Object.fromEntries(
    pulled.files.map((file) => [
      basename(new URL(file.url).pathname),
      { sha256: file.sha256, bytes: file.bytes },
    ]),
  );

describe('imgcls models list / pull / mirror over the model store (spawned binary)', () => {
  let workspace: string;
  let cdn: CdnServer;

  beforeAll(async () => {
    // Outside the repository: no ./models, so only installed packages and downloads remain.
    workspace = mkdtempSync(join(tmpdir(), 'imgcls-store-'));
    cdn = await startCdnServer({ [SEEDCNN_KEY]: join(REPO_ROOT, 'models', SEEDCNN.folder) });
  });

  afterAll(async () => {
    await cdn?.close();
  });

  it('lists where each id loads from: the installed package outside the repository, the models folder with --models-dir', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'imgcls-cache-'));
    const outside = await runCli(
      ['models', 'list', '--json', '--cache-dir', cache],
      workspace,
      undefined,
      CLEAN_ENV,
    );
    expect(outside.code, outside.stderr).toBe(0);
    const rows = byId(outside.stdout);
    expect([...rows.keys()]).toEqual(expect.arrayContaining(['cifar10', 'mobilenet-v2']));
    const cifar10 = rows.get('cifar10') as Listed;
    expect(cifar10.source).toBe('package');
    expect(cifar10.location).toMatch(/cifar10-airbench-float16$/);
    expect(cifar10.remote).toBe(
      `https://cdn.jsdelivr.net/npm/@imgcls/model-cifar10-airbench-float16@${MODEL_PACKAGES['cifar10-airbench-float16']?.version}/model.json`,
    );
    expect(cifar10.cached).toBe(false);
    expect(cifar10.description).toMatch(/airbench/);
    expect(rows.get('mobilenet-v2')).toMatchObject({ source: 'url', cached: false });

    const inFolder = await runCli(
      ['--models-dir', join(REPO_ROOT, 'models'), 'models', 'list', '--json', '--cache-dir', cache],
      workspace,
      undefined,
      CLEAN_ENV,
    );
    expect(inFolder.code, inFolder.stderr).toBe(0);
    expect(byId(inFolder.stdout).get('cifar10')).toMatchObject({
      source: 'models-folder',
      location: join(REPO_ROOT, 'models', 'cifar10-airbench-float16'),
    });

    // An id found nowhere is a row with its reason, not a crash.
    const offline = await runCli(
      ['--offline', 'models', 'list', '--json', '--cache-dir', cache],
      workspace,
      undefined,
      CLEAN_ENV,
    );
    expect(offline.code, offline.stderr).toBe(0);
    const hosted = byId(offline.stdout).get('mobilenet-v2') as Listed;
    expect(hosted.source).toBe('none');
    expect(hosted.location).toBeNull();
    expect(hosted.reason).toMatch(/not in the download cache and offline mode is on/);
    expect(byId(offline.stdout).get('cifar10')?.source).toBe('package');

    // The table for people.
    const table = await runCli(['models', 'list'], workspace, undefined, CLEAN_ENV);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^ID\s+SOURCE\s+CACHED\s+LOCATION\n/);
    expect(table.stdout).toMatch(/\ncifar10\s+package\s+(yes|no)\s+\S*cifar10-airbench-float16\n/);

    const info = await runCli(['models', 'info', 'cifar10'], workspace, undefined, CLEAN_ENV);
    expect(info.code, info.stderr).toBe(0);
    expect(info.stdout).toMatch(/loads from: package \S*cifar10-airbench-float16/);
    expect(info.stdout).toMatch(/registry: package @imgcls\/model-cifar10-airbench-float16@/);
    expect(info.stdout).toMatch(/format: layers-model, 10 labels/);
  });

  it('pulls a package from the CDN into the cache, every file matching its pin, then lists it as cached', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'imgcls-cache-'));
    const store = ['--remote-host', cdn.url, '--cache-dir', cache];
    const pulled = await runCli(
      ['models', 'pull', 'cifar10-seedcnn', ...store, '--json'],
      workspace,
      undefined,
      CLEAN_ENV,
    );
    expect(pulled.code, pulled.stderr).toBe(0);
    const result = JSON.parse(pulled.stdout) as Pulled;
    // The package is installed, and the pull still went to the CDN.
    expect(result.url).toBe(`${cdn.url}/npm/${SEEDCNN_KEY}/model.json`);
    expect(result.cacheDir).toBe(cache);
    expect(result.pinned).toBe('every file');
    expect(filesByName(result)).toEqual(SEEDCNN.files);
    for (const file of result.files) expect(file.path.startsWith(cache)).toBe(true);
    expect(cdn.requests).toEqual(
      expect.arrayContaining(
        Object.keys(SEEDCNN.files).map((file) => `/npm/${SEEDCNN_KEY}/${file}`),
      ),
    );

    const listed = await runCli(
      ['models', 'list', '--json', ...store],
      workspace,
      undefined,
      CLEAN_ENV,
    );
    expect(listed.code, listed.stderr).toBe(0);
    const rows = byId(listed.stdout);
    expect(rows.get('cifar10-seedcnn')).toMatchObject({
      cached: true,
      remote: `${cdn.url}/npm/${SEEDCNN_KEY}/model.json`,
    });
    expect(rows.get('cifar10')?.cached).toBe(false);

    // Text output: the files, their sizes, and that every one was pinned.
    const again = await runCli(
      ['models', 'pull', 'cifar10-seedcnn', ...store],
      workspace,
      undefined,
      CLEAN_ENV,
    );
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/cifar10-seedcnn: 3 files, \d+\.\d\d MiB in /);
    expect(again.stdout).toMatch(/weights\.bin\s+\d+\.\d\d MiB\s+sha256 [0-9a-f]{64}/);
    expect(again.stdout).toContain('every file matched its pinned SHA-256');
  });

  it('refuses a corrupt weights.bin from the CDN, naming the checksum mismatch, and caches no weights', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'imgcls-cache-'));
    const store = ['--remote-host', cdn.url, '--cache-dir', cache];
    cdn.fault('weights.bin', 'corrupt');
    try {
      const pulled = await runCli(
        ['models', 'pull', 'cifar10-seedcnn', ...store],
        workspace,
        undefined,
        CLEAN_ENV,
      );
      expect(pulled.code).toBe(1);
      expect(pulled.stderr).toMatch(
        new RegExp(
          `error: ${cdn.url}/npm/${SEEDCNN_KEY}/weights\\.bin: sha256 is [0-9a-f]{64}, expected ${SEEDCNN.files['weights.bin']?.sha256}`,
        ),
      );
      expect(pulled.stderr).toMatch(/hint: a download that fails its checksum is not cached/);
      expect(pulled.stderr).not.toMatch(/\n\s+at /);
    } finally {
      cdn.fault('weights.bin', undefined);
    }
    expect(readdirSync(cache).filter((name) => name.includes('weights.bin'))).toEqual([]);
    const listed = await runCli(
      ['models', 'list', '--json', ...store],
      workspace,
      undefined,
      CLEAN_ENV,
    );
    expect(byId(listed.stdout).get('cifar10-seedcnn')?.cached).toBe(false);
  });

  it('rejects store flags it cannot use with exit code 2 and the valid values', async () => {
    const cdnName = await runCli(['--cdn', 'nope', 'models', 'list'], workspace);
    expect(cdnName.code).toBe(2);
    expect(cdnName.stderr).toMatch(/'nope' is invalid\. Allowed choices are jsdelivr, unpkg/);
    const host = await runCli(['models', 'list', '--remote-host', 'cdn.example.com'], workspace);
    expect(host.code).toBe(2);
    expect(host.stderr).toContain('--remote-host must be an http(s) URL, got "cdn.example.com"');
    const folder = await runCli(
      ['models', 'list', '--models-dir', join(workspace, 'nowhere')],
      workspace,
    );
    expect(folder.code).toBe(2);
    expect(folder.stderr).toMatch(/--models-dir \S+nowhere does not exist/);
    const unpkg = await runCli(
      ['--cdn', 'unpkg', 'models', 'list', '--json'],
      workspace,
      undefined,
      CLEAN_ENV,
    );
    expect(byId(unpkg.stdout).get('cifar10-seedcnn')?.remote).toBe(
      `https://unpkg.com/${SEEDCNN_KEY}/model.json`,
    );
  });

  it('mirrors the installed packages in the CDN layout, and a plain web server over the folder serves pulls', async () => {
    const mirror = join(mkdtempSync(join(tmpdir(), 'imgcls-mirror-')), 'www');
    const server = await serveFolder(mirror);
    try {
      const written = await runCli(
        ['models', 'mirror', mirror, '--url', server.url, '--json'],
        workspace,
        undefined,
        CLEAN_ENV,
      );
      expect(written.code, written.stderr).toBe(0);
      const report = JSON.parse(written.stdout) as {
        remoteHost: string;
        packages: { id: string; folder: string; files: string[] }[];
      };
      expect(report.remoteHost).toBe(server.url);
      // Every packaged id by default.
      expect(report.packages.map((entry) => entry.folder).sort()).toEqual(
        Object.values(MODEL_PACKAGES)
          .map((pin) => join('npm', `${pin.name}@${pin.version}`))
          .sort(),
      );
      for (const file of Object.keys(SEEDCNN.files))
        expect(existsSync(join(mirror, 'npm', SEEDCNN_KEY, file))).toBe(true);

      const text = await runCli(
        ['models', 'mirror', mirror, 'cifar10-seedcnn', '--url', server.url],
        workspace,
        undefined,
        CLEAN_ENV,
      );
      expect(text.code, text.stderr).toBe(0);
      expect(text.stdout).toContain(`imgcls --remote-host ${server.url}`);

      const cache = mkdtempSync(join(tmpdir(), 'imgcls-cache-'));
      const pulled = await runCli(
        [
          '--remote-host',
          report.remoteHost,
          '--cache-dir',
          cache,
          'models',
          'pull',
          'cifar10-seedcnn',
          '--json',
        ],
        workspace,
        undefined,
        CLEAN_ENV,
      );
      expect(pulled.code, pulled.stderr).toBe(0);
      const result = JSON.parse(pulled.stdout) as Pulled;
      expect(result.url).toBe(`${server.url}/npm/${SEEDCNN_KEY}/model.json`);
      expect(filesByName(result)).toEqual(SEEDCNN.files);

      const hosted = await runCli(
        ['models', 'mirror', mirror, 'mobilenet-v2'],
        workspace,
        undefined,
        CLEAN_ENV,
      );
      expect(hosted.code).toBe(2);
      expect(hosted.stderr).toContain('mobilenet-v2 is a hosted model, not a model package');
    } finally {
      await server.close();
    }
  });
});
