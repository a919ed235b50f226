import type { Socket } from 'node:net';
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { HttpProblemError } from '../problem';

/**
 * A graceful `app.close()`: requests that arrive on a kept-alive connection while closing answer 503
 * SHUTTING_DOWN (a problem, not Fastify's plain 503); answers sent while closing end their
 * connection; connections that never carried a request are dropped at once. `server.close()` alone
 * reaps only connections idle when it starts, so the others would hold the close until the client
 * drops them (undici: 4 s; a browser: minutes). In-flight requests are left to finish; the engine is
 * closed after them (the server's onClose hook).
 */
const lifecyclePlugin: FastifyPluginAsync = async (app) => {
  let closing = false;
  const sockets = new Set<Socket>();
  const used = new WeakSet<Socket>();
  app.server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  app.server.on('request', (request: { socket: Socket }) => used.add(request.socket));

  app.addHook('preClose', async () => {
    closing = true;
    for (const socket of sockets) if (!used.has(socket)) socket.destroy();
  });
  app.addHook('onRequest', async () => {
    if (!closing) return;
    throw new HttpProblemError(
      'SHUTTING_DOWN',
      503,
      'The server is shutting down; retry on another replica or in a moment.',
      { 'retry-after': '1' },
    );
  });
  app.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close');
  });
};

export default fp(lifecyclePlugin, { name: 'imgcls-lifecycle', fastify: '5.x' });
