/**
 * `imgcls serve` under load: autocannon (programmatic) against our server and the FastAPI + PyTorch peer
 * (`../shared/peers/torch-serve`, MobileNetV2-224) started in the same run, with the same JPEG, at
 * concurrency 1, 8, 32 and 64: requests/s (2xx only), p50/p99 latency, and our mean micro-batch size read
 * from the server's /metrics. Models: the real MobileNetV2-224 (../shared/data, imported with
 * `imgcls models import`) and a CIFAR-10 model (`cifar10`, sent the photo at 32x32 as CIFAR-10 clients
 * would, so that per-call overhead rather than JPEG decoding dominates). Baselines measured in the same run: the peer
 * (MobileNetV2), our own server with batching off (`--max-batch 1`, CIFAR-10; MobileNetV2 too when the peer
 * cannot be installed), and the library's own `classify()` latency on the same bytes (against our p50 at
 * concurrency 1).
 *
 * Needs a build (`turbo run build --filter=@imgcls/cli`): the server runs as the built `imgcls serve`.
 * Usage: node --conditions=@imgcls/source --import tsx serve.ts [--duration 10] [--workers N]
 *   [--cifar <model id>] [--no-peer] [--only mobilenet|cifar]
 * --workers: our server's worker threads (default: every core, as the peer's PyTorch uses every core).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadClassifier } from '@imgcls/classifier';
import { decodeImage } from '@imgcls/preprocess';
import autocannon from 'autocannon';
import sharp from 'sharp';
import { REPO_ROOT, sharedData } from '../tooling/test-data';

const CONCURRENCY = [1, 8, 32, 64] as const;
const argument = (name: string) => {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
};
const durationSeconds = Number(argument('--duration') ?? 5);
const workers = Number(argument('--workers') ?? availableParallelism());
const cifarModel = argument('--cifar') ?? 'cifar10';
const only = argument('--only');
const builtCli = resolve(REPO_ROOT, 'apps/cli/dist/cli.js');
const peerScript =
  process.env.IMGCLS_TORCH_SERVE ?? resolve(REPO_ROOT, '../shared/peers/torch-serve');

const tflite = sharedData('mobilenet-v2/mobilenet_v2_1.0_224_quant.tflite');
const labels = sharedData('mobilenet-v2/imagenet_labels.txt');
const photo = sharedData('photos/grace_hopper.bmp');
if (!existsSync(builtCli) || !existsSync(resolve(REPO_ROOT, 'packages/server/dist/worker.js'))) {
  console.error('bench/serve needs the built CLI and server: turbo run build --filter=@imgcls/cli');
  process.exit(1);
}
if (!photo) {
  console.error('bench/serve needs ../shared/data/photos (the test photo); nothing measured.');
  process.exit(1);
}

// The same JPEG for every server: a photo as a phone would upload it.
const decoded = await decodeImage(photo);
const jpeg = await sharp(Buffer.from(decoded.data), {
  raw: { width: decoded.width, height: decoded.height, channels: 3 },
})
  .jpeg({ quality: 90 })
  .toBuffer();
// CIFAR-10 clients send CIFAR-sized images: the series where per-call overhead, not decoding, dominates.
const cifarJpeg = await sharp(jpeg)
  .resize(32, 32, { fit: 'fill' })
  .jpeg({ quality: 90 })
  .toBuffer();

const scratch = mkdtempSync(join(tmpdir(), 'imgcls-bench-serve-'));
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(scratch, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** A server process we started, reachable at `url`. */
interface Started {
  readonly url: string;
  readonly stop: () => Promise<void>;
}

function track(child: ChildProcess): { exited: Promise<number | null>; output: () => string } {
  children.add(child);
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output = `${output}${chunk}`.slice(-4000);
  });
  child.stderr?.on('data', (chunk) => {
    output = `${output}${chunk}`.slice(-4000);
  });
  const exited = new Promise<number | null>((done) =>
    child.on('exit', (code) => {
      children.delete(child);
      done(code);
    }),
  );
  return { exited, output: () => output };
}

const stopper = (child: ChildProcess, exited: Promise<number | null>) => async () => {
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(15_000)]);
  child.kill('SIGKILL');
};

/** Our server: the built `imgcls serve` on a free port, ready once it printed its URL. */
async function startOurs(model: string, extra: string[] = []): Promise<Started> {
  const child = spawn(
    process.execPath,
    [
      builtCli,
      'serve',
      '--port',
      '0',
      '--model',
      model,
      '--workers',
      String(workers),
      '--log-level',
      'warn',
      ...extra,
    ],
    { cwd: scratch, env: { ...process.env, NO_COLOR: '1', NODE_PATH: undefined } },
  );
  const { exited, output } = track(child);
  for (let waited = 0; waited < 180_000; waited += 200) {
    const url = /listening on (http:\/\/\S+)/.exec(output())?.[1];
    if (url) return { url, stop: stopper(child, exited) };
    if (child.exitCode !== null) break;
    await sleep(200);
  }
  throw new Error(`imgcls serve --model ${model} did not start:\n${output()}`);
}

/** The peer on a free port, or why it cannot run (exit 3: it cannot be installed here). */
async function startPeer(): Promise<Started | { unavailable: string }> {
  if (process.argv.includes('--no-peer')) return { unavailable: 'skipped (--no-peer)' };
  if (!existsSync(peerScript)) return { unavailable: `no peer at ${peerScript}` };
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const child = spawn(peerScript, ['--port', String(port)], { env: process.env });
  const { exited, output } = track(child);
  const url = `http://127.0.0.1:${port}`;
  for (let waited = 0; waited < 600_000; waited += 500) {
    if (child.exitCode !== null) {
      const code = await exited;
      return {
        unavailable:
          code === 3
            ? `the peer cannot be installed on this machine (exit 3: ${output().trim().slice(-200)})`
            : `the peer exited ${code}: ${output().trim().slice(-300)}`,
      };
    }
    const healthy = await fetch(`${url}/healthz`).then(
      (response) => response.ok,
      () => false,
    );
    if (healthy) return { url, stop: stopper(child, exited) };
    await sleep(500);
  }
  child.kill('SIGKILL');
  return { unavailable: 'the peer did not answer /healthz within 10 minutes' };
}

/** Micro-batches run so far, and their images, from our server's batch-size histogram. */
async function batchCounters(url: string): Promise<{ batches: number; images: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const sum = (name: string) =>
    [...text.matchAll(new RegExp(`^${name}\\{[^}]*\\} ([\\d.e+]+)$`, 'gm'))].reduce(
      (total, match) => total + Number(match[1]),
      0,
    );
  return { batches: sum('imgcls_batch_size_count'), images: sum('imgcls_batch_size_sum') };
}

/** One measured point. */
interface Point {
  readonly requestsPerSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly failed: number;
  /** Our servers only. */
  readonly meanBatch?: number;
}

async function load(url: string, connections: number, seconds: number, image: Buffer) {
  return autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'image/jpeg' },
    body: image,
    connections,
    duration: seconds,
    timeout: 60,
  });
}

/**
 * Warms a server up, then measures it at every concurrency; `metricsOf` is our server's origin (its
 * /metrics give the mean batch size), undefined for the peer.
 */
async function measure(
  url: string,
  metricsOf: string | undefined,
  image: Buffer,
): Promise<Map<number, Point>> {
  await load(url, 8, 2, image);
  const points = new Map<number, Point>();
  for (const connections of CONCURRENCY) {
    const before = metricsOf ? await batchCounters(metricsOf) : undefined;
    const result = await load(url, connections, durationSeconds, image);
    const after = metricsOf ? await batchCounters(metricsOf) : undefined;
    const images = before && after ? after.images - before.images : 0;
    const batches = before && after ? after.batches - before.batches : 0;
    points.set(connections, {
      requestsPerSecond: result['2xx'] / result.duration,
      p50: result.latency.p50,
      p99: result.latency.p99,
      failed: result.non2xx + result.errors + result.timeouts,
      ...(batches > 0 ? { meanBatch: images / batches } : {}),
    });
    process.stderr.write(
      `  c=${connections}: ${(result['2xx'] / result.duration).toFixed(1)} req/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms\n`,
    );
  }
  return points;
}

/** The library's own classify() of the same bytes, in this process: p50 of `runs` calls, in ms. */
async function libraryLatency(reference: string, image: Buffer, runs = 30): Promise<number> {
  const classifier = await loadClassifier(reference);
  const bytes = new Uint8Array(image);
  for (let i = 0; i < 3; i++) await classifier.classify(bytes);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await classifier.classify(bytes);
    times.push(performance.now() - started);
  }
  classifier.dispose();
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)] as number;
}

interface Series {
  readonly name: string;
  readonly points: Map<number, Point>;
}

const fixed = (value: number | undefined, digits = 1) =>
  value === undefined || Number.isNaN(value) ? '—' : value.toFixed(digits);

/** One markdown table: ours against a baseline, per concurrency. */
function table(title: string, ours: Series, baseline: Series | undefined): string[] {
  const lines = [
    `${title}`,
    '',
    `| concurrency | ours req/s | ours p50 / p99 (ms) | mean batch | ${baseline?.name ?? 'baseline'} req/s | ${baseline?.name ?? 'baseline'} p50 / p99 (ms) | ours / baseline req/s |`,
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const connections of CONCURRENCY) {
    const point = ours.points.get(connections);
    const base = baseline?.points.get(connections);
    const failed = (point?.failed ?? 0) + (base?.failed ?? 0);
    lines.push(
      `| ${connections} | ${fixed(point?.requestsPerSecond)} | ${point?.p50 ?? '—'} / ${point?.p99 ?? '—'} | ${fixed(point?.meanBatch)} | ${fixed(base?.requestsPerSecond)} | ${base ? `${base.p50} / ${base.p99}` : '—'} | ${point && base ? `${(point.requestsPerSecond / base.requestsPerSecond).toFixed(2)}×` : '—'}${failed > 0 ? ` (${failed} failed)` : ''} |`,
    );
  }
  return lines;
}

const verdict = (met: boolean) => (met ? 'met' : 'not met');
const report: string[] = [];
const targets: string[] = [];

console.log(
  `bench/serve: ${durationSeconds} s per point, our server with ${workers} worker(s), ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), load average ${loadavg()
    .map((value) => value.toFixed(2))
    .join(
      ' ',
    )}, image ${decoded.width}x${decoded.height} JPEG (${jpeg.length.toLocaleString('en-US')} bytes)`,
);

if (only !== 'cifar') {
  if (!tflite || !labels) {
    console.log('MobileNetV2: skipped (../shared/data/mobilenet-v2 is absent)');
  } else {
    const folder = join(scratch, 'mobilenet-v2');
    const imported = spawnSync(
      process.execPath,
      [
        builtCli,
        '--quiet',
        'models',
        'import',
        tflite,
        '--labels',
        labels,
        '--id',
        'mobilenet-v2',
        '--out',
        folder,
      ],
      { encoding: 'utf8' },
    );
    if (imported.status !== 0) throw new Error(`models import failed: ${imported.stderr}`);
    const model = `mobilenet-v2=${folder}`;
    console.error('MobileNetV2-224: the library in-process…');
    const library = await libraryLatency(folder, jpeg);
    console.error('MobileNetV2-224: our server…');
    const server = await startOurs(model);
    const ours = await measure(`${server.url}/v1/models/mobilenet-v2/classify`, server.url, jpeg);
    await server.stop();
    console.error('MobileNetV2-224: the FastAPI + PyTorch peer…');
    const peer = await startPeer();
    let baseline: Series;
    if ('unavailable' in peer) {
      console.log(
        `PyTorch peer: none (${peer.unavailable}); baseline: our server with batching off`,
      );
      const unbatched = await startOurs(model, ['--max-batch', '1']);
      baseline = {
        name: 'ours, batching off',
        points: await measure(
          `${unbatched.url}/v1/models/mobilenet-v2/classify`,
          unbatched.url,
          jpeg,
        ),
      };
      await unbatched.stop();
    } else {
      baseline = {
        name: 'FastAPI + PyTorch',
        points: await measure(`${peer.url}/classify`, undefined, jpeg),
      };
      await peer.stop();
      const at32 = ours.get(32);
      const peer32 = baseline.points.get(32);
      if (at32 && peer32)
        targets.push(
          `MobileNetV2 at concurrency 32: ${(at32.requestsPerSecond / peer32.requestsPerSecond).toFixed(2)}× the peer's requests/s (target ≥ 1.3×: ${verdict(at32.requestsPerSecond >= 1.3 * peer32.requestsPerSecond)}), p99 ${at32.p99} ms vs ${peer32.p99} ms (target lower: ${verdict(at32.p99 < peer32.p99)})`,
        );
    }
    report.push(
      ...table(
        `MobileNetV2-224, the ${decoded.width}x${decoded.height} photo (a ${jpeg.length.toLocaleString('en-US')}-byte JPEG)`,
        { name: 'ours', points: ours },
        baseline,
      ),
      '',
    );
    const single = ours.get(1);
    if (single)
      targets.push(
        `MobileNetV2 at concurrency 1: p50 ${single.p50} ms vs the library's classify() ${library.toFixed(1)} ms = ${(single.p50 / library).toFixed(2)}× (target ≤ 1.2×: ${verdict(single.p50 <= 1.2 * library)})`,
      );
  }
}

if (only !== 'mobilenet') {
  console.error(`CIFAR-10 (${cifarModel}): the library in-process…`);
  const library = await libraryLatency(cifarModel, cifarJpeg);
  console.error(`CIFAR-10 (${cifarModel}): our server…`);
  const server = await startOurs(cifarModel);
  const ours = await measure(
    `${server.url}/v1/models/${cifarModel}/classify`,
    server.url,
    cifarJpeg,
  );
  await server.stop();
  console.error(`CIFAR-10 (${cifarModel}): our server with batching off…`);
  const unbatched = await startOurs(cifarModel, ['--max-batch', '1']);
  const off = await measure(
    `${unbatched.url}/v1/models/${cifarModel}/classify`,
    unbatched.url,
    cifarJpeg,
  );
  await unbatched.stop();
  report.push(
    ...table(
      `CIFAR-10 (${cifarModel}), the photo at CIFAR-10's 32x32 (a ${cifarJpeg.length.toLocaleString('en-US')}-byte JPEG)`,
      { name: 'ours', points: ours },
      { name: 'ours, batching off', points: off },
    ),
    '',
  );
  const best = Math.max(
    ...CONCURRENCY.map(
      (c) => (ours.get(c)?.requestsPerSecond ?? 0) / (off.get(c)?.requestsPerSecond ?? Number.NaN),
    ),
  );
  const at32 =
    (ours.get(32)?.requestsPerSecond ?? 0) / (off.get(32)?.requestsPerSecond ?? Number.NaN);
  targets.push(
    `CIFAR-10 at concurrency 32: ${at32.toFixed(2)}× our server with batching off (best over concurrencies ${best.toFixed(2)}×; target ≥ 3×: ${verdict(at32 >= 3)})`,
  );
  const single = ours.get(1);
  if (single)
    targets.push(
      `CIFAR-10 at concurrency 1: p50 ${single.p50} ms vs the library's classify() ${library.toFixed(1)} ms = ${(single.p50 / library).toFixed(2)}× (target ≤ 1.2×: ${verdict(single.p50 <= 1.2 * library)})`,
    );
}

console.log('');
console.log(report.join('\n'));
for (const line of targets) console.log(`- ${line}`);
process.exit(0);
