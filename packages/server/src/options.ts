import type { EngineOptions } from './engine/types';

/**
 * Options of `createServer`: the engine's (models, workers, batching, queue, pixels) and the HTTP
 * layer's. Defaults live in one `DEFAULT_SERVER_OPTIONS` object and are validated at the boundary
 * (an `InvalidArgumentError` naming the option and its valid range).
 */
export interface ServerOptions extends Partial<Omit<EngineOptions, 'models'>> {
  /** The models to serve (at least one). */
  readonly models: EngineOptions['models'];
  /** Per-request deadline in ms, queueing included (default 30,000). */
  readonly timeoutMs?: number;
  /** Largest request body in bytes (default 20 MiB); larger bodies get 413 before being read. */
  readonly bodyLimit?: number;
  /** Largest number of files in one multipart request (default 16). */
  readonly maxFiles?: number;
  /** When set, every `/v1` route needs `Authorization: Bearer <key>` (or `x-api-key`), compared in constant time. */
  readonly apiKey?: string;
  /** Origins allowed by CORS (`true`: any; default: CORS off). */
  readonly cors?: boolean | readonly string[];
  /** Requests per client and window on `/v1` routes (@fastify/rate-limit); default off. */
  readonly rateLimit?: { readonly max: number; readonly timeWindowMs: number };
  /**
   * Classify by URL (`{ "url": … }`): off unless given. `allowHosts` lists host names (or `*.domain`)
   * that may be fetched; loopback, link-local and private addresses are refused unless `allowPrivate`.
   */
  readonly fetchUrls?: {
    readonly allowHosts: readonly string[];
    readonly allowPrivate?: boolean;
    /** Largest download, in bytes (default: bodyLimit). */
    readonly maxBytes?: number;
  };
  /** pino logger options, or false for none (default: info level, JSON lines). */
  readonly logger?: boolean | { readonly level?: string };
}
