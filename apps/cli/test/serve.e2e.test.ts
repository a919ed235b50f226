import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServeProcess, startServe } from './serve-process';

const builtCli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
/** The installed model package (no ./models folder in the scratch working directory). */
const MODEL = 'cifar10-seedcnn';
const API_KEY = 'test-key-0123456789';

function cli(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, [builtCli, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ...env },
    timeout: 120_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A photo-like test image: a colour gradient with some texture, `width`×`height`, as PNG or JPEG. */
async function testImage(width: number, height: number, type: 'png' | 'jpeg'): Promise<Buffer> {
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const offset = (y * width + x) * 3;
      pixels[offset] = (x * 255) / width;
      pixels[offset + 1] = (y * 255) / height;
      pixels[offset + 2] = ((x ^ y) * 7) % 256;
    }
  const image = sharp(pixels, { raw: { width, height, channels: 3 } });
  return (type === 'png' ? image.png() : image.jpeg({ quality: 90 })).toBuffer();
}

interface Answer {
  readonly status: number;
  readonly body: string;
}

/**
 * POSTs `body` on a connection of its own; with `holdBack`, the last `holdBack` bytes are sent only
 * when `release` resolves, so the request is in flight (headers and part of the body received).
 */
function post(
  url: string,
  body: Buffer,
  headers: Record<string, string>,
  options: { holdBack?: number; release?: Promise<void> } = {},
): { answered: Promise<Answer>; written: Promise<void> } {
  let written!: () => void;
  const writtenPromise = new Promise<void>((resolve) => {
    written = resolve;
  });
  const answered = new Promise<Answer>((resolve, reject) => {
    const request = http.request(
      url,
      {
        method: 'POST',
        agent: false,
        headers: { ...headers, 'content-length': String(body.length) },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => {
          text += chunk;
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
      },
    );
    request.on('error', reject);
    const split = body.length - (options.holdBack ?? 0);
    request.write(body.subarray(0, split), () => {
      if (!options.holdBack) {
        request.end(written);
        return;
      }
      written();
      void options.release?.then(() => request.end(body.subarray(split)));
    });
  });
  return { answered, written: writtenPromise };
}

/** Resolves with the error code of a fresh connection to `url` (e.g. ECONNREFUSED), or "connected". */
function connectOutcome(url: string): Promise<string> {
  return new Promise((resolve) => {
    const request = http.get(`${url}/healthz`, { agent: false }, (response) => {
      response.resume();
      resolve(`connected (${response.statusCode})`);
    });
    request.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

/** Resolves once the server has logged `count` incoming requests for `path` (Fastify's onRequest log). */
async function requestsArrived(server: ServeProcess, path: string, count: number): Promise<void> {
  const arrived = () =>
    server
      .stdout()
      .split('\n')
      .filter((line) => line.includes('"incoming request"') && line.includes(`"url":"${path}`))
      .length;
  for (let waited = 0; arrived() < count; waited += 20) {
    if (waited > 30_000) throw new Error(`only ${arrived()} of ${count} requests reached ${path}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('imgcls serve (spawned binary, real HTTP on loopback)', () => {
  let workspace: string;
  let server: ServeProcess;
  let png: Uint8Array<ArrayBuffer>;

  beforeAll(async () => {
    workspace = mkdtempSync(join(tmpdir(), 'imgcls-serve-'));
    png = new Uint8Array(await testImage(96, 64, 'png'));
    writeFileSync(join(workspace, 'photo.png'), png);
    server = await startServe(['--model', MODEL, '--cors', 'https://app.example.com'], {
      cwd: workspace,
      env: { IMGCLS_API_KEY: API_KEY },
    });
  });
  afterAll(() => server?.kill());

  const auth = { authorization: `Bearer ${API_KEY}` };

  it('answers health and readiness, and lists the installed model package', async () => {
    expect(await (await fetch(`${server.url}/healthz`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${server.url}/readyz`)).json()).toEqual({ status: 'ready' });
    const listed = (await (await fetch(`${server.url}/v1/models`, { headers: auth })).json()) as {
      models: { id: string; labels: string[]; source: string }[];
    };
    expect(listed.models).toHaveLength(1);
    expect(listed.models[0]).toMatchObject({ id: MODEL, source: 'package' });
    expect(listed.models[0]?.labels).toHaveLength(10);
  });

  it('classifies a file exactly as `imgcls classify --json` does', async () => {
    const local = cli(['classify', 'photo.png', '--model', MODEL, '--json'], workspace);
    expect(local.code, local.stderr).toBe(0);
    const expected = JSON.parse(local.stdout.trim());
    expect(expected.predictions).toHaveLength(5);

    const raw = await fetch(`${server.url}/v1/models/${MODEL}/classify`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'image/png' },
      body: png,
    });
    expect(raw.status).toBe(200);
    expect(await raw.json()).toEqual({ input: 'body', predictions: expected.predictions });

    // Multipart names the outcome after the file (the CLI after its path): the rest is the CLI's line.
    const form = new FormData();
    form.append('image', new Blob([png], { type: 'image/png' }), 'photo.png');
    const multipart = await fetch(`${server.url}/v1/models/${MODEL}/classify`, {
      method: 'POST',
      headers: auth,
      body: form,
    });
    expect(multipart.status).toBe(200);
    expect(await multipart.json()).toEqual({ outcomes: [{ ...expected, input: 'photo.png' }] });

    const topTwo = cli(
      ['classify', 'photo.png', '--model', MODEL, '--json', '--top-k', '2'],
      workspace,
    );
    const served = await fetch(`${server.url}/v1/models/${MODEL}/classify?topK=2`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'image/png' },
      body: png,
    });
    expect((await served.json()).predictions).toEqual(JSON.parse(topTwo.stdout).predictions);
  });

  it('takes the API key from $IMGCLS_API_KEY and the CORS origins from --cors', async () => {
    const anonymous = await fetch(`${server.url}/v1/models`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await anonymous.json()).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
    const wrong = await fetch(`${server.url}/v1/models`, {
      headers: { authorization: 'Bearer no' },
    });
    expect(wrong.status).toBe(401);
    // The key never appears on the command line, so `ps` does not show it.
    expect(server.child.spawnargs.join(' ')).not.toContain(API_KEY);

    const preflight = await fetch(`${server.url}/v1/models/${MODEL}/classify`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example.com',
        'access-control-request-method': 'POST',
      },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    const stranger = await fetch(`${server.url}/healthz`, {
      headers: { origin: 'https://evil.example.com' },
    });
    expect(stranger.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('logs requests as JSON lines on stdout', () => {
    const lines = server
      .stdout()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { msg?: string; req?: { url?: string } });
    expect(lines.some((line) => line.msg?.startsWith('Server listening at'))).toBe(true);
    expect(lines.some((line) => line.req?.url === '/v1/models')).toBe(true);
  });
});

describe('imgcls serve flags', () => {
  const cwd = tmpdir();
  it.each([
    [['--port', '70000'], /--port.*from 0 to 65,535/],
    [['--port', '80.5'], /--port.*an integer from 0 to 65,535/],
    [['--workers', '0'], /--workers.*from 1 to 64/],
    [['--workers', 'two'], /--workers.*from 1 to 64/],
    [['--max-batch', '2000'], /--max-batch.*from 1 to 1,024/],
    [['--max-wait-ms', '-1'], /--max-wait-ms.*a number from 0 to 10,000/],
    [['--queue', ''], /--queue.*from 1 to 1,000,000/],
    [['--timeout-ms', '0'], /--timeout-ms.*from 1 to 600,000/],
    [['--max-pixels', '1e10'], /--max-pixels.*from 1 to 1,000,000,000/],
    [['--body-limit', '2147483648'], /--body-limit.*from 1 to 1,073,741,824/],
    [['--rate-limit', '0'], /--rate-limit.*from 1 to 1,000,000,000/],
    [['--shutdown-timeout-ms', '0'], /--shutdown-timeout-ms.*from 1 to 600,000/],
    [['--log-level', 'loud'], /--log-level.*Allowed choices are fatal, error, warn, info/],
    [['--cors', 'ftp://files.example.com'], /--cors.*expected \* or comma-separated origins/],
    [['--cors', 'https://app.example.com/path'], /--cors.*got "https:\/\/app.example.com\/path"/],
    [['--model', 'no spaces=cifar10'], /--model.*the id "no spaces" must be/],
    [['--model', 'a=cifar10', '--model', 'a=cifar10-seedcnn'], /--model.*"a" is given twice/],
    [['--model', 'a='], /--model.*names no model/],
    [['--api-key', 'has space'], /--api-key.*without spaces/],
  ])('exits 2 for %j, naming the valid values', (args, message) => {
    const { code, stderr } = cli(['serve', ...args], cwd);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });

  it('exits 2 for an unusable $IMGCLS_API_KEY', () => {
    const { code, stderr } = cli(['serve'], cwd, { IMGCLS_API_KEY: ' ' });
    expect(code).toBe(2);
    expect(stderr).toMatch(/--api-key.*without spaces/);
  });

  it('exits 1 naming the port when it is taken', async () => {
    const blocker = createNetServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    try {
      const { code, stderr } = await new Promise<ReturnType<typeof cli>>((resolve) => {
        // Asynchronous, so this process can keep the port open and answer.
        const child = spawn(
          process.execPath,
          [builtCli, 'serve', '--model', MODEL, '--port', String(port)],
          {
            cwd,
            env: { ...process.env, NO_COLOR: '1' },
          },
        );
        let stderrText = '';
        child.stderr.on('data', (chunk) => {
          stderrText += chunk;
        });
        child.on('exit', (exitCode) => resolve({ code: exitCode, stdout: '', stderr: stderrText }));
      });
      expect(code).toBe(1);
      expect(stderr).toContain(`Cannot listen on 127.0.0.1:${port}`);
      expect(stderr).toContain('EADDRINUSE');
    } finally {
      blocker.close();
    }
  });
});

describe('imgcls serve shutdown', () => {
  let workspace: string;
  let large: Buffer;

  beforeAll(async () => {
    workspace = mkdtempSync(join(tmpdir(), 'imgcls-serve-stop-'));
    // Large enough that decoding 30 of them keeps the one worker busy for a while.
    large = await testImage(2400, 1600, 'jpeg');
  });

  it('on SIGTERM stops accepting, answers all 30 in-flight requests with 200 and exits 0', async () => {
    const server = await startServe(['--model', MODEL], { cwd: workspace });
    try {
      const url = `${server.url}/v1/models/${MODEL}/classify`;
      const headers = { 'content-type': 'image/jpeg' };
      let release!: () => void;
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      // 25 complete requests, and 5 whose last bytes are still on their way when SIGTERM arrives.
      const requests = [
        ...Array.from({ length: 25 }, () => post(url, large, headers)),
        ...Array.from({ length: 5 }, () =>
          post(url, large, headers, { holdBack: 1024, release: released }),
        ),
      ];
      await Promise.all(requests.map((request) => request.written));
      await requestsArrived(server, `/v1/models/${MODEL}/classify`, 30);
      let signalled = false;
      let answeredBeforeSignal = 0;
      for (const request of requests)
        void request.answered.then(() => {
          if (!signalled) answeredBeforeSignal++;
        });
      server.child.kill('SIGTERM');
      signalled = true;
      await new Promise((resolve) => setTimeout(resolve, 300));
      // New connections are refused while the in-flight requests are being finished.
      expect(await connectOutcome(server.url)).toBe('ECONNREFUSED');
      release();

      const answers = await Promise.all(requests.map((request) => request.answered));
      expect(answeredBeforeSignal).toBeLessThan(30);
      for (const answer of answers) {
        expect(answer.status, answer.body).toBe(200);
        expect(JSON.parse(answer.body).predictions).toHaveLength(5);
      }
      expect(await server.exited).toEqual({ code: 0, signal: null });
      expect(server.stderr()).toMatch(/SIGTERM: finishing in-flight requests/);
    } finally {
      server.kill();
    }
  }, 120_000);

  it('exits 0 at once on SIGTERM while the models are still loading', async () => {
    const child = spawn(process.execPath, [builtCli, 'serve', '--model', MODEL, '--port', '0'], {
      cwd: workspace,
      env: { ...process.env, NO_COLOR: '1' },
    });
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    await new Promise<void>((resolve) =>
      child.stderr.on('data', (chunk) => {
        stderr += chunk;
        if (stderr.includes('loading')) resolve();
      }),
    );
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toContain('SIGTERM while loading the models: exiting');
    expect(stderr).not.toContain('listening on');
  });

  it('exits 1 when in-flight requests outlast --shutdown-timeout-ms', async () => {
    const server = await startServe(['--model', MODEL, '--shutdown-timeout-ms', '500'], {
      cwd: workspace,
    });
    try {
      // A request whose body never completes keeps its connection busy past the deadline.
      const stalled = post(
        `${server.url}/v1/models/${MODEL}/classify`,
        large,
        { 'content-type': 'image/jpeg' },
        { holdBack: 1024, release: new Promise(() => undefined) },
      );
      stalled.answered.catch(() => undefined);
      await stalled.written;
      await requestsArrived(server, `/v1/models/${MODEL}/classify`, 1);
      const started = Date.now();
      server.child.kill('SIGTERM');
      expect(await server.exited).toEqual({ code: 1, signal: null });
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(server.stderr()).toMatch(/--shutdown-timeout-ms 500 passed/);
    } finally {
      server.kill();
    }
  });
});
