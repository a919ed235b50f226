import { STATUS_CODES } from 'node:http';
import { ImgclsError } from '@imgcls/preprocess';

/**
 * An error the HTTP layer raises itself (auth, media type, URL fetching…): an `ImgclsError` with a
 * stable `code`, the HTTP status it answers and any headers that go with it (Retry-After,
 * WWW-Authenticate).
 */
export class HttpProblemError extends ImgclsError {
  constructor(
    code: string,
    readonly status: number,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

/**
 * The HTTP status of every error code the server answers with. Library codes (INVALID_IMAGE,
 * IMAGE_TOO_LARGE, UNKNOWN_MODEL, QUEUE_FULL…) and the HTTP layer's own (BODY_TOO_LARGE,
 * UNAUTHORIZED…). A code not listed here answers 500 with a generic message.
 */
export const STATUS_OF_CODE: Readonly<Record<string, number>> = {
  // The request itself is malformed.
  INVALID_REQUEST: 400,
  INVALID_ARGUMENT: 400,
  NO_IMAGE: 400,
  TOO_MANY_FILES: 413,
  UNAUTHORIZED: 401,
  URL_FETCH_DISABLED: 403,
  URL_NOT_ALLOWED: 403,
  ROUTE_NOT_FOUND: 404,
  UNKNOWN_MODEL: 404,
  BODY_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  // The bytes arrived but are not a usable image. IMAGE_TOO_LARGE is about pixels, not bytes (the
  // body was within bodyLimit), so it is 422 like the other unprocessable images, not 413.
  INVALID_IMAGE: 422,
  IMAGE_TOO_LARGE: 422,
  DOWNLOAD_TOO_LARGE: 422,
  EXPLAIN_UNSUPPORTED: 422,
  RATE_LIMITED: 429,
  // The client went away before its answer (nginx's 499): only logs and metrics ever see it.
  ABORTED: 499,
  QUEUE_FULL: 429,
  INTERNAL_ERROR: 500,
  DOWNLOAD_FAILED: 502,
  // The server could not answer in time or is stopping: 503, a condition of this server that retrying
  // (elsewhere, or later) may cure; 504 is for gateways, and this server is none.
  DEADLINE_EXCEEDED: 503,
  SHUTTING_DOWN: 503,
  NOT_READY: 503,
  // The worker running the request died and is being replaced: retrying is expected to work.
  WORKER_CRASHED: 503,
  DOWNLOAD_TIMEOUT: 504,
};

/** Codes answered with a Retry-After header (the error's `retryAfterSeconds`, else 1 s). */
const RETRYABLE = new Set(['QUEUE_FULL', 'SHUTTING_DOWN', 'WORKER_CRASHED', 'DEADLINE_EXCEEDED']);

/** Titles of the statuses Node does not name. */
const TITLES: Readonly<Record<number, string>> = { 499: 'Client Closed Request' };

/** An RFC 9457 problem document, with the library's error `code` as an extension member. */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  /** The request id (also in the `x-request-id` header and the logs). */
  readonly instance: string;
  readonly code: string;
}

/** The `type` URI of a code: a URN, since there is no documentation page to dereference. */
export function problemType(code: string): string {
  return `urn:imgcls:problem:${code.toLowerCase().replaceAll('_', '-')}`;
}

/** Builds the problem document; `detail` is the error's message, which never holds a stack trace. */
export function problem(code: string, status: number, detail: string, requestId: string): Problem {
  return {
    type: problemType(code),
    title: STATUS_CODES[status] ?? TITLES[status] ?? 'Error',
    status,
    detail,
    instance: requestId,
    code,
  };
}

/** Fastify's and its plugins' error codes, as the server's codes. */
const FASTIFY_CODES: Readonly<Record<string, string>> = {
  FST_ERR_VALIDATION: 'INVALID_REQUEST',
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'INVALID_REQUEST',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_REQUEST',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_REQUEST',
  FST_ERR_BAD_URL: 'INVALID_REQUEST',
  FST_ERR_NOT_FOUND: 'ROUTE_NOT_FOUND',
  // @fastify/multipart
  FST_REQ_FILE_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_FILES_LIMIT: 'TOO_MANY_FILES',
  FST_PARTS_LIMIT: 'TOO_MANY_FILES',
  FST_FIELDS_LIMIT: 'TOO_MANY_FILES',
  FST_PROTO_VIOLATION: 'INVALID_REQUEST',
  FST_INVALID_MULTIPART_CONTENT_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_MP_PREMATURE_CLOSE: 'INVALID_REQUEST',
};

/** Details clearer than Fastify's own messages. */
const FASTIFY_DETAILS: Readonly<Record<string, string>> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE:
    'This route takes an image as the body (Content-Type: image/* or application/octet-stream), multipart/form-data files, or JSON { "url": "…" }.',
};

/** What an error answers: status, code, the message a client may see, extra headers. */
export interface ProblemAnswer {
  readonly status: number;
  readonly code: string;
  readonly detail: string;
  readonly headers: Readonly<Record<string, string>>;
  /** True for errors the server did not anticipate: logged with their stack, answered generically. */
  readonly unexpected: boolean;
}

const GENERIC_DETAIL =
  'The server failed to answer this request; the request id locates it in the logs.';

/** Maps any thrown value to its answer; unknown errors become a 500 whose detail reveals nothing. */
export function answerFor(error: unknown): ProblemAnswer {
  if (error instanceof HttpProblemError)
    return {
      status: error.status,
      code: error.code,
      detail: error.message,
      headers: error.headers,
      unexpected: false,
    };
  if (ImgclsError.isInstance(error)) {
    const status = STATUS_OF_CODE[error.code];
    if (status === undefined)
      return {
        status: 500,
        code: error.code,
        detail: GENERIC_DETAIL,
        headers: {},
        unexpected: true,
      };
    const headers: Record<string, string> = {};
    const retryAfter = (error as { retryAfterSeconds?: unknown }).retryAfterSeconds;
    if (RETRYABLE.has(error.code))
      headers['retry-after'] = String(
        typeof retryAfter === 'number' && Number.isFinite(retryAfter) && retryAfter > 0
          ? Math.ceil(retryAfter)
          : 1,
      );
    return { status, code: error.code, detail: error.message, headers, unexpected: false };
  }
  const fastifyError = error as { code?: unknown; statusCode?: unknown; message?: unknown };
  const code = typeof fastifyError.code === 'string' ? FASTIFY_CODES[fastifyError.code] : undefined;
  const statusCode = typeof fastifyError.statusCode === 'number' ? fastifyError.statusCode : 500;
  if (code !== undefined)
    return {
      status: STATUS_OF_CODE[code] ?? statusCode,
      code,
      detail:
        FASTIFY_DETAILS[fastifyError.code as string] ??
        (typeof fastifyError.message === 'string' ? fastifyError.message : code),
      headers: {},
      unexpected: false,
    };
  // Other client errors of Fastify and its plugins (a JSON syntax error, a malformed multipart
  // body…): their messages describe the request, not the server.
  if (statusCode >= 400 && statusCode < 500)
    return {
      status: statusCode,
      code: statusCode === 413 ? 'BODY_TOO_LARGE' : 'INVALID_REQUEST',
      detail: typeof fastifyError.message === 'string' ? fastifyError.message : 'Invalid request.',
      headers: {},
      unexpected: false,
    };
  return {
    status: 500,
    code: 'INTERNAL_ERROR',
    detail: GENERIC_DETAIL,
    headers: {},
    unexpected: true,
  };
}

/**
 * The answer for an outcome's error (the engine reports bad images per image, with a code and a
 * message): a single-image request turns it into its problem.
 */
export function outcomeError(error: {
  readonly code: string;
  readonly message: string;
}): HttpProblemError {
  return new HttpProblemError(error.code, STATUS_OF_CODE[error.code] ?? 422, error.message);
}
