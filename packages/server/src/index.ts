import type { FastifyInstance } from 'fastify';
import { createEngine } from './engine/index';
import { createServerWithEngine } from './http/server';
import { engineOptionsOf, resolveServerOptions, type ServerOptions } from './options';

/**
 * Starts an imgcls inference server: loads and warms up every model in the engine's workers, then
 * builds the Fastify instance (routes, OpenAPI document, metrics) and resolves once it is ready.
 * Call `listen({ port, host })` on it to serve, and `close()` to stop: close stops accepting, lets
 * in-flight requests finish, then closes the engine.
 *
 * @example
 * const app = await createServer({ models: [{ reference: 'cifar10' }] });
 * await app.listen({ port: 8080, host: '127.0.0.1' });
 *
 * @throws InvalidArgumentError for invalid options (before any model loads), and what loading a
 *   model throws (ModelLoadError, UnknownModelError…).
 */
export async function createServer(options: ServerOptions): Promise<FastifyInstance> {
  // Every option is checked before the workers start (the engine's by createEngine, first thing), so
  // a typo costs no model load.
  resolveServerOptions(options);
  const engine = await createEngine(engineOptionsOf(options));
  return createServerWithEngine(engine, options);
}

export * from './engine/index';
export { answerFor, HttpProblemError, type Problem, STATUS_OF_CODE } from './http/problem';
export { createServerWithEngine } from './http/server';
export {
  DEFAULT_SERVER_OPTIONS,
  type FetchUrlOptions,
  type HttpServerOptions,
  type ServerLoggerOptions,
  type ServerOptions,
} from './options';
