import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { version } from '../../package.json';
import type { Engine } from '../engine/types';
import {
  type HttpServerOptions,
  type ResolvedServerOptions,
  resolveServerOptions,
} from '../options';
import { createImageFetcher } from './fetch-image';
import authPlugin from './plugins/auth';
import errorsPlugin from './plugins/errors';
import healthPlugin from './plugins/health';
import inferencePlugin from './plugins/inference';
import lifecyclePlugin from './plugins/lifecycle';
import metricsPlugin from './plugins/metrics';
import modelsPlugin from './plugins/models';
import openApiPlugin from './plugins/openapi';
import { HttpProblemError } from './problem';
import { REQUEST_ID_HEADER, requestIdOf } from './request-id';
import { SHARED_SCHEMAS } from './schemas';

function loggerOption(logger: ResolvedServerOptions['logger']): FastifyServerOptions['logger'] {
  if (logger === false) return false;
  return logger.stream
    ? { level: logger.level, stream: logger.stream as NodeJS.WritableStream }
    : { level: logger.level };
}

/**
 * Builds the Fastify instance around an engine that is already started: plugins for errors,
 * graceful closing, OpenAPI, metrics, CORS, health, and the `/v1` scope (rate limit, auth, models, inference). The
 * server owns the engine from here on: `app.close()` closes it (an onClose hook, after in-flight
 * requests have finished), and so does a failure to build.
 *
 * `createServer` is the public entry; this one takes any {@link Engine}, so the HTTP layer can be
 * tested (and embedded) with an engine of one's own.
 *
 * @throws InvalidArgumentError for invalid options (the engine is closed first).
 */
export async function createServerWithEngine(
  engine: Engine,
  options: HttpServerOptions = {},
): Promise<FastifyInstance> {
  // Closing is shared by the onClose hook and the failure paths: the engine closes once.
  let engineClosed: Promise<void> | undefined;
  const closeEngine = () => {
    engineClosed ??= engine.close();
    return engineClosed;
  };
  let resolved: ResolvedServerOptions;
  try {
    resolved = resolveServerOptions(options);
  } catch (error) {
    await closeEngine();
    throw error;
  }

  const app = createFastify(resolved);
  app.addHook('onClose', async () => closeEngine());
  try {
    await registerPlugins(app, engine, resolved);
    await app.ready();
  } catch (error) {
    await app.close().catch(() => undefined);
    await closeEngine();
    throw error;
  }
  return app;
}

/** The bare Fastify instance, with the server-wide limits of the options. */
function createFastify(resolved: ResolvedServerOptions): FastifyInstance {
  return Fastify({
    logger: loggerOption(resolved.logger),
    // The header is read (and sanitised) by requestIdOf, not trusted as is.
    requestIdHeader: false,
    genReqId: requestIdOf,
    bodyLimit: resolved.bodyLimit,
    trustProxy: resolved.trustProxy as FastifyServerOptions['trustProxy'],
    // Requests arriving while closing get a problem from the errors plugin, not Fastify's plain 503.
    return503OnClosing: false,
    // The whole request (headers and body) must arrive within the deadline: no slow-loris uploads.
    requestTimeout: resolved.timeoutMs,
  });
}

/** The plugins in the order they must run: errors and lifecycle first, the `/v1` scope last. */
async function registerPlugins(
  app: FastifyInstance,
  engine: Engine,
  resolved: ResolvedServerOptions,
): Promise<void> {
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);
  await app.register(errorsPlugin);
  await app.register(lifecyclePlugin);
  await app.register(openApiPlugin, { version, apiKey: resolved.apiKey !== undefined });
  await app.register(metricsPlugin, { engine });
  if (resolved.cors !== false) await registerCors(app, resolved.cors);
  await app.register(healthPlugin, { engine });
  await app.register(async (v1) => registerV1(v1, engine, resolved), { prefix: '/v1' });
}

/** CORS for the listed origins (or any), exposing the headers a browser client needs to read. */
async function registerCors(
  app: FastifyInstance,
  origins: Exclude<ResolvedServerOptions['cors'], false>,
): Promise<void> {
  await app.register(cors, {
    origin: origins === true ? true : [...origins],
    methods: ['GET', 'POST', 'OPTIONS'],
    exposedHeaders: [
      REQUEST_ID_HEADER,
      'retry-after',
      'x-ratelimit-limit',
      'x-ratelimit-remaining',
      'x-ratelimit-reset',
    ],
    maxAge: 600,
  });
}

/** The `/v1` scope: rate limit, then auth, then the models and inference routes. */
async function registerV1(
  v1: FastifyInstance,
  engine: Engine,
  resolved: ResolvedServerOptions,
): Promise<void> {
  if (resolved.rateLimit) await registerRateLimit(v1, resolved.rateLimit);
  if (resolved.apiKey !== undefined) await v1.register(authPlugin, { apiKey: resolved.apiKey });
  await v1.register(modelsPlugin, { engine });
  await v1.register(inferencePlugin, {
    engine,
    options: resolved,
    fetchImage: resolved.fetchUrls ? createImageFetcher(resolved.fetchUrls) : undefined,
  });
}

/** Per-client rate limit of the `/v1` scope, answering a RATE_LIMITED problem. */
async function registerRateLimit(
  v1: FastifyInstance,
  limits: NonNullable<ResolvedServerOptions['rateLimit']>,
): Promise<void> {
  await v1.register(rateLimit, {
    global: false,
    max: limits.max,
    timeWindow: limits.timeWindowMs,
    errorResponseBuilder: (_request, context) =>
      new HttpProblemError(
        'RATE_LIMITED',
        context.statusCode,
        `More than ${context.max} requests in ${limits.timeWindowMs} ms from this client: retry in ${context.after}.`,
      ),
  });
  // Before the key check, so guessing keys is rate limited too.
  v1.addHook('onRequest', v1.rateLimit());
}
