import { ImgclsError } from '@imgcls/preprocess/errors';
import {
  createServer,
  DEFAULT_ENGINE_OPTIONS,
  DEFAULT_SERVER_OPTIONS,
  type ServerOptions,
} from '@imgcls/server';
import { describe, expect, it } from 'vitest';
import { SERVE_HELP_DEFAULTS, SERVE_RANGES } from '../src/commands/serve';

/** The `createServer` options each range of `imgcls serve` stands for, as options with one value. */
const OPTION_OF: Partial<
  Record<keyof typeof SERVE_RANGES, (value: number) => Partial<ServerOptions>>
> = {
  workers: (workers) => ({ workers }),
  maxBatch: (maxBatch) => ({ maxBatch }),
  maxWaitMs: (maxWaitMs) => ({ maxWaitMs }),
  queue: (queue) => ({ queue }),
  maxPixels: (maxPixels) => ({ maxPixels }),
  timeoutMs: (timeoutMs) => ({ timeoutMs }),
  bodyLimit: (bodyLimit) => ({ bodyLimit }),
  rateLimit: (max) => ({ rateLimit: { max, timeWindowMs: 60_000 } }),
  rateLimitWindowMs: (timeWindowMs) => ({ rateLimit: { max: 10, timeWindowMs } }),
};

async function rejection(options: Partial<ServerOptions>): Promise<unknown> {
  // Invalid options are refused before any worker starts; should a range here be too narrow, the
  // unknown model fails the load instead of serving.
  return createServer({ models: [{ reference: 'not-a-model' }], logger: false, ...options }).then(
    async (app) => {
      await app.close();
      return undefined;
    },
    (error: unknown) => error,
  );
}

describe('imgcls serve flags against createServer', () => {
  it.each(
    Object.entries(OPTION_OF) as [
      keyof typeof SERVE_RANGES,
      (value: number) => Partial<ServerOptions>,
    ][],
  )('checks %s with the range createServer enforces', async (name, option) => {
    const [min, max, integer] = SERVE_RANGES[name];
    const range = new RegExp(
      `from ${min.toLocaleString('en-US')} to ${max.toLocaleString('en-US')}\\b`,
    );
    const beyond = [max + 1, min - 1, ...(integer ? [min + 0.5] : [])];
    for (const value of beyond) {
      const error = await rejection(option(value));
      expect(ImgclsError.isInstance(error, 'INVALID_ARGUMENT'), `${name}=${value}`).toBe(true);
      expect((error as Error).message).toMatch(range);
    }
  });

  it('names the defaults createServer applies', () => {
    expect(SERVE_HELP_DEFAULTS).toEqual({
      workers: DEFAULT_ENGINE_OPTIONS.workers,
      maxBatch: DEFAULT_ENGINE_OPTIONS.maxBatch,
      maxWaitMs: DEFAULT_ENGINE_OPTIONS.maxWaitMs,
      queue: DEFAULT_ENGINE_OPTIONS.queue,
      maxPixels: DEFAULT_ENGINE_OPTIONS.maxPixels,
      timeoutMs: DEFAULT_SERVER_OPTIONS.timeoutMs,
      bodyLimit: DEFAULT_SERVER_OPTIONS.bodyLimit,
    });
  });
});
