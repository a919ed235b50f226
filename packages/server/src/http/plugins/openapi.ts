import swagger from '@fastify/swagger';
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The route takes an image as the raw body (`image/*`, `application/octet-stream`) and as
     * multipart files, one or several: documented in OpenAPI, never validated as JSON.
     */
    imageBody?: 'one' | 'several';
  }
}

/** The OpenAPI forms of a raw image body and of a multipart body of image files. */
function imageContent(count: 'one' | 'several') {
  const file = { type: 'string', format: 'binary' };
  const raw = {
    schema: { ...file, description: 'The encoded image (JPEG, PNG, WebP, GIF, TIFF, AVIF, BMP).' },
  };
  const multipart = {
    schema: {
      type: 'object',
      description:
        count === 'one'
          ? 'One file part holding the image.'
          : 'One file part per image (any field name); each answers one outcome, named by its file name.',
      properties: { image: count === 'one' ? file : { type: 'array', items: file } },
    },
  };
  return { 'image/*': raw, 'application/octet-stream': raw, 'multipart/form-data': multipart };
}

/** Options of the OpenAPI plugin. */
export interface OpenApiPluginOptions {
  readonly version: string;
  /** Documents the API-key scheme on the /v1 routes when the server has a key. */
  readonly apiKey: boolean;
}

/**
 * The OpenAPI 3.1 document, built by @fastify/swagger from the routes' own schemas (registered
 * before any route, so it sees them all) and served at `GET /openapi.json`. Shared schemas appear
 * under `components.schemas` by their `$id`.
 */
const openApiPlugin: FastifyPluginAsync<OpenApiPluginOptions> = async (
  app,
  { version, apiKey },
) => {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'imgcls server',
        version,
        description:
          'Image classification over HTTP. Errors are RFC 9457 problems (application/problem+json) carrying a stable `code`.',
      },
      tags: [
        { name: 'inference', description: 'Classify and embed images' },
        { name: 'models', description: 'What is served' },
        { name: 'operations', description: 'Health, readiness, metrics' },
      ],
      ...(apiKey
        ? {
            components: {
              securitySchemes: {
                bearer: { type: 'http', scheme: 'bearer' },
                apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
              },
            },
          }
        : {}),
    },
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, index) =>
        typeof json.$id === 'string' ? json.$id : `def-${index}`,
    },
    transform: ({ schema, url, route }) => {
      if (!schema) return { schema, url };
      let documented = schema as Record<string, unknown>;
      const images = route.config?.imageBody;
      const body = documented.body as { content?: Record<string, unknown> } | undefined;
      if (images && body?.content)
        documented = {
          ...documented,
          body: { ...body, content: { ...body.content, ...imageContent(images) } },
        };
      // The key guards /v1 only; health, readiness, metrics and this document stay open.
      if (apiKey && url.startsWith('/v1/'))
        documented = { ...documented, security: [{ bearer: [] }, { apiKey: [] }] };
      return { schema: documented, url };
    },
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
};

export default fp(openApiPlugin, { name: 'imgcls-openapi', fastify: '5.x' });
