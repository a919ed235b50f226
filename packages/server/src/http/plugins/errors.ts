import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { answerFor, HttpProblemError, problem } from '../problem';
import { REQUEST_ID_HEADER } from '../request-id';

/** Sends an answer as `application/problem+json`, with its headers. */
export function sendProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  error: unknown,
): FastifyReply {
  const answer = answerFor(error);
  if (answer.unexpected) request.log.error({ err: error }, 'request failed unexpectedly');
  else if (answer.status >= 500) request.log.warn({ code: answer.code }, answer.detail);
  else request.log.info({ code: answer.code, status: answer.status }, 'request refused');
  for (const [name, value] of Object.entries(answer.headers)) reply.header(name, value);
  return reply
    .code(answer.status)
    .type('application/problem+json')
    .send(problem(answer.code, answer.status, answer.detail, request.id));
}

/**
 * Errors as RFC 9457 problems, for every route and every error: validation, Fastify's own (body too
 * large, media type), the library's (by `code`), unknown routes. Also the request id on every
 * response.
 */
const errorsPlugin: FastifyPluginAsync = async (app) => {
  app.addHook('onRequest', async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id);
  });
  app.setErrorHandler((error: FastifyError, request, reply) => sendProblem(request, reply, error));
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      request,
      reply,
      new HttpProblemError(
        'ROUTE_NOT_FOUND',
        404,
        `There is no route ${request.method} ${request.url.split('?')[0]?.slice(0, 200)}; GET /openapi.json lists them.`,
      ),
    ),
  );
};

export default fp(errorsPlugin, { name: 'imgcls-errors', fastify: '5.x' });
