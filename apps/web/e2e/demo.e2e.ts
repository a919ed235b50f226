import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importTflite, parseLabelsFile, tfliteMetadata } from '@imgcls/models';
import { directoryHandler, writeMetadata } from '@imgcls/models/node';
import { decodeImage } from '@imgcls/preprocess';
import '@tensorflow/tfjs-backend-wasm';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedData } from '../../../tooling/test-data';
import { launchChromium, RESULTS_DIR, type RunningApp, startApp } from './harness';

const tflite = sharedData('mobilenet-v2/mobilenet_v2_1.0_224_quant.tflite');
const labels = sharedData('mobilenet-v2/imagenet_labels.txt');
const photos = sharedData('photos');
const servedMobileNet = fileURLToPath(new URL('../public/models/mobilenet-v2/', import.meta.url));
const REPO_MODELS = fileURLToPath(new URL('../../../models/', import.meta.url));

describe('the two-model demo in Chromium', () => {
  let app: RunningApp;
  let browser: Browser;
  let page: Page;
  let hopperPng: Buffer | undefined;

  beforeAll(async () => {
    // Where the real model is available, serve an imported copy the way a user who ran
    // `imgcls models import` would have it; otherwise the panel must say why it is unavailable.
    if (tflite && labels && photos) {
      await tf.setBackend('wasm');
      const imported = importTflite(new Uint8Array(readFileSync(tflite)), { name: 'mobilenet-v2' });
      mkdirSync(servedMobileNet, { recursive: true });
      await imported.model.save(directoryHandler(servedMobileNet));
      await writeMetadata(
        servedMobileNet,
        tfliteMetadata(imported, {
          id: 'mobilenet-v2',
          labels: parseLabelsFile(readFileSync(labels, 'utf8')),
        }),
      );
      imported.model.dispose();
      const hopper = await decodeImage(join(photos, 'grace_hopper.bmp'));
      hopperPng = await sharp(hopper.data, {
        raw: { width: hopper.width, height: hopper.height, channels: 3 },
      })
        .png()
        .toBuffer();
    }
    app = await startApp();
    browser = await launchChromium();
    page = await browser.newPage();
    await page.goto(app.url);
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    rmSync(servedMobileNet, { recursive: true, force: true });
  });

  it('shows both model panels, each ready or explaining why not', async () => {
    for (const id of ['mobilenet-v2', 'cifar10']) {
      const panel = page.getByTestId(`panel-${id}`);
      await expect
        .poll(() => panel.getAttribute('data-state'), { timeout: 60_000 })
        .toMatch(/ready|unavailable/);
      if ((await panel.getAttribute('data-state')) === 'unavailable')
        expect(await panel.textContent()).toMatch(/not available: .{20,}/);
    }
    // The CIFAR-10 panel is ready exactly when the repository ships a CIFAR-10 model, and explains itself otherwise.
    const shipped = ['cifar10-resnet9', 'cifar10-seedcnn'].some((name) =>
      existsSync(join(REPO_MODELS, name, 'model.json')),
    );
    expect(await page.getByTestId('panel-cifar10').getAttribute('data-state')).toBe(
      shipped ? 'ready' : 'unavailable',
    );
  });

  it.skipIf(!tflite || !labels || !photos)(
    'classifies a real photo: Grace Hopper is a military uniform',
    async () => {
      await page.getByTestId('file-input').setInputFiles({
        name: 'grace_hopper.png',
        mimeType: 'image/png',
        buffer: hopperPng as Buffer,
      });
      const panel = page.getByTestId('panel-mobilenet-v2');
      await expect.poll(() => panel.getAttribute('data-state'), { timeout: 60_000 }).toBe('result');
      expect(await panel.locator('.predictions li .label').first().textContent()).toBe(
        'military uniform',
      );
      mkdirSync(RESULTS_DIR, { recursive: true });
      await page.screenshot({ path: `${RESULTS_DIR}demo-grace-hopper.png`, fullPage: true });
    },
  );

  it('explains a file that is not an image', async () => {
    await page.getByTestId('file-input').setInputFiles({
      name: 'notes.jpg',
      mimeType: 'image/jpeg',
      buffer: Buffer.from('these are not pixels'),
    });
    await expect
      .poll(() => page.getByTestId('input-error').textContent(), { timeout: 30_000 })
      .toMatch(/could not be read as an image: .*not an image/);
    await page.screenshot({ path: `${RESULTS_DIR}demo-bad-file.png`, fullPage: true });
  });
});
