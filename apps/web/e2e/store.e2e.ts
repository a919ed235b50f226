import { join } from 'node:path';
import { loadClassifier, type Prediction } from '@imgcls/classifier';
import { CIFAR10_LABELS, MODEL_PACKAGES } from '@imgcls/models';
import { decodeImage } from '@imgcls/preprocess';
import '@tensorflow/tfjs-backend-wasm';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CdnServer, type Fault, startCdnServer } from '../../../tooling/cdn-server';
import { cifarTestImages, REPO_MODELS } from './fixtures';
import { launchChromium } from './harness';
import { type LibraryPage, type StaticServer, serveStatic, startLibraryPage } from './library-page';

/** The package `cifar10` resolves to, as the registry pins it (name, version, every file's SHA-256 and size). */
const PIN = MODEL_PACKAGES['cifar10-airbench-float16'] as (typeof MODEL_PACKAGES)[string];
const PACKAGE_FOLDER = join(REPO_MODELS, PIN.folder);
const PACKAGE_PATH = `/npm/${PIN.name}@${PIN.version}/`;

/** Pixels as they cross into the page (typed arrays do not survive page.evaluate). */
interface Pixels {
  readonly name: string;
  readonly width: number;
  readonly height: number;
  readonly data: number[];
}

/** What the page reports for one load of `cifar10` (and the classification of every image given). */
interface PageLoad {
  readonly source?: string;
  readonly origin?: string;
  readonly top5?: Prediction[][];
  readonly error?: { readonly code?: string; readonly name: string; readonly message: string };
}

/** One Cache Storage entry, hashed in the page. */
interface CacheEntry {
  readonly url: string;
  readonly sha256: string;
  readonly bytes: number;
}

/** A deterministic 32×32 picture, so the cache tests compare predictions without the shared data. */
const PROBE: Pixels = {
  name: 'probe',
  width: 32,
  height: 32,
  data: Array.from({ length: 32 * 32 * 3 }, (_, index) => (index * 37 + (index >> 5) * 11) % 256),
};

/** Loads `cifar10` in the page with these per-call options and classifies every image (top-5). */
function loadInPage(
  page: Page,
  options: Record<string, unknown>,
  images: readonly Pixels[] = [PROBE],
): Promise<PageLoad> {
  return page.evaluate(
    async ([options, images]) => {
      const { loadClassifier } = (
        globalThis as unknown as {
          imgcls: { loadClassifier: typeof import('@imgcls/classifier').loadClassifier };
        }
      ).imgcls;
      try {
        const classifier = await loadClassifier('cifar10', { backend: 'wasm', ...options });
        const { source, origin } = classifier.info();
        const top5 = [];
        for (const image of images)
          top5.push(
            await classifier.classify(
              { width: image.width, height: image.height, data: Uint8Array.from(image.data) },
              { topK: 5 },
            ),
          );
        classifier.dispose();
        return { source, origin, top5 };
      } catch (error) {
        const { code, name, message } = error as { code?: string; name: string; message: string };
        return { error: { code, name, message } };
      }
    },
    [options, images] as const,
  );
}

/** Every entry of the library's Cache Storage bucket, with the SHA-256 of its body. */
function cacheInventory(page: Page): Promise<CacheEntry[]> {
  return page.evaluate(async () => {
    const { BROWSER_CACHE_NAME } = (
      globalThis as unknown as { imgcls: { BROWSER_CACHE_NAME: string } }
    ).imgcls;
    const cache = await caches.open(BROWSER_CACHE_NAME);
    const entries = [];
    for (const request of await cache.keys()) {
      const body = await ((await cache.match(request)) as Response).arrayBuffer();
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', body));
      const sha256 = Array.from(digest, (byte) => byte.toString(16).padStart(2, '0')).join('');
      entries.push({ url: request.url, sha256, bytes: body.byteLength });
    }
    return entries.sort((a, b) => a.url.localeCompare(b.url));
  });
}

/** Asserts each cached file is one of the package's files, byte for byte as pinned; returns their names. */
function expectOnlyPinnedFiles(entries: readonly CacheEntry[], cdn: CdnServer): string[] {
  const base = `${cdn.url}${PACKAGE_PATH}`;
  return entries.map((entry) => {
    expect(entry.url.startsWith(base), entry.url).toBe(true);
    const file = entry.url.slice(base.length);
    expect(PIN.files[file], `${file} is a pinned file`).toBeDefined();
    expect({ file, sha256: entry.sha256, bytes: entry.bytes }).toEqual({
      file,
      sha256: PIN.files[file]?.sha256,
      bytes: PIN.files[file]?.bytes,
    });
    return file;
  });
}

const allFiles = Object.keys(PIN.files).sort();

/**
 * The model store of the classifier's browser build in Chromium (a page bundled outside the app), against
 * a loopback npm CDN serving the model package `cifar10` is pinned to: downloads checked file by file
 * against the registry's pins, kept in Cache Storage, and every way a CDN or mirror fails.
 */
describe('the model store in Chromium, against a CDN that serves the pinned package', () => {
  let library: LibraryPage;
  let browser: Browser;

  beforeAll(async () => {
    library = await startLibraryPage();
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await library?.close();
  });

  /** A fresh context (so an empty Cache Storage) with the library loaded. */
  async function newPage(): Promise<Page> {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(library.server.url);
    await page.waitForFunction(() => 'imgcls' in globalThis);
    return page;
  }

  describe('a good CDN', () => {
    let cdn: CdnServer;
    let models: StaticServer;
    let context: BrowserContext;
    let page: Page;
    let firstLoad: PageLoad;
    const images = cifarTestImages(CIFAR10_LABELS);
    if (!images)
      console.warn('[store e2e] parity with Node skipped: the shared CIFAR-10 archive is absent');
    let pixels: Pixels[] = [];

    beforeAll(async () => {
      cdn = await startCdnServer({ [`${PIN.name}@${PIN.version}`]: PACKAGE_FOLDER });
      models = await serveStatic({ '/models/': REPO_MODELS });
      page = await newPage();
      context = page.context();
      pixels = await Promise.all(
        (images ?? []).map(async (image) => {
          const decoded = await decodeImage(image.buffer);
          return { ...decoded, name: image.name, data: Array.from(decoded.data) };
        }),
      );
    });

    afterAll(async () => {
      await context?.close();
      await cdn?.close();
      await models?.close();
    });

    it('downloads every file of the package from the CDN layout, each matching its pin, into Cache Storage', async () => {
      const started = performance.now();
      firstLoad = await loadInPage(page, { remoteHost: cdn.url });
      const milliseconds = performance.now() - started;
      expect(firstLoad.error).toBeUndefined();
      expect(firstLoad.source).toBe('cdn');
      expect(firstLoad.origin).toBe(`${cdn.url}${PACKAGE_PATH}model.json`);
      expect([...new Set(cdn.requests)].sort()).toEqual(
        allFiles.map((file) => `${PACKAGE_PATH}${file}`),
      );
      const cached = await cacheInventory(page);
      expect(expectOnlyPinnedFiles(cached, cdn).sort()).toEqual(allFiles);
      console.info(
        `[store e2e] ${PIN.name}@${PIN.version}: ${cached.length} files (${cached.reduce((sum, entry) => sum + entry.bytes, 0)} bytes) downloaded, verified and cached in ${milliseconds.toFixed(0)} ms`,
      );
    });

    it('gives real CIFAR-10 test images the same top-5 as loadClassifier("cifar10") in Node, within 1e-5', async (test) => {
      if (!images) return test.skip('the shared CIFAR-10 archive is absent');
      const inBrowser = await loadInPage(page, { remoteHost: cdn.url }, pixels);
      expect(inBrowser.error).toBeUndefined();
      expect(inBrowser.source).toBe('cdn');
      const node = await loadClassifier('cifar10', { backend: 'wasm' });
      let largest = 0;
      try {
        expect(node.info().source).toBe('package');
        for (const [index, image] of pixels.entries()) {
          const expected = await node.classify(
            { width: image.width, height: image.height, data: Uint8Array.from(image.data) },
            { topK: 5 },
          );
          const actual = inBrowser.top5?.[index] ?? [];
          expect(
            actual.map((p) => p.label),
            image.name,
          ).toEqual(expected.map((p) => p.label));
          for (const [rank, prediction] of expected.entries()) {
            const difference = Math.abs(
              (actual[rank]?.probability ?? Number.NaN) - prediction.probability,
            );
            largest = Math.max(largest, difference);
            expect(difference, `${image.name} #${rank + 1} ${prediction.label}`).toBeLessThan(1e-5);
          }
        }
      } finally {
        node.dispose();
      }
      console.info(
        `[store e2e] top-5 of ${pixels.length} CIFAR-10 test images, Node (installed package) vs Chromium (CDN): largest |Δp| ${largest.toExponential(2)}`,
      );
    });

    it('loads from a models folder (a URL) before the CDN, when the setting names one', async () => {
      const before = cdn.requests.length;
      const fromFolder = await loadInPage(page, {
        remoteHost: cdn.url,
        modelsFolder: `${models.url}/models/`,
      });
      expect(fromFolder.error).toBeUndefined();
      expect(fromFolder.source).toBe('models-folder');
      expect(fromFolder.origin).toBe(`${models.url}/models/${PIN.folder}/`);
      expect(cdn.requests.length).toBe(before);
      expect(fromFolder.top5).toEqual(firstLoad.top5);
    });

    it('loads again from Cache Storage with the CDN server stopped, with the same result', async () => {
      const before = cdn.requests.length;
      await cdn.close();
      const fromCache = await loadInPage(page, { remoteHost: cdn.url });
      expect(fromCache.error).toBeUndefined();
      expect(fromCache.source).toBe('cdn');
      expect(fromCache.top5).toEqual(firstLoad.top5);
      const offline = await loadInPage(page, { remoteHost: cdn.url, offline: true });
      expect(offline.error).toBeUndefined();
      expect(offline.top5).toEqual(firstLoad.top5);
      expect(cdn.requests.length).toBe(before);
      expect(expectOnlyPinnedFiles(await cacheInventory(page), cdn).sort()).toEqual(allFiles);
    });
  });

  describe('a CDN or mirror that misbehaves', () => {
    let cdn: CdnServer;

    beforeAll(async () => {
      cdn = await startCdnServer({ [`${PIN.name}@${PIN.version}`]: PACKAGE_FOLDER });
    });

    afterAll(async () => {
      await cdn?.close();
    });

    const cases: ReadonlyArray<{ file: string; fault: Fault; code: string; message: RegExp }> = [
      {
        file: 'weights.bin',
        fault: 'corrupt',
        code: 'CHECKSUM_MISMATCH',
        message:
          /weights\.bin: sha256 is [0-9a-f]{64}, expected [0-9a-f]{64}\. .*nothing was cached/,
      },
      {
        file: 'weights.bin',
        fault: 'truncate',
        code: 'CHECKSUM_MISMATCH',
        message:
          /weights\.bin: sha256 is [0-9a-f]{64}, expected [0-9a-f]{64}\. .*nothing was cached/,
      },
      {
        file: 'model.json',
        fault: 'html',
        code: 'CHECKSUM_MISMATCH',
        message:
          /model\.json: sha256 is [0-9a-f]{64}, expected [0-9a-f]{64}\. .*nothing was cached/,
      },
      {
        file: 'weights.bin',
        fault: 'missing',
        code: 'DOWNLOAD_FAILED',
        message: /weights\.bin answered HTTP 404/,
      },
      {
        file: 'model.json',
        fault: 'missing',
        code: 'DOWNLOAD_FAILED',
        message: /model\.json answered HTTP 404/,
      },
      {
        file: 'metadata.json',
        fault: 'missing',
        code: 'DOWNLOAD_FAILED',
        message: /metadata\.json answered HTTP 404/,
      },
    ];

    it.each(cases)(
      '$fault $file: $code with a useful message, nothing bad cached, then the good server loads in the same page',
      async ({ file, fault, code, message }) => {
        const page = await newPage();
        try {
          cdn.fault(file, fault);
          let bad: PageLoad;
          try {
            bad = await loadInPage(page, { remoteHost: cdn.url });
          } finally {
            cdn.fault(file, undefined);
          }
          expect(bad.error?.code, bad.error?.message).toBe(code);
          expect(bad.error?.message).toContain(`${cdn.url}${PACKAGE_PATH}${file}`);
          expect(bad.error?.message).toMatch(message);
          const left = expectOnlyPinnedFiles(await cacheInventory(page), cdn);
          expect(left).not.toContain(file);
          console.info(
            `[store e2e] ${fault} ${file}: ${bad.error?.code}; left in Cache Storage: ${left.join(', ') || 'nothing'}`,
          );

          const good = await loadInPage(page, { remoteHost: cdn.url });
          expect(good.error).toBeUndefined();
          expect(good.source).toBe('cdn');
          expect(expectOnlyPinnedFiles(await cacheInventory(page), cdn).sort()).toEqual(allFiles);
        } finally {
          await page.context().close();
        }
      },
    );

    it('allowRemote: false fails with MODEL_NOT_FOUND naming what to do, without a request', async () => {
      const page = await newPage();
      try {
        const before = cdn.requests.length;
        const refused = await loadInPage(page, { remoteHost: cdn.url, allowRemote: false });
        expect(refused.error?.code).toBe('MODEL_NOT_FOUND');
        expect(refused.error?.message).toContain('"cifar10"');
        expect(refused.error?.message).toContain('allowRemote: false');
        expect(refused.error?.message).toContain(`${PIN.name}@${PIN.version}`);
        expect(refused.error?.message).toMatch(/remoteHost.*modelsFolder/);
        const offline = await loadInPage(page, { remoteHost: cdn.url, offline: true });
        expect(offline.error?.code).toBe('MODEL_NOT_FOUND');
        expect(offline.error?.message).toMatch(/not in the download cache and offline mode is on/);
        expect(cdn.requests.length).toBe(before);
        expect(await cacheInventory(page)).toEqual([]);
        console.info(`[store e2e] allowRemote: false → ${refused.error?.message}`);
      } finally {
        await page.context().close();
      }
    });
  });
});
