import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Engine } from '../../engine/types';
import { problemResponses } from '../schemas';

/** Options of the metrics plugin. */
export interface MetricsPluginOptions {
  readonly engine: Engine;
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];

/**
 * The metrics of one server in a registry of its own (never prom-client's global one, so two servers
 * in a process count apart). Process metrics are read at scrape from `process.memoryUsage()` and
 * `process.cpuUsage()` under the usual names rather than with `collectDefaultMetrics`, whose GC
 * observer and event-loop monitor are never stopped and would outlive the server.
 */
export function createServerMetrics(engine: Engine) {
  const registry = new Registry();
  const registers = [registry];
  // Registered in this order (HTTP, engine, process), which is the order a scrape lists them in.
  const http = createHttpMetrics(registers);
  const engineMetrics = createEngineMetrics(engine, registers);
  registerProcessMetrics(registers);
  return { registry, ...http, ...engineMetrics };
}

/** Counters and latencies of the HTTP answers, by method, route pattern and status code. */
function createHttpMetrics(registers: Registry[]) {
  const requests = new Counter({
    name: 'imgcls_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    registers,
  });
  const latency = new Histogram({
    name: 'imgcls_http_request_duration_seconds',
    help: 'Time from receiving a request to sending its answer, by method, route pattern and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  return { requests, latency };
}

/**
 * The engine's metrics: those the server sets (batches, images, queue depth, tensors) are returned;
 * readiness and load times are read from the engine at scrape, so nothing needs to set them.
 */
function createEngineMetrics(engine: Engine, registers: Registry[]) {
  const batchSize = new Histogram({
    name: 'imgcls_batch_size',
    help: 'Images per micro-batch run by the engine, by model.',
    labelNames: ['model'] as const,
    buckets: BATCH_BUCKETS,
    registers,
  });
  const images = new Counter({
    name: 'imgcls_images_total',
    help: 'Images classified, by model and result (ok, or the error code).',
    labelNames: ['model', 'result'] as const,
    registers,
  });
  const queueDepth = new Gauge({
    name: 'imgcls_queue_depth',
    help: 'Images queued or running in the engine.',
    registers,
  });
  const tensors = new Gauge({
    name: 'imgcls_tfjs_tensors',
    help: 'TF.js tensors alive, summed over the workers (flat when nothing leaks).',
    registers,
  });
  new Gauge({
    name: 'imgcls_engine_ready',
    help: '1 when every model is loaded and warmed up in every worker.',
    registers,
    collect() {
      this.set(engine.ready ? 1 : 0);
    },
  });
  new Gauge({
    name: 'imgcls_model_load_seconds',
    help: 'Model load and warm-up time in the slowest worker, by model.',
    labelNames: ['model'] as const,
    registers,
    collect() {
      for (const model of engine.models()) this.set({ model: model.id }, model.loadSeconds);
    },
  });
  return { batchSize, images, queueDepth, tensors };
}

/** Memory and CPU of the process under the usual names, each read at scrape. */
function registerProcessMetrics(registers: Registry[]): void {
  const memory = (name: string, help: string, read: (usage: NodeJS.MemoryUsage) => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read(process.memoryUsage()));
      },
    });
  memory('process_resident_memory_bytes', 'Resident memory size in bytes.', (usage) => usage.rss);
  memory('nodejs_heap_size_used_bytes', 'V8 heap used in bytes.', (usage) => usage.heapUsed);
  memory('nodejs_heap_size_total_bytes', 'V8 heap size in bytes.', (usage) => usage.heapTotal);
  memory(
    'nodejs_external_memory_bytes',
    'Memory of C++ objects bound to JavaScript (Buffers, wasm memory) in bytes.',
    (usage) => usage.external,
  );
  // process.cpuUsage() is a running total: the counter is reset and set to it at each scrape.
  const cpu = (name: string, help: string, read: (usage: NodeJS.CpuUsage) => number) =>
    new Counter({
      name,
      help,
      registers,
      collect() {
        this.reset();
        this.inc(read(process.cpuUsage()) / 1e6);
      },
    });
  cpu('process_cpu_user_seconds_total', 'User CPU time spent in seconds.', (usage) => usage.user);
  cpu(
    'process_cpu_system_seconds_total',
    'System CPU time spent in seconds.',
    (usage) => usage.system,
  );
}

/** The metrics of a server, for routes that count what they do. */
export type ServerMetrics = ReturnType<typeof createServerMetrics>;

declare module 'fastify' {
  interface FastifyInstance {
    /** This server's metrics (its own prom-client registry). */
    readonly imgclsMetrics: ServerMetrics;
  }
}

/**
 * Counts every answer (onResponse, unknown routes included, under route "unmatched"), observes the
 * engine's batches and serves `GET /metrics` in the Prometheus text format, reading the engine's
 * queue depth and tensor count at scrape.
 */
const metricsPlugin: FastifyPluginAsync<MetricsPluginOptions> = async (app, { engine }) => {
  const metrics = createServerMetrics(engine);
  app.decorate('imgclsMetrics', metrics);
  engine.onBatch((model, size) => metrics.batchSize.observe({ model }, size));

  app.addHook('onResponse', async (request, reply) => {
    const labels = {
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status: String(reply.statusCode),
    };
    metrics.requests.inc(labels);
    metrics.latency.observe(labels, reply.elapsedTime / 1000);
  });

  app.get(
    '/metrics',
    {
      schema: {
        summary: 'Prometheus metrics of this server',
        tags: ['operations'],
        response: {
          200: {
            description: 'The Prometheus text exposition format (version 0.0.4).',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
          ...problemResponses('Never expected.'),
        },
      },
    },
    async (request, reply) => {
      try {
        const stats = await engine.stats();
        metrics.queueDepth.set(stats.queueDepth);
        metrics.tensors.set(stats.tensors);
      } catch (error) {
        // A closing engine has no stats; the rest of the metrics are still worth a scrape.
        request.log.warn({ err: error }, 'engine stats unavailable');
      }
      return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    },
  );
};

export default fp(metricsPlugin, { name: 'imgcls-metrics', fastify: '5.x' });
