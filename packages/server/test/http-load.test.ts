import { join } from 'node:path';
import { type ImageClassifier, loadClassifier, type Prediction } from '@imgcls/classifier';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from '../src/index';
import { body, postImage } from './http-client';
import { hugeHeader, pngImage } from './images';

// The load test, on the real engine over real HTTP (needs dist/worker.js: the package built).
// Numbers are printed, so a run's log says what was measured.

const SEEDCNN_FOLDER = join(import.meta.dirname, '../../../models/cifar10-seedcnn');
const DISTINCT_IMAGES = 20;
/**
 * RSS may grow this much over the second 1,000 of 2,000 requests (measured here: 4–8 MB). RSS is the
 * whole process's — this test's client, the server and its worker thread — so it runs before the
 * test that uploads 50 MB bodies (whose client-side copies make RSS swing by hundreds of MB until
 * collected), and flatness is judged between the two halves: the heap and the worker's wasm memory
 * reach their plateau in the first (wasm memory never shrinks). A leaked tensor per request is caught
 * exactly by the tensor count instead.
 */
const RSS_MARGIN_BYTES = 48 * 1024 * 1024;

let app: FastifyInstance;
let url: string;
let reference: ImageClassifier;
let images: Uint8Array[];
let expected: Prediction[][];

beforeAll(async () => {
  [reference, app, images] = await Promise.all([
    loadClassifier(SEEDCNN_FOLDER, { backend: 'wasm' }),
    createServer({
      models: [{ reference: SEEDCNN_FOLDER, id: 'seedcnn' }],
      workers: 1,
      queue: 1024,
      logger: false,
    }),
    Promise.all(Array.from({ length: DISTINCT_IMAGES }, (_, seed) => pngImage(32, seed + 100))),
  ]);
  expected = await Promise.all(images.map((image) => reference.classify(image, { topK: 5 })));
  url = await app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await app?.close();
  reference?.dispose();
});

const classify = () => `${url}/v1/models/seedcnn/classify`;

/** What a bad request is and the typed answer it must get. */
interface BadRequest {
  readonly kind: string;
  readonly bytes: Uint8Array;
  readonly status: number;
  readonly code: string;
}

function badRequests(): BadRequest[] {
  const truncated = images[0]!.subarray(0, Math.floor(images[0]!.length / 2));
  const notAnImage = new TextEncoder().encode('<html><body>this is not an image</body></html>');
  const bomb = hugeHeader(images[1]!);
  // One 50 MB buffer shared by five requests: Content-Length says 50 MB, above the 20 MiB default.
  const huge = new Uint8Array(50 * 1024 * 1024);
  const kinds: BadRequest[] = [
    { kind: 'truncated', bytes: truncated, status: 422, code: 'INVALID_IMAGE' },
    { kind: 'not an image', bytes: notAnImage, status: 422, code: 'INVALID_IMAGE' },
    { kind: '60000x60000 header', bytes: bomb, status: 422, code: 'IMAGE_TOO_LARGE' },
    { kind: '50 MB body', bytes: huge, status: 413, code: 'BODY_TOO_LARGE' },
  ];
  return Array.from({ length: 20 }, (_, index) => kinds[index % kinds.length]!);
}

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `));
  if (!line) throw new Error(`no metric ${name}`);
  return Number(line.slice(name.length + 1));
}

/** Runs `total` requests with at most `concurrency` in flight; resolves with every status. */
async function run(
  total: number,
  concurrency: number,
  request: (index: number) => Promise<number>,
): Promise<number[]> {
  const statuses: number[] = new Array(total);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const index = next++;
        statuses[index] = await request(index);
      }
    }),
  );
  return statuses;
}

describe('under load', () => {
  it('keeps the tensor count and RSS flat across 2,000 requests', async () => {
    const bad = badRequests().filter((request) => request.kind !== '50 MB body');
    const request = async (index: number) => {
      // One in ten is a bad image, so the error paths are measured too.
      const badOne = index % 10 === 9 ? bad[index % bad.length] : undefined;
      const response = await postImage(
        classify(),
        badOne ? badOne.bytes : images[index % DISTINCT_IMAGES]!,
      );
      const answer = (await response.json()) as { predictions?: Prediction[]; code?: string };
      if (badOne) {
        if (response.status !== badOne.status || answer.code !== badOne.code)
          throw new Error(`${badOne.kind} answered ${response.status} ${answer.code}`);
      } else if (response.status !== 200)
        throw new Error(`a good image answered ${response.status}`);
      return response.status;
    };
    const warmUp = await run(200, 32, request);
    expect(warmUp.filter((status) => status >= 500)).toEqual([]);
    const tensors = [await metric('imgcls_tfjs_tensors')];
    const rss = [await metric('process_resident_memory_bytes')];
    const started = performance.now();
    for (let half = 0; half < 2; half++) {
      const statuses = await run(1_000, 32, (index) => request(index + half * 1_000));
      expect(statuses.filter((status) => status >= 500)).toEqual([]);
      tensors.push(await metric('imgcls_tfjs_tensors'));
      rss.push(await metric('process_resident_memory_bytes'));
    }
    const seconds = (performance.now() - started) / 1000;
    const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
    console.log(
      `[load] 2,000 requests (10% bad) at concurrency 32 in ${seconds.toFixed(1)} s (${(2000 / seconds).toFixed(0)} req/s); ` +
        `tensors ${tensors.join(' → ')}; RSS ${rss.map(mb).join(' → ')} MB`,
    );
    expect(tensors[1]).toBe(tensors[0]);
    expect(tensors[2]).toBe(tensors[0]);
    expect(rss[2]! - rss[1]!).toBeLessThan(RSS_MARGIN_BYTES);
    expect(await metric('imgcls_queue_depth')).toBe(0);
  });

  it('answers 200 concurrent good requests correctly and 20 bad ones with typed 4xx, no 5xx', async () => {
    const bad = badRequests();
    const started = performance.now();
    // Every request at once, bad ones spread among the good.
    const requests = Array.from({ length: 220 }, (_, index) =>
      index % 11 === 5
        ? { bad: bad[Math.floor(index / 11)]! }
        : { good: (index - Math.floor(index / 11)) % DISTINCT_IMAGES },
    );
    const answers = await Promise.all(
      requests.map(async (request) => {
        const bytes = 'bad' in request ? request.bad!.bytes : images[request.good!]!;
        const response = await postImage(classify(), bytes);
        return {
          request,
          status: response.status,
          json: (await response.json()) as Record<string, unknown>,
        };
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const good = answers.filter((answer) => 'good' in answer.request);
    const refused = answers.filter((answer) => 'bad' in answer.request);
    expect(good).toHaveLength(200);
    expect(refused).toHaveLength(20);
    for (const answer of good) {
      expect(answer.status).toBe(200);
      expect(answer.json).toEqual({ input: 'body', predictions: expected[answer.request.good!] });
    }
    for (const answer of refused) {
      const { status, code, kind } = answer.request.bad!;
      expect([answer.status, answer.json.code], kind).toEqual([status, code]);
    }
    expect(answers.filter((answer) => answer.status >= 500)).toEqual([]);
    console.log(
      `[load] 200 good + 20 bad concurrent requests in ${seconds.toFixed(2)} s: 200 × 200, ` +
        `${refused.filter((answer) => answer.status === 422).length} × 422, ${refused.filter((answer) => answer.status === 413).length} × 413, 0 × 5xx`,
    );
  });
});

describe('a full queue', () => {
  it('answers 429 QUEUE_FULL with Retry-After, and 200 to what fits', async () => {
    const small = await createServer({
      models: [{ reference: SEEDCNN_FOLDER, id: 'seedcnn' }],
      workers: 1,
      queue: 4,
      maxBatch: 2,
      logger: false,
    });
    try {
      const base = await small.listen({ port: 0, host: '127.0.0.1' });
      const answers = await Promise.all(
        Array.from({ length: 64 }, async (_, index) => {
          const response = await fetch(`${base}/v1/models/seedcnn/classify`, {
            method: 'POST',
            headers: { 'content-type': 'image/png' },
            body: body(images[index % DISTINCT_IMAGES]!),
          });
          return {
            status: response.status,
            retryAfter: response.headers.get('retry-after'),
            json: (await response.json()) as { code?: string; predictions?: Prediction[] },
            index,
          };
        }),
      );
      const full = answers.filter((answer) => answer.status === 429);
      const served = answers.filter((answer) => answer.status === 200);
      console.log(
        `[load] queue 4, 64 concurrent requests: ${served.length} × 200, ${full.length} × 429`,
      );
      expect(full.length).toBeGreaterThan(0);
      expect(served.length).toBeGreaterThanOrEqual(4);
      expect(served.length + full.length).toBe(64);
      for (const answer of full) {
        expect(answer.json.code).toBe('QUEUE_FULL');
        expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
      }
      for (const answer of served)
        expect(answer.json.predictions).toEqual(expected[answer.index % DISTINCT_IMAGES]);
    } finally {
      await small.close();
    }
  });
});
