import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { HttpProblemError } from '../problem';

/** Options of the auth plugin. */
export interface AuthPluginOptions {
  /** The key every request must present. */
  readonly apiKey: string;
}

/** SHA-256, so keys of any length compare as 32 bytes and the comparison time says nothing about the key. */
function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** The key a request presents: `Authorization: Bearer <key>`, else `x-api-key`. */
export function presentedKey(request: FastifyRequest): string | undefined {
  const authorization = request.headers.authorization;
  if (typeof authorization === 'string') {
    const bearer = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
    if (bearer) return bearer[1];
  }
  const header = request.headers['x-api-key'];
  return typeof header === 'string' && header !== '' ? header : undefined;
}

/**
 * API-key auth for the scope it is registered in (the `/v1` routes): a request without the key, or
 * with another, answers 401 UNAUTHORIZED. Keys are compared in constant time over fixed-length
 * digests.
 */
const authPlugin: FastifyPluginAsync<AuthPluginOptions> = async (app, { apiKey }) => {
  const expected = digest(apiKey);
  app.addHook('onRequest', async (request, reply) => {
    const key = presentedKey(request);
    if (key !== undefined && timingSafeEqual(digest(key), expected)) return;
    reply.header('www-authenticate', 'Bearer realm="imgcls"');
    throw new HttpProblemError(
      'UNAUTHORIZED',
      401,
      key === undefined
        ? 'This server needs an API key: send "Authorization: Bearer <key>" or "x-api-key: <key>".'
        : 'The API key is not valid.',
    );
  });
};

// fastify-plugin: the hook belongs to the scope that registers this plugin (/v1), not to a child of it.
export default fp(authPlugin, { name: 'imgcls-auth', fastify: '5.x' });
