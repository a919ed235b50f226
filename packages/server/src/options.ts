import { InvalidArgumentError } from '@imgcls/preprocess';
import type { EngineOptions } from './engine/types';

/** Where URL fetching may go, and how much it may read. */
export interface FetchUrlOptions {
  /**
   * Host names that may be fetched: exact names (`images.example.com`), `*.example.com` for any
   * subdomain, or an IP literal. Redirects are followed only to hosts on this list.
   */
  readonly allowHosts: readonly string[];
  /** Allow loopback, link-local, private and unique-local addresses (default false). */
  readonly allowPrivate?: boolean;
  /** Largest download, in bytes, checked from Content-Length and while streaming (default: bodyLimit). */
  readonly maxBytes?: number;
  /** Longest a download may take, connecting and redirects included, in ms (default 10,000). */
  readonly timeoutMs?: number;
  /** Redirects followed at most, each to an allowed host (default 3; 0: none). */
  readonly maxRedirects?: number;
}

/** pino options of the server's logger. */
export interface ServerLoggerOptions {
  /** pino level: `fatal`, `error`, `warn`, `info` (default), `debug`, `trace` or `silent`. */
  readonly level?: string;
  /** Where the JSON lines go (default: stdout); anything with `write(line)`. */
  readonly stream?: { write(line: string): unknown };
}

/**
 * Options of `createServer`: the engine's (models, workers, batching, queue, pixels) and the HTTP
 * layer's. The HTTP layer's defaults live in {@link DEFAULT_SERVER_OPTIONS}, the engine's in
 * `DEFAULT_ENGINE_OPTIONS`; both are validated at the boundary (an `InvalidArgumentError` naming the
 * option and its valid range).
 */
export interface ServerOptions extends Partial<Omit<EngineOptions, 'models'>> {
  /** The models to serve (at least one). */
  readonly models: EngineOptions['models'];
  /** Per-request deadline in ms, queueing included (default 30,000; 1 to 600,000). */
  readonly timeoutMs?: number;
  /** Largest request body in bytes (default 20 MiB; up to 1 GiB); larger bodies get 413 before being read. */
  readonly bodyLimit?: number;
  /** Largest number of files in one multipart request (default 16; 1 to 1,000). */
  readonly maxFiles?: number;
  /** When set, every `/v1` route needs `Authorization: Bearer <key>` (or `x-api-key`), compared in constant time. */
  readonly apiKey?: string;
  /** Origins allowed by CORS (`true`: any; default: CORS off). */
  readonly cors?: boolean | readonly string[];
  /** Requests per client (IP address) and window on `/v1` routes (@fastify/rate-limit); default off. */
  readonly rateLimit?: { readonly max: number; readonly timeWindowMs: number };
  /**
   * Classify by URL (`{ "url": … }`): off unless given. `allowHosts` lists host names (or `*.domain`)
   * that may be fetched; loopback, link-local and private addresses are refused unless `allowPrivate`.
   */
  readonly fetchUrls?: FetchUrlOptions;
  /** pino logger options, or false for none (default: info level, JSON lines on stdout). */
  readonly logger?: boolean | ServerLoggerOptions;
  /**
   * Trust `X-Forwarded-*` headers from a proxy in front (Fastify's `trustProxy`: true, a hop count, or
   * addresses/CIDRs), so rate limiting and logs see the client's address (default false).
   */
  readonly trustProxy?: boolean | number | string | readonly string[];
}

/**
 * The HTTP layer's defaults; the engine's (workers 1, maxBatch 32, maxWaitMs 5, queue 256, maxPixels
 * 50 MP) are `DEFAULT_ENGINE_OPTIONS`.
 */
export const DEFAULT_SERVER_OPTIONS = {
  timeoutMs: 30_000,
  bodyLimit: 20 * 1024 * 1024,
  maxFiles: 16,
  /** Multipart form fields other than files (ignored, but bounded). */
  maxFields: 16,
  logLevel: 'info',
  fetchTimeoutMs: 10_000,
  fetchMaxRedirects: 3,
  trustProxy: false,
} as const;

/** Upper bounds of the numeric options, so a typo does not silently configure a 10 TB body limit. */
const LIMITS = {
  timeoutMs: 600_000,
  bodyLimit: 1024 * 1024 * 1024,
  maxFiles: 1_000,
  rateLimitMax: 1_000_000_000,
  rateLimitWindowMs: 24 * 60 * 60 * 1000,
  fetchTimeoutMs: 600_000,
  fetchMaxRedirects: 20,
} as const;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** The options after defaults and validation: what the HTTP layer runs with. */
export interface ResolvedServerOptions {
  readonly timeoutMs: number;
  readonly bodyLimit: number;
  readonly maxFiles: number;
  readonly maxFields: number;
  readonly apiKey: string | undefined;
  readonly cors: boolean | readonly string[];
  readonly rateLimit: { readonly max: number; readonly timeWindowMs: number } | undefined;
  readonly fetchUrls:
    | {
        readonly allowHosts: readonly string[];
        readonly allowPrivate: boolean;
        readonly maxBytes: number;
        readonly timeoutMs: number;
        readonly maxRedirects: number;
      }
    | undefined;
  readonly logger:
    | false
    | { readonly level: string; readonly stream?: ServerLoggerOptions['stream'] };
  readonly trustProxy: boolean | number | string | readonly string[];
}

function integerIn(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw new InvalidArgumentError(
      `${name} must be an integer from ${min.toLocaleString('en-US')} to ${max.toLocaleString('en-US')}, got ${String(value)}.`,
    );
  return value;
}

function nonEmptyString(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '')
    throw new InvalidArgumentError(
      `${name} must be a non-empty string, got ${JSON.stringify(value)}.`,
    );
  return value;
}

/** `example.com`, `*.example.com`, an IPv4 literal or an IPv6 literal (with or without brackets). */
function hostPattern(value: unknown, index: number): string {
  const host = nonEmptyString(`fetchUrls.allowHosts[${index}]`, value).toLowerCase();
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  const name =
    /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
  if (!name.test(bare) && !/^[0-9a-f:.]+$/.test(bare))
    throw new InvalidArgumentError(
      `fetchUrls.allowHosts[${index}] must be a host name (images.example.com), a wildcard (*.example.com) or an IP address, got "${String(value)}".`,
    );
  return bare;
}

/** The HTTP layer's share of {@link ServerOptions}: everything but the engine's. */
export type HttpServerOptions = Omit<ServerOptions, keyof EngineOptions>;

/**
 * Applies {@link DEFAULT_SERVER_OPTIONS} to the HTTP layer's options and checks them; the engine's
 * options (and the models) are checked by the engine, before any worker starts.
 *
 * The groups are checked in a fixed order (limits, API key, CORS, rate limit, URL fetching, logger,
 * trust proxy), so a caller with several mistakes always hears about the same one first.
 *
 * @throws InvalidArgumentError naming the option and its valid range.
 */
export function resolveServerOptions(options: HttpServerOptions): ResolvedServerOptions {
  if (typeof options !== 'object' || options === null)
    throw new InvalidArgumentError('The server options must be an object.');
  const { timeoutMs, bodyLimit, maxFiles } = resolveLimits(options);
  const apiKey =
    options.apiKey === undefined ? undefined : nonEmptyString('apiKey', options.apiKey);
  const cors = resolveCors(options.cors);
  const rateLimit = resolveRateLimit(options.rateLimit);
  // URL downloads default to the upload limit, so bodyLimit must be known first.
  const fetchUrls = resolveFetchUrls(options.fetchUrls, bodyLimit);
  const logger = resolveLogger(options.logger);
  const trustProxy = resolveTrustProxy(options.trustProxy);
  return {
    timeoutMs,
    bodyLimit,
    maxFiles,
    maxFields: DEFAULT_SERVER_OPTIONS.maxFields,
    apiKey,
    cors,
    rateLimit,
    fetchUrls,
    logger,
    trustProxy,
  };
}

/** The request limits: the deadline, the body size and the number of multipart files. */
function resolveLimits(
  options: HttpServerOptions,
): Pick<ResolvedServerOptions, 'timeoutMs' | 'bodyLimit' | 'maxFiles'> {
  const timeoutMs = integerIn(
    'timeoutMs',
    options.timeoutMs ?? DEFAULT_SERVER_OPTIONS.timeoutMs,
    1,
    LIMITS.timeoutMs,
  );
  const bodyLimit = integerIn(
    'bodyLimit',
    options.bodyLimit ?? DEFAULT_SERVER_OPTIONS.bodyLimit,
    1,
    LIMITS.bodyLimit,
  );
  const maxFiles = integerIn(
    'maxFiles',
    options.maxFiles ?? DEFAULT_SERVER_OPTIONS.maxFiles,
    1,
    LIMITS.maxFiles,
  );
  return { timeoutMs, bodyLimit, maxFiles };
}

/** `true`, `false` (the default) or a list of origins, each a scheme and host with no path. */
function resolveCors(option: HttpServerOptions['cors']): ResolvedServerOptions['cors'] {
  const cors = option ?? false;
  if (typeof cors !== 'boolean') {
    if (!Array.isArray(cors))
      throw new InvalidArgumentError(
        `cors must be true, false or a list of origins, got ${JSON.stringify(cors)}.`,
      );
    cors.forEach((origin, index) => {
      if (typeof origin !== 'string' || !/^https?:\/\/[^/\s]+$/.test(origin))
        throw new InvalidArgumentError(
          `cors[${index}] must be an origin such as https://app.example.com (scheme and host, no path), got ${JSON.stringify(origin)}.`,
        );
    });
  }
  return cors;
}

/** Undefined (no rate limit) or `{ max, timeWindowMs }`, both required. */
function resolveRateLimit(
  option: HttpServerOptions['rateLimit'],
): ResolvedServerOptions['rateLimit'] {
  if (option === undefined) return undefined;
  if (typeof option !== 'object' || option === null)
    throw new InvalidArgumentError('rateLimit must be { max, timeWindowMs }.');
  return {
    max: integerIn('rateLimit.max', option.max, 1, LIMITS.rateLimitMax),
    timeWindowMs: integerIn(
      'rateLimit.timeWindowMs',
      option.timeWindowMs,
      1,
      LIMITS.rateLimitWindowMs,
    ),
  };
}

/**
 * Undefined (URL fetching off) or a non-empty host allow-list with download limits; `maxBytes`
 * defaults to `bodyLimit`, so a URL brings no bigger image than an upload could.
 */
function resolveFetchUrls(
  fetch: HttpServerOptions['fetchUrls'],
  bodyLimit: number,
): ResolvedServerOptions['fetchUrls'] {
  if (fetch === undefined) return undefined;
  if (typeof fetch !== 'object' || fetch === null || !Array.isArray(fetch.allowHosts))
    throw new InvalidArgumentError(
      'fetchUrls must be { allowHosts: [...] }, listing the hosts images may be fetched from.',
    );
  if (fetch.allowHosts.length === 0)
    throw new InvalidArgumentError(
      'fetchUrls.allowHosts is empty: list the hosts images may be fetched from, or leave fetchUrls out to turn URL fetching off.',
    );
  if (fetch.allowPrivate !== undefined && typeof fetch.allowPrivate !== 'boolean')
    throw new InvalidArgumentError(
      `fetchUrls.allowPrivate must be true or false, got ${JSON.stringify(fetch.allowPrivate)}.`,
    );
  return {
    allowHosts: fetch.allowHosts.map(hostPattern),
    allowPrivate: fetch.allowPrivate ?? false,
    maxBytes: integerIn('fetchUrls.maxBytes', fetch.maxBytes ?? bodyLimit, 1, LIMITS.bodyLimit),
    timeoutMs: integerIn(
      'fetchUrls.timeoutMs',
      fetch.timeoutMs ?? DEFAULT_SERVER_OPTIONS.fetchTimeoutMs,
      1,
      LIMITS.fetchTimeoutMs,
    ),
    maxRedirects: integerIn(
      'fetchUrls.maxRedirects',
      fetch.maxRedirects ?? DEFAULT_SERVER_OPTIONS.fetchMaxRedirects,
      0,
      LIMITS.fetchMaxRedirects,
    ),
  };
}

/** `false`, `true` (the default level) or `{ level, stream }`. */
function resolveLogger(option: HttpServerOptions['logger']): ResolvedServerOptions['logger'] {
  const loggerOption = option ?? true;
  if (loggerOption === false) return false;
  if (loggerOption === true) return { level: DEFAULT_SERVER_OPTIONS.logLevel };
  if (typeof loggerOption !== 'object' || loggerOption === null)
    throw new InvalidArgumentError(
      `logger must be true, false or { level, stream }, got ${JSON.stringify(loggerOption)}.`,
    );
  const level = loggerOption.level ?? DEFAULT_SERVER_OPTIONS.logLevel;
  if (!LOG_LEVELS.includes(level))
    throw new InvalidArgumentError(
      `logger.level must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(level)}.`,
    );
  if (loggerOption.stream !== undefined && typeof loggerOption.stream?.write !== 'function')
    throw new InvalidArgumentError('logger.stream must have a write(line) method.');
  return { level, ...(loggerOption.stream ? { stream: loggerOption.stream } : {}) };
}

/** What Fastify's trustProxy takes: a boolean, a hop count, or addresses/CIDRs. */
function resolveTrustProxy(
  option: HttpServerOptions['trustProxy'],
): ResolvedServerOptions['trustProxy'] {
  const trustProxy = option ?? DEFAULT_SERVER_OPTIONS.trustProxy;
  const validTrustProxy =
    typeof trustProxy === 'boolean' ||
    (typeof trustProxy === 'number' && Number.isInteger(trustProxy) && trustProxy >= 0) ||
    typeof trustProxy === 'string' ||
    (Array.isArray(trustProxy) && trustProxy.every((entry) => typeof entry === 'string'));
  if (!validTrustProxy)
    throw new InvalidArgumentError(
      `trustProxy must be true, false, a hop count, or addresses/CIDRs, got ${JSON.stringify(trustProxy)}.`,
    );
  return trustProxy;
}

/** The engine's share of the options: only what the caller set, so the engine's own defaults apply. */
export function engineOptionsOf(options: ServerOptions): Partial<EngineOptions> & {
  readonly models: EngineOptions['models'];
} {
  const { models, workers, maxBatch, maxWaitMs, queue, maxPixels, modelStore } = options;
  const defined = Object.entries({
    workers,
    maxBatch,
    maxWaitMs,
    queue,
    maxPixels,
    modelStore,
  }).filter(([, value]) => value !== undefined);
  return { models, ...Object.fromEntries(defined) };
}
