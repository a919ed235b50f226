import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { modelSettings, registeredModels } from '@imgcls/models';
import { ImgclsError } from '@imgcls/preprocess/errors';
import type { ServerOptions } from '@imgcls/server';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { EXIT } from '../errors';
import { modelReference } from '../model-store';
import type { Terminal } from '../terminal';

/**
 * The valid range of every numeric flag: `[min, max, integer]`. They are the ranges `createServer`
 * checks (its engine's and its HTTP layer's), repeated here so that a bad value is a usage error
 * (exit 2) before any model loads; `test/serve-flags.test.ts` fails when the two disagree.
 */
export const SERVE_RANGES = {
  port: [0, 65_535, true],
  workers: [1, 64, true],
  maxBatch: [1, 1024, true],
  maxWaitMs: [0, 10_000, false],
  queue: [1, 1_000_000, true],
  maxPixels: [1, 1_000_000_000, true],
  timeoutMs: [1, 600_000, true],
  bodyLimit: [1, 1024 * 1024 * 1024, true],
  rateLimit: [1, 1_000_000_000, true],
  rateLimitWindowMs: [1, 24 * 60 * 60 * 1000, true],
  shutdownTimeoutMs: [1, 600_000, true],
} as const satisfies Record<string, readonly [number, number, boolean]>;

/** The defaults the help text names: `createServer`'s own (the test checks them), not applied here. */
export const SERVE_HELP_DEFAULTS = {
  workers: 1,
  maxBatch: 32,
  maxWaitMs: 5,
  queue: 256,
  maxPixels: 50_000_000,
  timeoutMs: 30_000,
  bodyLimit: 20 * 1024 * 1024,
} as const;

/** pino's levels, for `--log-level`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** A served model id: a path segment of `/v1/models/{id}` (the server's own rule). */
const MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

const DEFAULT_PORT = 8080;
const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;
const DEFAULT_RATE_LIMIT_WINDOW_MS = 60_000;

/** A `--model` value: what to load, and the id to serve it under when given as `id=ref`. */
interface ModelFlag {
  readonly id?: string;
  readonly reference: string;
}

interface ServeFlags {
  readonly model?: readonly ModelFlag[];
  readonly port: number;
  readonly host: string;
  readonly workers?: number;
  readonly maxBatch?: number;
  readonly maxWaitMs?: number;
  readonly queue?: number;
  readonly maxPixels?: number;
  readonly timeoutMs?: number;
  readonly bodyLimit?: number;
  readonly apiKey?: string;
  readonly cors?: true | readonly string[];
  readonly rateLimit?: number;
  readonly rateLimitWindowMs: number;
  readonly fetchHosts?: readonly string[];
  readonly fetchPrivate?: boolean;
  readonly logLevel: (typeof LOG_LEVELS)[number];
  readonly shutdownTimeoutMs: number;
}

const format = (value: number) => value.toLocaleString('en-US');

/** commander argParser for a number in `SERVE_RANGES[name]`; the message names the range. */
function inRange(name: keyof typeof SERVE_RANGES) {
  const [min, max, integer] = SERVE_RANGES[name];
  return (value: string): number => {
    const parsed = value.trim() === '' ? Number.NaN : Number(value);
    if (
      !Number.isFinite(parsed) ||
      (integer && !Number.isInteger(parsed)) ||
      parsed < min ||
      parsed > max
    )
      throw new InvalidArgumentError(
        `expected ${integer ? 'an integer' : 'a number'} from ${format(min)} to ${format(max)}.`,
      );
    return parsed;
  };
}

/**
 * `--model cifar10`, `--model ./my-model`, `--model https://…/model.json`, or `--model name=ref` to
 * choose the served id. A value that exists as a file or folder is always a reference, so a folder
 * named `a=b` stays one; URLs never match since an id has no `:` or `/`.
 */
function modelFlag(value: string, previous: readonly ModelFlag[] = []): ModelFlag[] {
  const separator = value.indexOf('=');
  const id = separator > 0 ? value.slice(0, separator) : undefined;
  if (id === undefined || existsSync(value) || !/^[^:/\\]+$/.test(id)) {
    if (value.trim() === '')
      throw new InvalidArgumentError('expected a registry id, a model folder or a URL.');
    return [...previous, { reference: value }];
  }
  const reference = value.slice(separator + 1);
  if (!MODEL_ID.test(id))
    throw new InvalidArgumentError(
      `the id "${id}" must be 1 to 128 letters, digits, ".", "_" or "-", starting with a letter or digit.`,
    );
  if (reference.trim() === '')
    throw new InvalidArgumentError(`"${id}=" names no model: expected ${id}=<id|folder|url>.`);
  if (previous.some((model) => model.id === id))
    throw new InvalidArgumentError(
      `the id "${id}" is given twice: serve each model under its own id.`,
    );
  return [...previous, { id, reference }];
}

/** `--cors '*'` or a comma-separated list of origins (scheme and host, no path). */
function corsFlag(value: string): true | string[] {
  if (value.trim() === '*') return true;
  const origins = value
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
  const bad = origins.find((origin) => !/^https?:\/\/[^/\s]+$/.test(origin));
  if (origins.length === 0 || bad !== undefined)
    throw new InvalidArgumentError(
      `expected * or comma-separated origins such as https://app.example.com (scheme and host, no path)${bad ? `, got "${bad}"` : ''}.`,
    );
  return origins;
}

/** `--fetch-hosts images.example.com,*.cdn.example.com`. */
function hostsFlag(value: string): string[] {
  const hosts = value
    .split(',')
    .map((host) => host.trim())
    .filter(Boolean);
  if (hosts.length === 0)
    throw new InvalidArgumentError('expected comma-separated host names, e.g. images.example.com.');
  return hosts;
}

function apiKeyFlag(value: string): string {
  if (value.trim() === '' || /\s/.test(value))
    throw new InvalidArgumentError(
      'expected a key without spaces (it is sent as "Authorization: Bearer <key>").',
    );
  return value;
}

/** The command line's flags as `createServer` options: a mapping, no decisions of its own. */
function serverOptions(flags: ServeFlags): ServerOptions {
  const registered = new Set(registeredModels().map((entry) => entry.id));
  const models = (flags.model ?? [{ reference: 'cifar10' }]).map((model) => {
    // `--model cifar10` is served as /v1/models/cifar10, not under the id in its metadata.json
    // (cifar10-airbench-float16): the name the user typed is the one clients are told to use.
    const id = model.id ?? (registered.has(model.reference) ? model.reference : undefined);
    return { ...(id ? { id } : {}), reference: modelReference(model.reference) };
  });
  const defined = <T extends object>(object: T) =>
    Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as T;
  return {
    models,
    ...defined({
      workers: flags.workers,
      maxBatch: flags.maxBatch,
      maxWaitMs: flags.maxWaitMs,
      queue: flags.queue,
      maxPixels: flags.maxPixels,
      timeoutMs: flags.timeoutMs,
      bodyLimit: flags.bodyLimit,
      apiKey: flags.apiKey,
      cors: flags.cors,
    }),
    ...(flags.rateLimit !== undefined
      ? { rateLimit: { max: flags.rateLimit, timeWindowMs: flags.rateLimitWindowMs } }
      : {}),
    ...(flags.fetchHosts
      ? { fetchUrls: { allowHosts: flags.fetchHosts, allowPrivate: flags.fetchPrivate === true } }
      : {}),
    logger: { level: flags.logLevel },
    // Workers see none of this thread's modelSettings: hand them what the global flags configured.
    modelStore: {
      modelsFolder: modelSettings.modelsFolder,
      cacheDir: modelSettings.cacheDir,
      remoteHost: modelSettings.remoteHost,
      remotePathTemplate: modelSettings.remotePathTemplate,
      allowRemote: modelSettings.allowRemote,
      offline: modelSettings.offline,
    },
  };
}

function listeningUrl(address: AddressInfo | string | null, host: string): string {
  if (address === null || typeof address === 'string') return String(address ?? host);
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${shown}:${address.port}`;
}

/** A commander option for a numeric flag: its help names the range and `inRange` enforces it. */
function numberOption(flags: string, description: string, name: keyof typeof SERVE_RANGES) {
  const [min, max] = SERVE_RANGES[name];
  return new Option(flags, `${description} (${format(min)}–${format(max)})`).argParser(
    inRange(name),
  );
}

// The options are added in three groups, in the order `--help` lists them: keep that order, since
// the help text (and the README that quotes it) follows it.

/** What to serve and where to listen. */
function addListenOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        '-m, --model <ref>',
        'model to serve: registry id, model folder or model.json URL; name=ref serves it as name; repeat for several (default: cifar10)',
      ).argParser(modelFlag),
    )
    .addOption(
      numberOption('-p, --port <n>', 'TCP port; 0 picks a free one', 'port').default(DEFAULT_PORT),
    )
    .option(
      '--host <address>',
      'address to listen on; 0.0.0.0 (or ::) for every interface, e.g. in a container',
      DEFAULT_HOST,
    );
}

/** The engine's limits. No defaults are set here: `createServer` applies its own. */
function addEngineOptions(command: Command): Command {
  const defaults = SERVE_HELP_DEFAULTS;
  return command
    .addOption(
      numberOption(
        '--workers <n>',
        `worker threads, each with its own wasm instance and copy of every model; default ${defaults.workers}`,
        'workers',
      ),
    )
    .addOption(
      numberOption(
        '--max-batch <n>',
        `largest micro-batch of concurrent requests per model (1: no batching); default ${defaults.maxBatch}`,
        'maxBatch',
      ),
    )
    .addOption(
      numberOption(
        '--max-wait-ms <ms>',
        `longest a request waits for others to join its batch; default ${defaults.maxWaitMs}`,
        'maxWaitMs',
      ),
    )
    .addOption(
      numberOption(
        '--queue <n>',
        `images queued or running at most; more are answered 429 with Retry-After; default ${defaults.queue}`,
        'queue',
      ),
    )
    .addOption(
      numberOption(
        '--timeout-ms <ms>',
        `per-request deadline, upload and queueing included (504 after it); default ${format(defaults.timeoutMs)}`,
        'timeoutMs',
      ),
    )
    .addOption(
      numberOption(
        '--max-pixels <n>',
        `largest image in pixels, checked from its header before decoding (422); default ${format(defaults.maxPixels)}`,
        'maxPixels',
      ),
    );
}

/** The HTTP layer: body size, access control, URL fetching, logging and shutdown. */
function addHttpOptions(command: Command): Command {
  return command
    .addOption(
      numberOption(
        '--body-limit <bytes>',
        `largest request body (413); default ${format(SERVE_HELP_DEFAULTS.bodyLimit)}`,
        'bodyLimit',
      ),
    )
    .addOption(
      new Option(
        '--api-key <key>',
        'require "Authorization: Bearer <key>" (or x-api-key) on /v1 routes; prefer $IMGCLS_API_KEY, which other users cannot read from the process list',
      )
        .env('IMGCLS_API_KEY')
        .argParser(apiKeyFlag),
    )
    .addOption(
      new Option(
        '--cors <origins|*>',
        'allow these comma-separated origins (or * for any) by CORS',
      ).argParser(corsFlag),
    )
    .addOption(
      numberOption(
        '--rate-limit <n>',
        'requests per client address and window on /v1 routes (429 beyond); default: no limit',
        'rateLimit',
      ),
    )
    .addOption(
      numberOption(
        '--rate-limit-window-ms <ms>',
        'the --rate-limit window',
        'rateLimitWindowMs',
      ).default(DEFAULT_RATE_LIMIT_WINDOW_MS),
    )
    .addOption(
      new Option(
        '--fetch-hosts <hosts>',
        'allow classifying by URL ({"url": …}) from these comma-separated hosts (*.example.com for subdomains); default: off',
      ).argParser(hostsFlag),
    )
    .option(
      '--fetch-private',
      'let --fetch-hosts reach loopback and private addresses (refused by default)',
    )
    .addOption(
      new Option('--log-level <level>', 'request logs (JSON lines on stdout)')
        .choices(LOG_LEVELS)
        .default('info'),
    )
    .addOption(
      numberOption(
        '--shutdown-timeout-ms <ms>',
        'on SIGTERM/SIGINT, how long in-flight requests may take to finish before exiting with code 1',
        'shutdownTimeoutMs',
      ).default(DEFAULT_SHUTDOWN_TIMEOUT_MS),
    );
}

const SERVE_HELP_AFTER = `
Examples:
  imgcls serve                                          # cifar10 on http://127.0.0.1:8080
  imgcls serve --model cifar10 --model mobilenet=models/mobilenet-v2 --workers 2
  IMGCLS_API_KEY=… imgcls serve --host 0.0.0.0 --cors https://app.example.com
  curl --data-binary @cat.jpg -H 'content-type: image/jpeg' localhost:8080/v1/models/cifar10/classify

Routes: POST /v1/models/{id}/classify (?topK=, ?explain=gradcam), POST /v1/models/{id}/embed,
GET /v1/models, /healthz, /readyz, /metrics, /openapi.json. SIGTERM or SIGINT stops accepting
connections, lets in-flight requests finish and exits 0 (1 if --shutdown-timeout-ms passes first).`;

type ServeApp = Awaited<ReturnType<typeof import('@imgcls/server')['createServer']>>;

/** The run's SIGTERM/SIGINT listener; `handle` swaps what a signal does as the run changes phase. */
interface SignalTrap {
  handle(onSignal: (signal: NodeJS.Signals) => void): void;
  release(): void;
}

/**
 * One listener for the whole run, installed before the models load; what a signal does depends
 * on the phase it arrives in. At first it exits at once: while loading nothing is in flight, and
 * the worker threads end with the process.
 */
function trapSignals(out: Terminal): SignalTrap {
  let onSignal: (signal: NodeJS.Signals) => void = (signal) => {
    out.err(`${signal} while loading the models: exiting`);
    process.exit(EXIT.ok);
  };
  const listener = (signal: NodeJS.Signals) => onSignal(signal);
  process.on('SIGTERM', listener).on('SIGINT', listener);
  return {
    handle: (next) => {
      onSignal = next;
    },
    release: () => {
      process.off('SIGTERM', listener).off('SIGINT', listener);
    },
  };
}

/** Loads the models and listens; a listen failure closes the server (and its workers) first. */
async function startServer(options: ServerOptions, flags: ServeFlags, out: Terminal) {
  if (!out.quiet)
    out.err(
      out.style(
        'dim',
        `loading ${options.models.map((model) => model.id ?? model.reference).join(', ')}…`,
      ),
    );
  // Loaded here, not at start-up, so other commands do not pay for Fastify.
  const { createServer } = await import('@imgcls/server');
  const app = await createServer(options);
  try {
    await app.listen({ port: flags.port, host: flags.host });
  } catch (error) {
    await app.close();
    throw new ImgclsError(
      'LISTEN_FAILED',
      `Cannot listen on ${flags.host}:${flags.port}: ${(error as Error).message}. Choose another --port or --host.`,
    );
  }
  // Always printed, --quiet or not: it is the command's one result.
  out.err(`listening on ${listeningUrl(app.server.address(), flags.host)}`);
  return app;
}

/**
 * Graceful shutdown after the first signal: in-flight requests get `timeoutMs` to finish. A second
 * signal, or the deadline, exits 1 at once so that a stuck request cannot keep the process alive.
 */
async function shutDown(
  app: ServeApp,
  signal: NodeJS.Signals,
  timeoutMs: number,
  trap: SignalTrap,
  out: Terminal,
): Promise<void> {
  if (!out.quiet)
    out.err(`${signal}: finishing in-flight requests (at most ${format(timeoutMs)} ms)…`);
  const forced = (reason: string) => {
    out.err(`error: ${reason}; exiting with requests unfinished`);
    process.exit(EXIT.failed);
  };
  trap.handle(() => forced('a second signal arrived'));
  const deadline = setTimeout(() => forced(`--shutdown-timeout-ms ${timeoutMs} passed`), timeoutMs);
  await app.close();
  clearTimeout(deadline);
  trap.release();
  if (!out.quiet) out.err('stopped');
  // Nothing should be left running; should a library leave a handle open, exit all the same.
  setTimeout(() => process.exit(process.exitCode ?? EXIT.ok), 1000).unref();
}

/** The command's action: map the flags, start listening, then wait for a signal and shut down. */
async function serve(flags: ServeFlags, out: Terminal): Promise<void> {
  // Mapped before the trap is set, so a bad reference fails as it always has.
  const options = serverOptions(flags);
  const trap = trapSignals(out);
  const app = await startServer(options, flags, out);
  const signal = await new Promise<NodeJS.Signals>((resolve) => trap.handle(resolve));
  await shutDown(app, signal, flags.shutdownTimeoutMs, trap, out);
}

/** `imgcls serve`: `createServer` from `@imgcls/server`, listening until SIGTERM or SIGINT. */
export function registerServe(program: Command, terminal: () => Terminal): void {
  const command = program
    .command('serve')
    .description(
      'serve models over HTTP: classify, embed and explain as a JSON API with an OpenAPI document, health checks and Prometheus metrics',
    );
  addHttpOptions(addEngineOptions(addListenOptions(command)))
    .addHelpText('after', SERVE_HELP_AFTER)
    .action((flags: ServeFlags) => serve(flags, terminal()));
}
