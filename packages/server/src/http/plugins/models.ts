import type { FastifyPluginAsync } from 'fastify';
import type { Engine } from '../../engine/types';
import { problemResponses } from '../schemas';

/** Options of the models plugin. */
export interface ModelsPluginOptions {
  readonly engine: Engine;
}

/** `GET /v1/models`: what the server serves (ids, labels, preset, version, checksums). */
const modelsPlugin: FastifyPluginAsync<ModelsPluginOptions> = async (app, { engine }) => {
  app.get(
    '/models',
    {
      schema: {
        summary: 'The models this server serves',
        tags: ['models'],
        response: {
          200: {
            type: 'object',
            required: ['models'],
            properties: { models: { type: 'array', items: { $ref: 'ServedModel#' } } },
          },
          ...problemResponses('401 UNAUTHORIZED, 429 RATE_LIMITED.'),
        },
      },
    },
    async () => ({ models: engine.models() }),
  );
};

export default modelsPlugin;
