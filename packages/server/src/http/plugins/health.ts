import type { FastifyPluginAsync } from 'fastify';
import type { Engine } from '../../engine/types';
import { HttpProblemError } from '../problem';
import { problemResponses } from '../schemas';

/** Options of the health plugin. */
export interface HealthPluginOptions {
  readonly engine: Engine;
}

const STATUS_SCHEMA = {
  type: 'object',
  required: ['status'],
  properties: { status: { type: 'string', enum: ['ok', 'ready'] } },
} as const;

/**
 * `GET /healthz`: the process answers (liveness). `GET /readyz`: every model is loaded and warmed up
 * in every worker (readiness; 503 while starting or shutting down), for load balancers and
 * Kubernetes probes. Both are open (no API key) and not rate limited.
 */
const healthPlugin: FastifyPluginAsync<HealthPluginOptions> = async (app, { engine }) => {
  app.get(
    '/healthz',
    {
      schema: {
        summary: 'Liveness: the server process answers',
        tags: ['operations'],
        response: { 200: STATUS_SCHEMA, ...problemResponses('Never expected.') },
      },
    },
    async () => ({ status: 'ok' }),
  );
  app.get(
    '/readyz',
    {
      schema: {
        summary: 'Readiness: every model is loaded and warmed up',
        tags: ['operations'],
        response: {
          200: STATUS_SCHEMA,
          ...problemResponses(
            'Never expected.',
            '503 NOT_READY while the models load or the server shuts down (Retry-After).',
          ),
        },
      },
    },
    async () => {
      if (!engine.ready)
        throw new HttpProblemError(
          'NOT_READY',
          503,
          'The models are not loaded and warmed up yet, or the server is shutting down.',
          { 'retry-after': '1' },
        );
      return { status: 'ready' };
    },
  );
};

export default healthPlugin;
