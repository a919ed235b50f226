import multipart from '@fastify/multipart';
import type { ClassifyOutcome } from '@imgcls/classifier';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Engine, ServedExplanation } from '../../engine/types';
import type { ResolvedServerOptions } from '../../options';
import type { ImageFetcher } from '../fetch-image';
import { checkNotEmpty, type NamedImage, readImages } from '../images';
import { HttpProblemError, outcomeError, STATUS_OF_CODE } from '../problem';
import { problemResponses } from '../schemas';

/** Options of the inference plugin. */
export interface InferencePluginOptions {
  readonly engine: Engine;
  readonly options: ResolvedServerOptions;
  /** Undefined when URL fetching is off. */
  readonly fetchImage: ImageFetcher | undefined;
}

/** Largest `topK` a request may ask for. */
export const MAX_TOP_K = 100;
const DEFAULT_TOP_K = 5;
const SERVER_ERRORS =
  '502 DOWNLOAD_FAILED, 503 DEADLINE_EXCEEDED/SHUTTING_DOWN/WORKER_CRASHED (Retry-After), 504 DOWNLOAD_TIMEOUT, 500 INTERNAL_ERROR.';

/** Largest JSON body: `{ "url": … }` with a URL of at most 2,048 characters, and room to spare. */
const MAX_JSON_BYTES = 16 * 1024;

const PARAMS_SCHEMA = {
  type: 'object',
  required: ['id'],
  properties: {
    id: { type: 'string', maxLength: 128, description: 'A model id from GET /v1/models.' },
  },
} as const;

/**
 * The JSON way to send an image: `{ "url": … }`, validated here. Raw image bodies and multipart files
 * have no JSON to validate; the openapi plugin documents them from `config.imageBody`.
 */
const URL_BODY = {
  content: {
    'application/json': {
      schema: {
        type: 'object',
        required: ['url'],
        additionalProperties: false,
        properties: {
          url: {
            type: 'string',
            maxLength: 2048,
            pattern: '^https?://',
            description: 'An http(s) URL of the image; only on servers started with fetchUrls.',
          },
        },
      },
    },
  },
} as const;

interface ClassifyQuery {
  readonly topK: number;
  readonly explain?: 'gradcam';
}

interface ModelParams {
  readonly id: string;
}

/** Absolute deadline of a request: `timeoutMs` after it arrived (the upload counts). */
function deadlineOf(reply: FastifyReply, timeoutMs: number): number {
  return Date.now() - reply.elapsedTime + timeoutMs;
}

/** Aborts when the client goes away before its answer is sent, so its queued work is dropped. */
function clientGone(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller.signal;
}

function explanationJson(explanation: ServedExplanation) {
  return {
    prediction: explanation.prediction,
    layer: explanation.layer,
    width: explanation.width,
    height: explanation.height,
    overlayPng: Buffer.from(
      explanation.overlayPng.buffer,
      explanation.overlayPng.byteOffset,
      explanation.overlayPng.byteLength,
    ).toString('base64'),
  };
}

/** What the inference routes share: the engine, the limits and the hooks that run before a body is read. */
interface RouteContext {
  readonly engine: Engine;
  readonly bodyLimit: number;
  readonly timeoutMs: number;
  readonly fetchImage: ImageFetcher | undefined;
  readonly onRequest: readonly ((request: FastifyRequest) => Promise<void>)[];
}

/** The deadline and abort signal of one request, taken before its body is read. */
function callOptionsOf(reply: FastifyReply, timeoutMs: number) {
  return { deadline: deadlineOf(reply, timeoutMs), signal: clientGone(reply) };
}

/**
 * `POST /v1/models/{id}/classify` and `POST /v1/models/{id}/embed`, with the image as the body
 * (`image/*`, `application/octet-stream`), as multipart files or as JSON `{ "url": … }`. Registered
 * in the `/v1` scope: its content-type parsers and multipart limits stay there.
 */
const inferencePlugin: FastifyPluginAsync<InferencePluginOptions> = async (
  app,
  { engine, options, fetchImage },
) => {
  const { bodyLimit, timeoutMs } = options;
  await registerBodyParsers(app, options);
  const context: RouteContext = {
    engine,
    bodyLimit,
    timeoutMs,
    fetchImage,
    onRequest: [knownModelHook(engine), declaredSizeHook(bodyLimit)],
  };
  registerClassifyRoute(app, context);
  registerEmbedRoute(app, context);
};

/** Multipart limits, and parsers for image bodies and the small JSON `{ "url": … }` body. */
async function registerBodyParsers(
  app: FastifyInstance,
  { bodyLimit, maxFiles, maxFields }: ResolvedServerOptions,
): Promise<void> {
  await app.register(multipart, {
    limits: {
      fileSize: bodyLimit,
      files: maxFiles,
      fields: maxFields,
      fieldSize: 64 * 1024,
      parts: maxFiles + maxFields,
      headerPairs: 100,
    },
  });
  // Fastify parses text/plain by default; an image route has no use for it (415 instead). JSON only
  // ever carries a URL here, so it gets a limit of its own rather than bodyLimit's megabytes.
  app.removeContentTypeParser(['text/plain', 'application/json']);
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'string', bodyLimit: MAX_JSON_BYTES },
    app.getDefaultJsonParser('error', 'error'),
  );
  for (const contentType of [/^image\/[\w.+-]+$/, 'application/octet-stream'])
    app.addContentTypeParser(
      contentType,
      { parseAs: 'buffer', bodyLimit },
      (_request, body, done) => done(null, body),
    );
}

/** Unknown models answer 404 before their body is read. */
function knownModelHook(engine: Engine) {
  return async (request: FastifyRequest) => {
    const { id } = request.params as ModelParams;
    if (!engine.models().some((model) => model.id === id))
      throw new HttpProblemError(
        'UNKNOWN_MODEL',
        404,
        `No model "${id}" is served here; served: ${engine
          .models()
          .map((model) => model.id)
          .join(', ')} (GET /v1/models).`,
      );
  };
}

/**
 * Multipart bodies bypass Fastify's bodyLimit: refuse a declared oversize before reading a byte
 * (after the model check, so an unknown model is a 404 whatever the body).
 */
function declaredSizeHook(bodyLimit: number) {
  return async (request: FastifyRequest) => {
    const declared = Number(request.headers['content-length']);
    if (declared > bodyLimit)
      throw new HttpProblemError(
        'BODY_TOO_LARGE',
        413,
        `The request body is ${declared.toLocaleString('en-US')} bytes, more than the ${bodyLimit.toLocaleString('en-US')}-byte limit (bodyLimit).`,
      );
  };
}

function countOutcomes(
  app: FastifyInstance,
  model: string,
  outcomes: readonly ClassifyOutcome[],
): void {
  for (const outcome of outcomes)
    app.imgclsMetrics.images.inc({
      model,
      result: 'error' in outcome ? outcome.error.code : 'ok',
    });
}

/** Adds the Grad-CAM explanation to a successful outcome; a failed one is returned as it is. */
async function explainOutcome(
  engine: Engine,
  model: string,
  image: NamedImage,
  outcome: ClassifyOutcome,
  { deadline, signal }: { deadline: number; signal: AbortSignal },
) {
  if ('error' in outcome) return outcome;
  const explanation = await engine.explain(model, image.bytes, { deadline, signal });
  return { ...outcome, explanation: explanationJson(explanation) };
}

/** The OpenAPI schema of classify: built per registration, as when it was inline, so no two servers share one object. */
function classifySchema() {
  return {
    summary: 'Classify images',
    description:
      'The image as the body (image/*), as multipart files (one outcome each) or as JSON { "url": … }. A single image answers its outcome or a problem; multipart answers { outcomes } unless every file failed (422).',
    tags: ['inference'],
    params: PARAMS_SCHEMA,
    querystring: {
      type: 'object',
      properties: {
        topK: {
          type: 'integer',
          minimum: 1,
          maximum: MAX_TOP_K,
          default: DEFAULT_TOP_K,
          description: 'Ranked labels per image.',
        },
        explain: {
          type: 'string',
          enum: ['gradcam'],
          description: 'Add the Grad-CAM overlay of the top class (base64 PNG).',
        },
      },
    },
    body: URL_BODY,
    response: {
      200: {
        description:
          'A single image: its outcome. Multipart: { outcomes }, one per file, in order.',
        anyOf: [
          { $ref: 'ClassifyOutcome#' },
          {
            type: 'object',
            required: ['outcomes'],
            properties: { outcomes: { type: 'array', items: { $ref: 'ClassifyOutcome#' } } },
          },
        ],
      },
      ...problemResponses(
        '400 INVALID_REQUEST/NO_IMAGE, 401 UNAUTHORIZED, 403 URL_FETCH_DISABLED/URL_NOT_ALLOWED, 404 UNKNOWN_MODEL, 413 BODY_TOO_LARGE/TOO_MANY_FILES, 415 UNSUPPORTED_MEDIA_TYPE, 422 INVALID_IMAGE/IMAGE_TOO_LARGE/DOWNLOAD_TOO_LARGE/EXPLAIN_UNSUPPORTED, 429 QUEUE_FULL/RATE_LIMITED (Retry-After).',
        SERVER_ERRORS,
      ),
    },
  };
}

/** `POST /models/{id}/classify`: one outcome for a single image, `{ outcomes }` for multipart. */
function registerClassifyRoute(app: FastifyInstance, context: RouteContext): void {
  const { engine, bodyLimit, timeoutMs, fetchImage } = context;
  app.post<{ Params: ModelParams; Querystring: ClassifyQuery }>(
    '/models/:id/classify',
    {
      onRequest: [...context.onRequest],
      config: { imageBody: 'several' },
      schema: classifySchema(),
    },
    async (request, reply) => {
      const model = request.params.id;
      const { topK, explain: explainMethod } = request.query;
      const call = callOptionsOf(reply, timeoutMs);
      const { multipart: isMultipart, images } = await readImages(request, {
        bodyLimit,
        fetchImage,
        signal: call.signal,
      });
      if (!isMultipart) checkNotEmpty(images[0]!);
      const outcomes = (
        await engine.classify(
          model,
          images.map((image) => image.bytes),
          { topK, ...call, names: images.map((image) => image.name) },
        )
      ).map((outcome, index): ClassifyOutcome => ({ ...outcome, input: images[index]!.name }));
      countOutcomes(app, model, outcomes);
      if (!isMultipart) {
        const outcome = outcomes[0]!;
        if ('error' in outcome) throw outcomeError(outcome.error);
        return explainMethod ? explainOutcome(engine, model, images[0]!, outcome, call) : outcome;
      }
      checkSomeClassified(outcomes);
      if (!explainMethod) return { outcomes };
      const explained = [];
      for (const [index, outcome] of outcomes.entries())
        explained.push(await explainOutcome(engine, model, images[index]!, outcome, call));
      return { outcomes: explained };
    },
  );
}

/**
 * A multipart call where every file failed is a 422: under their common code when they share a 422
 * one, else INVALID_IMAGE, listing each file's code.
 */
function checkSomeClassified(outcomes: readonly ClassifyOutcome[]): void {
  const failed = outcomes.filter((outcome) => 'error' in outcome);
  if (failed.length !== outcomes.length) return;
  const codes = new Set(failed.map((outcome) => ('error' in outcome ? outcome.error.code : '')));
  const [only] = codes;
  const code = codes.size === 1 && only && STATUS_OF_CODE[only] === 422 ? only : 'INVALID_IMAGE';
  throw new HttpProblemError(
    code,
    422,
    `None of the ${outcomes.length} files could be classified: ${failed
      .map((outcome) => ('error' in outcome ? `${outcome.input}: ${outcome.error.code}` : ''))
      .join('; ')}.`,
  );
}

/** The OpenAPI schema of embed: built per registration, as when it was inline, so no two servers share one object. */
function embedSchema() {
  return {
    summary: 'The embedding of one image',
    description:
      'The output of the model\'s layer before its classifier, for one image: as the body (image/*), as one multipart file or as JSON { "url": … }.',
    tags: ['inference'],
    params: PARAMS_SCHEMA,
    body: URL_BODY,
    response: {
      200: {
        type: 'object',
        required: ['input', 'dimensions', 'embedding'],
        properties: {
          input: { type: 'string' },
          dimensions: { type: 'integer' },
          embedding: { type: 'array', items: { type: 'number' } },
        },
      },
      ...problemResponses(
        'As classify; several multipart files answer 413 TOO_MANY_FILES (one image per request).',
        SERVER_ERRORS,
      ),
    },
  };
}

/** `POST /models/{id}/embed`: the embedding of exactly one image. */
function registerEmbedRoute(app: FastifyInstance, context: RouteContext): void {
  const { engine, bodyLimit, timeoutMs, fetchImage } = context;
  app.post<{ Params: ModelParams }>(
    '/models/:id/embed',
    { onRequest: [...context.onRequest], config: { imageBody: 'one' }, schema: embedSchema() },
    async (request, reply) => {
      const model = request.params.id;
      const call = callOptionsOf(reply, timeoutMs);
      const { images } = await readImages(request, { bodyLimit, fetchImage, signal: call.signal });
      if (images.length > 1)
        throw new HttpProblemError(
          'TOO_MANY_FILES',
          413,
          `embed takes one image per request, this one has ${images.length} files.`,
        );
      const image = images[0]!;
      checkNotEmpty(image);
      const embedding = await engine.embed(model, image.bytes, call);
      return { input: image.name, dimensions: embedding.length, embedding: Array.from(embedding) };
    },
  );
}

export default inferencePlugin;
