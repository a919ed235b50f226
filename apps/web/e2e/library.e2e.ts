import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadClassifier, type Prediction } from '@imgcls/classifier';
import { importTflite, parseLabelsFile, tfliteMetadata } from '@imgcls/models';
import { directoryHandler, writeMetadata } from '@imgcls/models/node';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedData } from '../../../tooling/test-data';
import { photoPng } from './fixtures';
import { launchChromium } from './harness';
import { type LibraryPage, type StaticServer, serveStatic, startLibraryPage } from './library-page';

const tflitePath = sharedData('mobilenet-v2/mobilenet_v2_1.0_224_quant.tflite');
const labelsPath = sharedData('mobilenet-v2/imagenet_labels.txt');
const hopperPath = sharedData('photos/grace_hopper.bmp');
const available = Boolean(tflitePath && labelsPath && hopperPath);
if (!available)
  console.warn('[library e2e] skipped: the shared MobileNetV2 model or photos are absent');

/** What the page's script returns from one classification. */
interface PageResult {
  readonly top5?: Prediction[];
  readonly backend?: string;
  readonly error?: { readonly code?: string; readonly message: string };
}

/**
 * The classifier library itself in Chromium (its browser build, bundled from the workspace), against a
 * model on another origin, as a page would load a hosted model: parity with Node, and the Cache Storage
 * download cache with its checksums and offline mode.
 */
describe.skipIf(!available)('the classifier library in Chromium', () => {
  let modelDirectory: string;
  let host: StaticServer;
  let library: LibraryPage;
  let browser: Browser;
  let modelUrl: string;

  beforeAll(async () => {
    // The real MobileNetV2 imported and saved the way `imgcls models import` does, on a "model host".
    await tf.setBackend('wasm');
    modelDirectory = mkdtempSync(join(tmpdir(), 'imgcls-library-e2e-'));
    const imported = importTflite(new Uint8Array(readFileSync(tflitePath as string)), {
      name: 'mobilenet-v2',
    });
    await imported.model.save(directoryHandler(modelDirectory));
    await writeMetadata(
      modelDirectory,
      tfliteMetadata(imported, {
        id: 'mobilenet-v2',
        labels: parseLabelsFile(readFileSync(labelsPath as string, 'utf8')),
      }),
    );
    imported.model.dispose();
    host = await serveStatic({ '/mobilenet-v2/': modelDirectory });
    modelUrl = `${host.url}/mobilenet-v2/model.json`;
    const hopper = await photoPng('grace_hopper');
    library = await startLibraryPage({
      '/grace_hopper.png': { body: hopper?.buffer as Buffer, type: 'image/png' },
    });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await library?.close();
    await host?.close();
    if (modelDirectory) rmSync(modelDirectory, { recursive: true, force: true });
  });

  /** A fresh page (own browser context, so an empty Cache Storage) with the library loaded. */
  async function newPage(): Promise<Page> {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(library.server.url);
    await page.waitForFunction(() => 'imgcls' in globalThis);
    return page;
  }

  /** Loads the hosted model in the page and classifies the photo from an <img> element. */
  function classifyInPage(page: Page, options: { offline?: boolean } = {}): Promise<PageResult> {
    return page.evaluate(
      async ([url, offline]) => {
        const { loadClassifier } = (
          globalThis as unknown as {
            imgcls: { loadClassifier: typeof import('@imgcls/classifier').loadClassifier };
          }
        ).imgcls;
        const image = new Image();
        image.src = '/grace_hopper.png';
        await image.decode();
        try {
          const classifier = await loadClassifier(url, { backend: 'wasm', offline });
          // The browser build takes an <img>; the types seen here are the Node build's.
          const top5 = await classifier.classify(image as never, { topK: 5 });
          const { backend } = classifier.info();
          classifier.dispose();
          return { top5, backend };
        } catch (error) {
          return { error: { code: (error as { code?: string }).code, message: String(error) } };
        }
      },
      [modelUrl, options.offline ?? false] as const,
    );
  }

  it('gives a photo from an <img> the same top-5 probabilities as a file path in Node, within 1e-4', async () => {
    const page = await newPage();
    const inBrowser = await classifyInPage(page);
    expect(inBrowser.error).toBeUndefined();
    expect(inBrowser.backend).toBe('wasm');
    const labels = parseLabelsFile(readFileSync(labelsPath as string, 'utf8'));
    const node = await loadClassifier(tflitePath as string, { labels, backend: 'wasm' });
    const inNode = await node.classify(hopperPath as string, { topK: 5 });
    node.dispose();
    expect(inNode[0]?.label).toBe('military uniform');
    expect(inBrowser.top5?.map((p) => p.label)).toEqual(inNode.map((p) => p.label));
    const differences = inNode.map((expected, index) =>
      Math.abs((inBrowser.top5?.[index]?.probability as number) - expected.probability),
    );
    console.info(
      `[library e2e] top-5 Node vs Chromium: largest |Δp| ${Math.max(...differences).toExponential(2)}`,
    );
    for (const [index, expected] of inNode.entries())
      expect(
        Math.abs((inBrowser.top5?.[index]?.probability as number) - expected.probability),
        expected.label,
      ).toBeLessThan(1e-4);
    await page.context().close();
  });

  it('downloads a hosted model once into Cache Storage, then works offline and with the host down', async () => {
    const page = await newPage();
    const before = host.requests.length;
    const online = await classifyInPage(page);
    expect(online.error).toBeUndefined();
    const downloaded = host.requests.slice(before);
    expect(downloaded).toEqual(
      expect.arrayContaining(['/mobilenet-v2/model.json', '/mobilenet-v2/metadata.json']),
    );
    const cached = await page.evaluate(async () => {
      const { BROWSER_CACHE_NAME } = (
        globalThis as unknown as { imgcls: { BROWSER_CACHE_NAME: string } }
      ).imgcls;
      const cache = await caches.open(BROWSER_CACHE_NAME);
      return (await cache.keys()).map((request) => new URL(request.url).pathname).sort();
    });
    expect(cached).toEqual([...new Set(downloaded)].sort());

    host.online = false;
    try {
      const afterDownload = host.requests.length;
      const offline = await classifyInPage(page, { offline: true });
      expect(offline.error).toBeUndefined();
      expect(offline.top5).toEqual(online.top5);
      expect(host.requests.length).toBe(afterDownload); // offline: not a single request
      const hostDown = await classifyInPage(page);
      expect(hostDown.top5).toEqual(online.top5);
    } finally {
      host.online = true;
    }
    await page.context().close();
  });

  it('rejects a corrupted cache entry by its checksum and downloads it afresh once online', async () => {
    const page = await newPage();
    expect((await classifyInPage(page)).error).toBeUndefined();
    const corrupted = await page.evaluate(async () => {
      const { BROWSER_CACHE_NAME } = (
        globalThis as unknown as { imgcls: { BROWSER_CACHE_NAME: string } }
      ).imgcls;
      const cache = await caches.open(BROWSER_CACHE_NAME);
      const shard = (await cache.keys()).find((request) => request.url.endsWith('.bin'));
      if (!shard) return undefined;
      const entry = (await cache.match(shard)) as Response;
      const bytes = new Uint8Array(await entry.arrayBuffer());
      bytes[1000] = (bytes[1000] as number) ^ 0xff;
      await cache.put(shard, new Response(bytes, { headers: entry.headers }));
      return shard.url;
    });
    expect(corrupted).toBeDefined();
    const rejected = await classifyInPage(page, { offline: true });
    expect(rejected.error?.code).toBe('CHECKSUM_MISMATCH');
    // The bad entry is gone: offline there is nothing left to load; online it is downloaded again.
    expect((await classifyInPage(page, { offline: true })).error?.code).toBe('OFFLINE');
    const again = await classifyInPage(page);
    expect(again.error).toBeUndefined();
    expect(again.top5?.[0]?.label).toBe('military uniform');
    await page.context().close();
  });
});
