import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_MODELS } from './fixtures';
import { launchChromium, RESULTS_DIR, type RunningApp, startApp } from './harness';

/** The model folders the page must list: those with a metadata.json or model.json. */
const modelFolders = existsSync(REPO_MODELS)
  ? readdirSync(REPO_MODELS, { withFileTypes: true })
      .filter(
        (entry) =>
          entry.isDirectory() &&
          ['metadata.json', 'model.json'].some((file) =>
            existsSync(join(REPO_MODELS, entry.name, file)),
          ),
      )
      .map((entry) => entry.name)
  : [];

describe('the Models page in Chromium', () => {
  let app: RunningApp;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    mkdirSync(RESULTS_DIR, { recursive: true });
    app = await startApp();
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${app.url}/models`);
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('is reached from the navigation', async () => {
    await page.goto(app.url);
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Models' })
      .click();
    await page.waitForURL(/\/models$/);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Models');
  });

  it('shows the comparison, or says it is not measured yet', async () => {
    const comparison = page.locator('.comparison');
    if (existsSync(join(REPO_MODELS, 'COMPARISON.md'))) {
      expect(await comparison.locator('.markdown').count()).toBe(1);
      // The table imgcls compare writes, and its charts served from /model-cards/comparison/.
      expect(await comparison.locator('table th').allTextContents()).toEqual(
        expect.arrayContaining(['model', 'accuracy', 'macro F1', 'ECE', 'p50 ms/image']),
      );
      const charts = comparison.locator('img');
      for (let index = 0; index < (await charts.count()); index++) {
        const chart = charts.nth(index);
        await chart.scrollIntoViewIfNeeded();
        await expect
          .poll(() => chart.evaluate((image: HTMLImageElement) => image.naturalWidth), {
            message: `${await chart.getAttribute('src')} loads`,
          })
          .toBeGreaterThan(0);
      }
    } else
      expect(await page.getByTestId('comparison-missing').textContent()).toMatch(
        /Not measured yet/,
      );
  });

  it('shows each model with its measured charts, and says which are not measured', async () => {
    for (const folder of modelFolders) {
      const section = page.getByTestId(`model-${folder}`);
      await section.waitFor();
      const measured = {
        'Confusion matrix (test set)': 'test-confusion.json',
        'F1 per class (test set)': 'test-confusion.json',
        'Reliability diagram (test set)': 'test-calibration.json',
        'Training curves': 'history.jsonl',
      };
      for (const [title, file] of Object.entries(measured)) {
        const chart = section.locator(`figure.chart[data-title="${title}"]`);
        if (existsSync(join(REPO_MODELS, folder, file)))
          expect(await chart.locator('svg').count(), `${folder}: ${title}`).toBe(1);
        else expect(await chart.textContent(), `${folder}: ${title}`).toMatch(/Not measured yet/);
      }
      if (existsSync(join(REPO_MODELS, folder, 'test-confusion.json')))
        expect(await section.locator('table.metrics').textContent()).toMatch(
          /test accuracy \(from the confusion matrix\)\d+\.\d\d%/,
        );
      // The card's own figures, served from /model-cards/<folder>/ (the build copies charts, not weights).
      const card = section.locator('details.card');
      if (await card.count()) {
        await card.locator('summary').click();
        const figures = card.locator('img');
        for (let index = 0; index < (await figures.count()); index++) {
          const figure = figures.nth(index);
          expect(await figure.getAttribute('src')).toMatch(new RegExp(`^/model-cards/${folder}/`));
          await figure.scrollIntoViewIfNeeded();
          await expect
            .poll(() => figure.evaluate((image: HTMLImageElement) => image.naturalWidth), {
              message: `${await figure.getAttribute('src')} loads`,
            })
            .toBeGreaterThan(0);
        }
      }
    }
    await page.screenshot({ path: join(RESULTS_DIR, 'models.png'), fullPage: true });
  });
});
