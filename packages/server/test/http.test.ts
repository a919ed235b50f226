import { createServer as createHttpServer, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { ImgclsError } from '@imgcls/preprocess';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServerWithEngine } from '../src/http/server';
import { body, expectProblem, form, postImage, type Running, startFake } from './http-client';
import { FakeEngine } from './http-fake-engine';
import { hugeHeader, pngImage } from './images';

// The HTTP layer against a fake engine (test/http-fake-engine.ts), over real HTTP on loopback: every
// route and error path. test/http-engine.test.ts runs the same server on the real engine.

let png: Uint8Array;
let server: Running;
let classify: string;

beforeAll(async () => {
  png = await pngImage(32, 7);
  server = await startFake({ bodyLimit: 64 * 1024, maxFiles: 4 });
  classify = `${server.url}/v1/models/fake/classify`;
});
afterAll(async () => {
  await server.app.close();
});

describe('health, readiness, models', () => {
  it('answers /healthz while alive and /readyz only when the engine is ready', async () => {
    expect(await (await fetch(`${server.url}/healthz`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${server.url}/readyz`)).json()).toEqual({ status: 'ready' });
    server.engine.ready = false;
    try {
      const response = await fetch(`${server.url}/readyz`);
      expect(response.headers.get('retry-after')).toBe('1');
      await expectProblem(response, 503, 'NOT_READY');
      // Liveness does not depend on the models.
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    } finally {
      server.engine.ready = true;
    }
  });

  it('lists the served models with labels, preset, version and checksums', async () => {
    const response = await fetch(`${server.url}/v1/models`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ models: server.engine.models() });
  });
});

describe('POST /v1/models/{id}/classify', () => {
  it('classifies a raw image body with the shape of `imgcls classify --json`', async () => {
    const response = await postImage(`${classify}?topK=3`, png);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      input: 'body',
      predictions: FakeEngine.predictionsFor(png, 3),
    });
    const call = server.engine.calls.at(-1);
    expect(call?.options?.topK).toBe(3);
    // The deadline is timeoutMs (default 30 s) after the request arrived.
    expect(call?.options?.deadline).toBeGreaterThan(Date.now() + 25_000);
    expect(call?.options?.signal).toBeInstanceOf(AbortSignal);
  });

  it('defaults topK to 5 and accepts application/octet-stream and any image/* type', async () => {
    for (const contentType of ['application/octet-stream', 'image/jpeg', 'image/x-anything']) {
      const response = await postImage(classify, png, contentType);
      expect(response.status).toBe(200);
      expect(((await response.json()) as { predictions: unknown[] }).predictions).toHaveLength(5);
    }
  });

  it.each([['0'], ['101'], ['2.5'], ['many']])(
    'refuses topK=%s with a 400 problem naming the parameter',
    async (topK) => {
      const problem = await expectProblem(
        await postImage(`${classify}?topK=${topK}`, png),
        400,
        'INVALID_REQUEST',
      );
      expect(problem.detail).toMatch(/topK/);
    },
  );

  it('refuses explain values other than gradcam', async () => {
    await expectProblem(
      await postImage(`${classify}?explain=saliency`, png),
      400,
      'INVALID_REQUEST',
    );
  });

  it('adds the Grad-CAM overlay as a base64 PNG with explain=gradcam', async () => {
    const response = await postImage(`${classify}?explain=gradcam&topK=2`, png);
    expect(response.status).toBe(200);
    const outcome = (await response.json()) as {
      predictions: unknown[];
      explanation: { prediction: unknown; layer: string; overlayPng: string };
    };
    expect(outcome.predictions).toHaveLength(2);
    expect(outcome.explanation.prediction).toEqual(FakeEngine.predictionsFor(png, 1)[0]);
    expect(outcome.explanation.layer).toBe('conv2d_3');
    const overlay = await sharp(Buffer.from(outcome.explanation.overlayPng, 'base64')).metadata();
    expect([overlay.format, overlay.width, overlay.height]).toEqual(['png', 32, 32]);
  });

  it('answers 404 UNKNOWN_MODEL, listing the served ids, before reading the body', async () => {
    // A body far above bodyLimit: were it read first, this would be a 413.
    const problem = await expectProblem(
      await postImage(`${server.url}/v1/models/nope/classify`, new Uint8Array(1024 * 1024)),
      404,
      'UNKNOWN_MODEL',
    );
    expect(problem.detail).toMatch(/fake/);
  });

  it('answers 422 for bytes that are not an image, and for an empty body', async () => {
    await expectProblem(
      await postImage(classify, Buffer.from('not an image at all')),
      422,
      'INVALID_IMAGE',
    );
    await expectProblem(await postImage(classify, new Uint8Array(0)), 422, 'INVALID_IMAGE');
  });

  it('answers 422 IMAGE_TOO_LARGE for a 60000×60000 header', async () => {
    const problem = await expectProblem(
      await postImage(classify, hugeHeader(png)),
      422,
      'IMAGE_TOO_LARGE',
    );
    expect(problem.detail).toMatch(/pixels/);
  });

  it('answers 415 for other media types and for a request without a body type', async () => {
    for (const init of [
      { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'a cat' },
      { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<cat/>' },
      { method: 'POST' },
    ]) {
      const problem = await expectProblem(
        await fetch(classify, init),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      );
      expect(problem.detail).toMatch(/image\/\*/);
    }
  });

  it('answers 413 from Content-Length, before reading the body', async () => {
    const problem = await expectProblem(
      await postImage(classify, new Uint8Array(64 * 1024 + 1)),
      413,
      'BODY_TOO_LARGE',
    );
    expect(problem.detail).toMatch(/65,536/);
    // Over a raw socket that declares 50 MB and sends none of it: the answer comes all the same.
    const socket = connect(Number(new URL(server.url).port), '127.0.0.1');
    let received = '';
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
    });
    await new Promise((resolve) => socket.on('connect', resolve));
    socket.write(
      `POST /v1/models/fake/classify HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: ${50 * 1024 * 1024}\r\n\r\n`,
    );
    await until(() => received.includes('}'));
    socket.destroy();
    expect(received).toMatch(/^HTTP\/1\.1 413 /);
    expect(received).toMatch(/"code":"BODY_TOO_LARGE"/);
  });

  it('answers 413 while streaming a body that declares no length', async () => {
    const chunk = new Uint8Array(16 * 1024);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 10) return controller.close();
        sent++;
        controller.enqueue(chunk);
      },
    });
    const response = await fetch(classify, {
      method: 'POST',
      headers: { 'content-type': 'image/png' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    await expectProblem(response, 413, 'BODY_TOO_LARGE');
  });

  it('answers 400 for malformed JSON and for JSON without a url', async () => {
    for (const text of [
      '{"url":',
      '{}',
      '{"url":"ftp://example.com/cat.png"}',
      '{"url":"x","more":1}',
    ]) {
      await expectProblem(
        await fetch(classify, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: text,
        }),
        400,
        'INVALID_REQUEST',
      );
    }
  });

  it('answers 413 for a JSON body above 16 KiB, whatever bodyLimit is', async () => {
    const response = await fetch(classify, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: `https://example.com/${'a'.repeat(20_000)}` }),
    });
    await expectProblem(response, 413, 'BODY_TOO_LARGE');
  });

  it('answers 403 URL_FETCH_DISABLED for a URL when fetching is off', async () => {
    const response = await fetch(classify, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: 'https://example.com/cat.png' }),
    });
    await expectProblem(response, 403, 'URL_FETCH_DISABLED');
  });
});

describe('multipart', () => {
  it('answers one outcome per file, named by the file name, bad files included', async () => {
    const other = await pngImage(32, 9);
    const response = await fetch(`${classify}?topK=2`, {
      method: 'POST',
      body: form([
        { name: 'a.png', bytes: png },
        { name: 'notes.txt', bytes: Buffer.from('hello'), type: 'text/plain' },
        { name: 'b.png', bytes: other },
      ]),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      outcomes: [
        { input: 'a.png', predictions: FakeEngine.predictionsFor(png, 2) },
        {
          input: 'notes.txt',
          error: { code: 'INVALID_IMAGE', message: 'The input is not an image.' },
        },
        { input: 'b.png', predictions: FakeEngine.predictionsFor(other, 2) },
      ],
    });
    // One engine call for the whole request, so its images share a micro-batch.
    expect(server.engine.calls.at(-1)?.images).toBe(3);
  });

  it('answers a list for a single file too, and explains each good file', async () => {
    const response = await fetch(`${classify}?explain=gradcam`, {
      method: 'POST',
      body: form([{ name: 'only.png', bytes: png }]),
    });
    const answer = (await response.json()) as {
      outcomes: { input: string; explanation?: unknown }[];
    };
    expect(answer.outcomes.map((outcome) => outcome.input)).toEqual(['only.png']);
    expect(answer.outcomes[0]?.explanation).toBeDefined();
  });

  it('answers 422 when every file failed, naming each', async () => {
    const problem = await expectProblem(
      await fetch(classify, {
        method: 'POST',
        body: form([
          { name: 'x.bin', bytes: Buffer.from('garbage') },
          { name: 'bomb.png', bytes: hugeHeader(png) },
        ]),
      }),
      422,
      'INVALID_IMAGE',
    );
    expect(problem.detail).toMatch(/x\.bin: INVALID_IMAGE; bomb\.png: IMAGE_TOO_LARGE/);
  });

  it('answers 400 NO_IMAGE for a form without files', async () => {
    const data = new FormData();
    data.append('comment', 'no files here');
    await expectProblem(await fetch(classify, { method: 'POST', body: data }), 400, 'NO_IMAGE');
  });

  it('answers 413 TOO_MANY_FILES above maxFiles', async () => {
    const files = Array.from({ length: 5 }, (_, index) => ({ name: `${index}.png`, bytes: png }));
    await expectProblem(
      await fetch(classify, { method: 'POST', body: form(files) }),
      413,
      'TOO_MANY_FILES',
    );
  });

  it('answers 413 when the files together exceed bodyLimit while streaming', async () => {
    // Two 40 KB files, sent without Content-Length: each is under the 64 KiB limit, not both.
    const encoded = new Request('http://localhost/', {
      method: 'POST',
      body: form([
        { name: 'a.png', bytes: new Uint8Array(40_000) },
        { name: 'b.png', bytes: new Uint8Array(40_000) },
      ]),
    });
    const contentType = encoded.headers.get('content-type')!;
    const bytes = new Uint8Array(await encoded.arrayBuffer());
    expect(bytes.length).toBeGreaterThan(80_000);
    let offset = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (offset >= bytes.length) return controller.close();
        controller.enqueue(bytes.subarray(offset, offset + 8192));
        offset += 8192;
      },
    });
    const response = await fetch(classify, {
      method: 'POST',
      headers: { 'content-type': contentType },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    await expectProblem(response, 413, 'BODY_TOO_LARGE');
  });
});

describe('POST /v1/models/{id}/embed', () => {
  it('answers the embedding of one image', async () => {
    const response = await postImage(`${server.url}/v1/models/fake/embed`, png);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      input: 'body',
      dimensions: 3,
      embedding: [png.length, 0.5, -1],
    });
  });

  it('takes one multipart file, refuses several, and types a bad image', async () => {
    const embed = `${server.url}/v1/models/fake/embed`;
    const one = await fetch(embed, { method: 'POST', body: form([{ name: 'a.png', bytes: png }]) });
    expect(((await one.json()) as { input: string }).input).toBe('a.png');
    await expectProblem(
      await fetch(embed, {
        method: 'POST',
        body: form([
          { name: 'a.png', bytes: png },
          { name: 'b.png', bytes: png },
        ]),
      }),
      413,
      'TOO_MANY_FILES',
    );
    await expectProblem(await postImage(embed, Buffer.from('nope')), 422, 'INVALID_IMAGE');
    await expectProblem(await postImage(embed, hugeHeader(png)), 422, 'IMAGE_TOO_LARGE');
  });
});

describe('engine errors', () => {
  it('answers 429 QUEUE_FULL with the engine’s Retry-After', async () => {
    const running = await startFake({}, new FakeEngine({ queue: 2, retryAfterSeconds: 7 }));
    try {
      running.engine.hold();
      const url = `${running.url}/v1/models/fake/classify`;
      const held = [postImage(url, png), postImage(url, png)];
      await until(() => running.engine.queueDepth === 2);
      const refused = await postImage(url, png);
      expect(refused.headers.get('retry-after')).toBe('7');
      await expectProblem(refused, 429, 'QUEUE_FULL');
      running.engine.releaseAll();
      expect((await Promise.all(held)).map((response) => response.status)).toEqual([200, 200]);
    } finally {
      await running.app.close();
    }
  });

  it('answers 503 DEADLINE_EXCEEDED when timeoutMs passes in the queue', async () => {
    const running = await startFake({ timeoutMs: 200 });
    try {
      running.engine.hold();
      const started = Date.now();
      const response = await postImage(`${running.url}/v1/models/fake/classify`, png);
      await expectProblem(response, 503, 'DEADLINE_EXCEEDED');
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      running.engine.releaseAll();
      await running.app.close();
    }
  });

  it('cancels the engine call when the client goes away', async () => {
    const running = await startFake();
    try {
      running.engine.hold();
      const controller = new AbortController();
      const pending = postImage(
        `${running.url}/v1/models/fake/classify`,
        png,
        'image/png',
        {},
      ).catch(() => undefined);
      void pending;
      const aborted = fetch(`${running.url}/v1/models/fake/classify`, {
        method: 'POST',
        headers: { 'content-type': 'image/png' },
        body: body(png),
        signal: controller.signal,
      }).catch((error: unknown) => error);
      await until(() => running.engine.queueDepth === 2);
      const signal = running.engine.calls.at(-1)?.options?.signal;
      controller.abort();
      await aborted;
      await until(() => signal?.aborted === true);
      expect(running.engine.queueDepth).toBe(1);
    } finally {
      running.engine.releaseAll();
      await running.app.close();
    }
  });

  it.each([
    ['SHUTTING_DOWN', 503, '1'],
    ['WORKER_CRASHED', 503, '1'],
    ['INVALID_ARGUMENT', 400, null],
  ] as const)(
    'answers the engine’s %s as %i (Retry-After %s)',
    async (code, status, retryAfter) => {
      const engine = new FakeEngine();
      engine.failWith = new ImgclsError(code, `The engine says ${code}.`);
      const running = await startFake({}, engine);
      try {
        const response = await postImage(`${running.url}/v1/models/fake/classify`, png);
        expect(response.headers.get('retry-after')).toBe(retryAfter);
        const problem = await expectProblem(response, status, code);
        expect(problem.detail).toBe(`The engine says ${code}.`);
      } finally {
        await running.app.close();
      }
    },
  );

  it.each([
    ['a plain Error', new Error('secret: /srv/models/key.pem is unreadable'), 'INTERNAL_ERROR'],
    [
      'an imgcls error of no known status',
      new ImgclsError('BACKEND_UNAVAILABLE', 'secret: /srv/models/key.pem is unreadable'),
      'BACKEND_UNAVAILABLE',
    ],
  ])('answers a generic 500 for %s, revealing nothing of it', async (_kind, error, code) => {
    const engine = new FakeEngine();
    engine.failWith = error;
    const running = await startFake({}, engine);
    try {
      const problem = await expectProblem(
        await postImage(`${running.url}/v1/models/fake/classify`, png),
        500,
        code,
      );
      expect(JSON.stringify(problem)).not.toMatch(/secret|key\.pem/);
    } finally {
      await running.app.close();
    }
  });
});

describe('request ids and logs', () => {
  it('echoes a plain incoming x-request-id, replaces an unsafe one, and logs it', async () => {
    const lines: string[] = [];
    const running = await startFake({
      logger: { level: 'info', stream: { write: (line) => lines.push(line) } },
    });
    try {
      const kept = await postImage(
        `${running.url}/v1/models/fake/classify`,
        Buffer.from('x'),
        'image/png',
        {
          'x-request-id': 'client-42.a_b:c',
        },
      );
      expect(kept.headers.get('x-request-id')).toBe('client-42.a_b:c');
      expect((await kept.json()) as unknown).toMatchObject({ instance: 'client-42.a_b:c' });
      for (const unsafe of ['has spaces', 'x'.repeat(129), 'quote"d']) {
        const replaced = await fetch(`${running.url}/healthz`, {
          headers: { 'x-request-id': unsafe },
        });
        expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      }
      const generated = await fetch(`${running.url}/healthz`);
      expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      const logged = lines.map((line) => JSON.parse(line) as { reqId?: string; msg: string });
      expect(
        logged.filter((line) => line.reqId === 'client-42.a_b:c').length,
      ).toBeGreaterThanOrEqual(2);
      expect(lines.join('\n')).not.toMatch(/has spaces/);
    } finally {
      await running.app.close();
    }
  });
});

describe('auth, rate limit, CORS', () => {
  it('needs the API key on /v1 (Bearer or x-api-key) and leaves operations open', async () => {
    const running = await startFake({ apiKey: 'k3y-0f-some-length' });
    try {
      const models = `${running.url}/v1/models`;
      const missing = await fetch(models);
      expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect((await expectProblem(missing, 401, 'UNAUTHORIZED')).detail).toMatch(/Authorization/);
      await expectProblem(
        await fetch(models, { headers: { authorization: 'Bearer wrong' } }),
        401,
        'UNAUTHORIZED',
      );
      await expectProblem(
        await fetch(models, { headers: { 'x-api-key': 'k3y-0f-some-lengtH' } }),
        401,
        'UNAUTHORIZED',
      );
      // A wrong key on an unknown model is still a 401: model ids are not disclosed.
      await expectProblem(
        await postImage(`${running.url}/v1/models/nope/classify`, png),
        401,
        'UNAUTHORIZED',
      );
      expect(
        (await fetch(models, { headers: { authorization: 'Bearer k3y-0f-some-length' } })).status,
      ).toBe(200);
      expect(
        (await fetch(models, { headers: { authorization: 'bearer k3y-0f-some-length' } })).status,
      ).toBe(200);
      expect((await fetch(models, { headers: { 'x-api-key': 'k3y-0f-some-length' } })).status).toBe(
        200,
      );
      for (const open of ['/healthz', '/readyz', '/metrics', '/openapi.json'])
        expect((await fetch(running.url + open)).status, open).toBe(200);
      const document = (await (await fetch(`${running.url}/openapi.json`)).json()) as {
        paths: Record<string, Record<string, { security?: unknown }>>;
      };
      expect(document.paths['/v1/models']?.get?.security).toBeDefined();
      expect(document.paths['/healthz']?.get?.security).toBeUndefined();
    } finally {
      await running.app.close();
    }
  });

  it('rate limits /v1 per client with 429 RATE_LIMITED and Retry-After, not /healthz', async () => {
    const running = await startFake({ rateLimit: { max: 2, timeWindowMs: 60_000 }, apiKey: 'key' });
    try {
      const models = `${running.url}/v1/models`;
      const headers = { 'x-api-key': 'key' };
      expect((await fetch(models, { headers })).status).toBe(200);
      // Unauthenticated attempts count too: guessing keys is rate limited.
      await expectProblem(await fetch(models), 401, 'UNAUTHORIZED');
      const limited = await fetch(models, { headers });
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(limited.headers.get('x-ratelimit-limit')).toBe('2');
      await expectProblem(limited, 429, 'RATE_LIMITED');
      for (let index = 0; index < 5; index++)
        expect((await fetch(`${running.url}/healthz`)).status).toBe(200);
    } finally {
      await running.app.close();
    }
  });

  it('answers CORS preflights for the configured origins only', async () => {
    const running = await startFake({ cors: ['https://app.example.com'] });
    try {
      const preflight = (origin: string) =>
        fetch(`${running.url}/v1/models/fake/classify`, {
          method: 'OPTIONS',
          headers: {
            origin,
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'content-type',
          },
        });
      const allowed = await preflight('https://app.example.com');
      expect(allowed.status).toBe(204);
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
      const other = await preflight('https://evil.example.com');
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
      const simple = await fetch(`${running.url}/v1/models`, {
        headers: { origin: 'https://app.example.com' },
      });
      expect(simple.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
      expect(simple.headers.get('access-control-expose-headers')).toMatch(/x-request-id/);
    } finally {
      await running.app.close();
    }
    // Off by default.
    const plain = await fetch(`${server.url}/v1/models`, {
      headers: { origin: 'https://app.example.com' },
    });
    expect(plain.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('unknown routes, OpenAPI, metrics', () => {
  it('answers unknown routes and methods with a 404 problem', async () => {
    await expectProblem(await fetch(`${server.url}/v2/models`), 404, 'ROUTE_NOT_FOUND');
    await expectProblem(await fetch(classify), 404, 'ROUTE_NOT_FOUND');
    await expectProblem(
      await fetch(`${server.url}/healthz`, { method: 'DELETE' }),
      404,
      'ROUTE_NOT_FOUND',
    );
  });

  it('serves an OpenAPI 3.1 document built from the route schemas', async () => {
    const response = await fetch(`${server.url}/openapi.json`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as {
      openapi: string;
      info: { version: string };
      paths: Record<string, Record<string, Record<string, unknown>>>;
      components: { schemas: Record<string, unknown> };
    };
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths).sort()).toEqual([
      '/healthz',
      '/metrics',
      '/readyz',
      '/v1/models',
      '/v1/models/{id}/classify',
      '/v1/models/{id}/embed',
    ]);
    const operation = document.paths['/v1/models/{id}/classify']?.post as {
      parameters: { name: string; in: string }[];
      requestBody: { content: Record<string, unknown> };
      responses: Record<string, { content?: Record<string, unknown> }>;
    };
    expect(
      operation.parameters.map((parameter) => `${parameter.in}:${parameter.name}`).sort(),
    ).toEqual(['path:id', 'query:explain', 'query:topK']);
    expect(Object.keys(operation.requestBody.content).sort()).toEqual([
      'application/json',
      'application/octet-stream',
      'image/*',
      'multipart/form-data',
    ]);
    expect(Object.keys(operation.responses['4XX']?.content ?? {})).toEqual([
      'application/problem+json',
    ]);
    expect(Object.keys(document.components.schemas).sort()).toEqual([
      'ClassifyOutcome',
      'Explanation',
      'Prediction',
      'Problem',
      'ServedModel',
    ]);
  });

  it('exports Prometheus metrics from a registry of its own', async () => {
    const first = await startFake();
    const second = await startFake();
    try {
      const url = `${first.url}/v1/models/fake/classify`;
      await postImage(url, png);
      await postImage(url, png);
      await postImage(url, Buffer.from('nope'));
      await fetch(`${first.url}/nowhere`);
      await fetch(url, {
        method: 'POST',
        body: form([
          { name: 'a', bytes: png },
          { name: 'b', bytes: png },
        ]),
      });
      const response = await fetch(`${first.url}/metrics`);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = await response.text();
      const route = 'route="/v1/models/:id/classify"';
      expect(text).toContain(`imgcls_http_requests_total{method="POST",${route},status="200"} 3`);
      expect(text).toContain(`imgcls_http_requests_total{method="POST",${route},status="422"} 1`);
      expect(text).toContain(
        'imgcls_http_requests_total{method="GET",route="unmatched",status="404"} 1',
      );
      expect(text).toContain(
        `imgcls_http_request_duration_seconds_count{method="POST",${route},status="200"} 3`,
      );
      expect(text).toContain('imgcls_batch_size_count{model="fake"} 4');
      expect(text).toContain('imgcls_batch_size_sum{model="fake"} 5');
      expect(text).toContain('imgcls_images_total{model="fake",result="ok"} 4');
      expect(text).toContain('imgcls_images_total{model="fake",result="INVALID_IMAGE"} 1');
      expect(text).toContain('imgcls_queue_depth 0');
      expect(text).toContain('imgcls_tfjs_tensors 42');
      expect(text).toContain('imgcls_engine_ready 1');
      expect(text).toContain('imgcls_model_load_seconds{model="fake"} 0.25');
      expect(text).toMatch(/process_resident_memory_bytes \d+/);
      expect(text).toMatch(/nodejs_heap_size_used_bytes \d+/);
      expect(text).toMatch(/process_cpu_user_seconds_total [\d.]+/);
      // The other server counted nothing of this.
      const other = await (await fetch(`${second.url}/metrics`)).text();
      expect(other).not.toContain(route);
      expect(other).not.toContain('imgcls_batch_size_count{model="fake"}');
    } finally {
      await first.app.close();
      await second.app.close();
    }
  });
});

describe('classify by URL', () => {
  let upstream: Server;
  let port: number;
  let fetching: Running;
  const served: string[] = [];

  beforeAll(async () => {
    upstream = createHttpServer((request, response) => {
      served.push(request.url ?? '');
      const path = request.url ?? '';
      if (path === '/cat.png')
        return response.writeHead(200, { 'content-type': 'image/png' }).end(png);
      if (path === '/same-host-redirect')
        return response.writeHead(302, { location: '/cat.png' }).end();
      if (path === '/other-host-redirect')
        return response.writeHead(302, { location: `http://localhost:${port}/cat.png` }).end();
      if (path === '/loop') return response.writeHead(302, { location: '/loop' }).end();
      if (path === '/declared-large')
        return response.writeHead(200, { 'content-length': String(10_000_000) }).end();
      if (path === '/streamed-large') {
        response.writeHead(200, { 'content-type': 'image/png' });
        const chunk = Buffer.alloc(16 * 1024, 1);
        for (let index = 0; index < 8; index++) response.write(chunk);
        return response.end();
      }
      if (path === '/slow') return; // never answers
      response.writeHead(404).end('no');
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    port = (upstream.address() as AddressInfo).port;
    fetching = await startFake({
      fetchUrls: {
        allowHosts: ['127.0.0.1', 'localhost', '*.example.com'],
        allowPrivate: true,
        maxBytes: 64 * 1024,
        timeoutMs: 500,
        maxRedirects: 2,
      },
    });
  });
  afterAll(async () => {
    await fetching.app.close();
    upstream.closeAllConnections();
    await new Promise((resolve) => upstream.close(resolve));
  });

  const byUrl = (running: Running, url: string, route = 'classify') =>
    fetch(`${running.url}/v1/models/fake/${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url }),
    });

  it('classifies the image behind an allowed URL, named by the URL', async () => {
    const url = `http://127.0.0.1:${port}/cat.png`;
    const response = await byUrl(fetching, url);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      input: url,
      predictions: FakeEngine.predictionsFor(png),
    });
    const embedded = await byUrl(fetching, url, 'embed');
    expect(((await embedded.json()) as { input: string }).input).toBe(url);
  });

  it('resolves names through the guarded lookup (localhost) and follows same-host redirects', async () => {
    expect((await byUrl(fetching, `http://localhost:${port}/cat.png`)).status).toBe(200);
    expect((await byUrl(fetching, `http://127.0.0.1:${port}/same-host-redirect`)).status).toBe(200);
  });

  it('refuses loopback and private addresses unless allowPrivate, by name or by literal', async () => {
    const guarded = await startFake({
      fetchUrls: { allowHosts: ['127.0.0.1', 'localhost', '[::1]', '10.1.2.3'] },
    });
    try {
      for (const url of [
        `http://127.0.0.1:${port}/cat.png`,
        `http://localhost:${port}/cat.png`,
        `http://[::1]:${port}/cat.png`,
        'http://10.1.2.3/cat.png',
      ]) {
        const before = served.length;
        const problem = await expectProblem(await byUrl(guarded, url), 403, 'URL_NOT_ALLOWED');
        expect(problem.detail).toMatch(/loopback, link-local or private/);
        expect(served.length, url).toBe(before);
      }
    } finally {
      await guarded.app.close();
    }
  });

  it('refuses hosts not on the list, including as redirect targets', async () => {
    const strict = await startFake({
      fetchUrls: { allowHosts: ['127.0.0.1'], allowPrivate: true },
    });
    try {
      const listed = await expectProblem(
        await byUrl(strict, 'http://images.elsewhere.org/cat.png'),
        403,
        'URL_NOT_ALLOWED',
      );
      expect(listed.detail).toMatch(/allowHosts/);
      const redirected = await expectProblem(
        await byUrl(strict, `http://127.0.0.1:${port}/other-host-redirect`),
        403,
        'URL_NOT_ALLOWED',
      );
      expect(redirected.detail).toMatch(/localhost/);
      await expectProblem(
        await byUrl(strict, 'http://user:pw@127.0.0.1/cat.png'),
        403,
        'URL_NOT_ALLOWED',
      );
    } finally {
      await strict.app.close();
    }
  });

  it('answers 502 for upstream failures and redirect loops, 504 for a timeout', async () => {
    expect(
      (
        await expectProblem(
          await byUrl(fetching, `http://127.0.0.1:${port}/missing`),
          502,
          'DOWNLOAD_FAILED',
        )
      ).detail,
    ).toMatch(/404/);
    expect(
      (
        await expectProblem(
          await byUrl(fetching, `http://127.0.0.1:${port}/loop`),
          502,
          'DOWNLOAD_FAILED',
        )
      ).detail,
    ).toMatch(/redirects/);
    await expectProblem(
      await byUrl(fetching, 'http://127.0.0.1:1/cat.png'),
      502,
      'DOWNLOAD_FAILED',
    );
    await expectProblem(
      await byUrl(fetching, 'http://no-such-host.example.com/cat.png'),
      502,
      'DOWNLOAD_FAILED',
    );
    const started = Date.now();
    await expectProblem(
      await byUrl(fetching, `http://127.0.0.1:${port}/slow`),
      504,
      'DOWNLOAD_TIMEOUT',
    );
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('caps downloads at maxBytes, from Content-Length and while streaming', async () => {
    await expectProblem(
      await byUrl(fetching, `http://127.0.0.1:${port}/declared-large`),
      422,
      'DOWNLOAD_TOO_LARGE',
    );
    await expectProblem(
      await byUrl(fetching, `http://127.0.0.1:${port}/streamed-large`),
      422,
      'DOWNLOAD_TOO_LARGE',
    );
  });
});

describe('options and lifecycle', () => {
  it('refuses invalid options with the option and its range, and closes the engine', async () => {
    for (const [options, message] of [
      [{ bodyLimit: 0 }, /bodyLimit must be an integer from 1 to/],
      [{ timeoutMs: 1.5 }, /timeoutMs/],
      [{ maxFiles: 5000 }, /maxFiles must be an integer from 1 to 1,000/],
      [{ apiKey: '' }, /apiKey/],
      [{ cors: ['app.example.com'] }, /cors\[0\]/],
      [{ rateLimit: { max: 0, timeWindowMs: 1000 } }, /rateLimit.max/],
      [{ fetchUrls: { allowHosts: [] } }, /allowHosts is empty/],
      [{ fetchUrls: { allowHosts: ['https://x.com/'] } }, /allowHosts\[0\]/],
      [{ logger: { level: 'loud' } }, /logger.level/],
    ] as const) {
      const engine = new FakeEngine();
      const error = await createServerWithEngine(engine, options as never).catch(
        (caught: unknown) => caught,
      );
      expect(ImgclsError.isInstance(error, 'INVALID_ARGUMENT'), String(error)).toBe(true);
      expect((error as Error).message).toMatch(message);
      expect(engine.closeCalls).toBe(1);
    }
  });

  it('lets in-flight requests finish on close, then closes the engine once', async () => {
    const running = await startFake();
    running.engine.hold();
    const inFlight = postImage(`${running.url}/v1/models/fake/classify`, png);
    await until(() => running.engine.queueDepth === 1);
    const closed = running.app.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(running.engine.closeCalls).toBe(0);
    running.engine.releaseAll();
    expect((await inFlight).status).toBe(200);
    await closed;
    expect(running.engine.closeCalls).toBe(1);
  });
});

describe('closing', () => {
  it('answers the in-flight request with Connection: close and starts nothing after it', async () => {
    const running = await startFake();
    running.engine.hold();
    const socket = connect(Number(new URL(running.url).port), '127.0.0.1');
    let received = '';
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
    });
    const ended = new Promise((resolve) => socket.on('close', resolve));
    await new Promise((resolve) => socket.on('connect', resolve));
    socket.write(
      `POST /v1/models/fake/classify HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: ${png.length}\r\n\r\n`,
    );
    socket.write(png);
    await until(() => running.engine.queueDepth === 1);
    const closed = running.app.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    // A request pipelined behind it on the same connection is not started.
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const released = Date.now();
    running.engine.releaseAll();
    await closed;
    await ended;
    expect(Date.now() - released).toBeLessThan(1_000);
    expect(received.match(/HTTP\/1\.1 \d{3}/g)).toEqual(['HTTP/1.1 200']);
    expect(received).toMatch(/connection: close/i);
    expect(running.engine.calls).toHaveLength(1);
    expect(running.engine.closeCalls).toBe(1);
  });

  it('does not wait for connections that never sent a request', async () => {
    const running = await startFake();
    const socket = connect(Number(new URL(running.url).port), '127.0.0.1');
    await new Promise((resolve) => socket.on('connect', resolve));
    const started = Date.now();
    await running.app.close();
    expect(Date.now() - started).toBeLessThan(1_000);
    socket.destroy();
  });
});

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
