import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mirroredCifarModel, photoPng, serveMobileNet, type TestFile } from './fixtures';
import { launchChromium, RESULTS_DIR, type RunningApp, startApp } from './harness';

/** The RGBA values the canvas in the element with this test id shows. */
function canvasPixels(page: Page, testId: string): Promise<number[]> {
  return page.evaluate((id) => {
    const canvas = document.querySelector<HTMLCanvasElement>(`[data-testid="${id}"] canvas`);
    const context = canvas?.getContext('2d');
    if (!canvas || !context) return [];
    return Array.from(context.getImageData(0, 0, canvas.width, canvas.height).data);
  }, testId);
}

describe('the Grad-CAM overlay in Chromium', () => {
  let app: RunningApp;
  let browser: Browser;
  let page: Page;
  let mobileNet: Awaited<ReturnType<typeof serveMobileNet>>;
  let hopper: TestFile | undefined;
  const cifarModel = mirroredCifarModel();

  beforeAll(async () => {
    mkdirSync(RESULTS_DIR, { recursive: true });
    mobileNet = await serveMobileNet();
    hopper = await photoPng('grace_hopper');
    app = await startApp();
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(app.url);
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    mobileNet?.cleanUp();
  });

  it('switches each ready panel between the model input and where the model looked for its top class', async (context) => {
    if (!hopper) return context.skip('the shared photos are absent');
    const ids = [...(mobileNet.served ? ['mobilenet-v2'] : []), ...(cifarModel ? ['cifar10'] : [])];
    if (ids.length === 0) return context.skip('no model to explain: none is served');
    for (const id of ids) {
      await expect
        .poll(() => page.getByTestId(`panel-${id}`).getAttribute('data-state'), {
          timeout: 60_000,
        })
        .toBe('ready');
    }
    await page.getByTestId('file-input').setInputFiles(hopper);
    for (const id of ids) {
      const panel = page.getByTestId(`panel-${id}`);
      await expect.poll(() => panel.getAttribute('data-state'), { timeout: 30_000 }).toBe('result');
      const modelInput = await canvasPixels(page, `model-input-${id}`);
      const topLabel = await panel.locator('.predictions li .label').first().textContent();

      await page.getByTestId(`explain-${id}`).check();
      const caption = panel.locator('figcaption');
      await expect
        .poll(() => caption.textContent(), { timeout: 30_000 })
        .toMatch(/^Where it looked for/);
      expect(await caption.textContent()).toContain(`“${topLabel}”`);
      const overlay = await canvasPixels(page, `model-input-${id}`);
      // Same size as the model input, visibly tinted: a blend at opacity 0.5 moves most channel values.
      expect(overlay.length).toBe(modelInput.length);
      const meanChange =
        overlay.reduce((sum, value, index) => sum + Math.abs(value - (modelInput[index] ?? 0)), 0) /
        overlay.length;
      expect(meanChange).toBeGreaterThan(10);

      await page.getByTestId(`explain-${id}`).uncheck();
      await expect.poll(() => caption.textContent()).toMatch(/^What it sees/);
      expect(await canvasPixels(page, `model-input-${id}`)).toEqual(modelInput);
      await page.getByTestId(`explain-${id}`).check();
    }
    await page.screenshot({ path: join(RESULTS_DIR, 'demo-grad-cam.png'), fullPage: true });
  });
});
