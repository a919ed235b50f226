import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** The header a request id comes in and goes out with. */
export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * An id a client or proxy sent is kept when it is short and plain (letters, digits, `.`, `_`, `:`,
 * `-`): it goes into logs and headers, so anything else (newlines, quotes, kilobytes) is replaced.
 */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Fastify's `genReqId`: the sanitised incoming `x-request-id`, else a random UUID. */
export function requestIdOf(request: IncomingMessage): string {
  const incoming = request.headers[REQUEST_ID_HEADER];
  const candidate = Array.isArray(incoming) ? incoming[0] : incoming;
  return candidate !== undefined && SAFE_REQUEST_ID.test(candidate) ? candidate : randomUUID();
}
