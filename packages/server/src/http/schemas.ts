/**
 * JSON schemas shared by the routes: they validate requests, serialise responses and become the
 * OpenAPI document's components (`#/components/schemas/<$id>`).
 */

export const PROBLEM_SCHEMA = {
  $id: 'Problem',
  type: 'object',
  description:
    'An RFC 9457 problem: `code` is the stable error code of imgcls (INVALID_IMAGE, QUEUE_FULL…), `instance` the request id.',
  required: ['type', 'title', 'status', 'detail', 'instance', 'code'],
  properties: {
    type: { type: 'string', description: 'urn:imgcls:problem:<code>' },
    title: { type: 'string', description: 'The HTTP status phrase.' },
    status: { type: 'integer' },
    detail: { type: 'string', description: 'What went wrong and what to do about it.' },
    instance: { type: 'string', description: 'The request id, as in the x-request-id header.' },
    code: { type: 'string' },
  },
} as const;

export const PREDICTION_SCHEMA = {
  $id: 'Prediction',
  type: 'object',
  required: ['label', 'index', 'probability'],
  properties: {
    label: { type: 'string' },
    index: { type: 'integer', description: 'Index into the model labels.' },
    probability: { type: 'number' },
  },
} as const;

export const EXPLANATION_SCHEMA = {
  $id: 'Explanation',
  type: 'object',
  description: "Grad-CAM for the top class: the overlay at the model's input size.",
  required: ['prediction', 'layer', 'width', 'height', 'overlayPng'],
  properties: {
    prediction: { $ref: 'Prediction#' },
    layer: { type: 'string', description: 'The convolution layer the heatmap comes from.' },
    width: { type: 'integer' },
    height: { type: 'integer' },
    overlayPng: { type: 'string', description: 'The RGBA overlay as a base64 PNG.' },
  },
} as const;

/** The shape of `imgcls classify --json`: predictions, or the error that stopped this image. */
export const OUTCOME_SCHEMA = {
  $id: 'ClassifyOutcome',
  type: 'object',
  description:
    'One classified input, as `imgcls classify --json` prints it: `predictions`, or `error` (in multipart answers only).',
  required: ['input'],
  properties: {
    input: {
      type: 'string',
      description: 'The file name (multipart), the URL, or "body" for a raw image body.',
    },
    predictions: { type: 'array', items: { $ref: 'Prediction#' } },
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' } },
    },
    explanation: { $ref: 'Explanation#' },
  },
} as const;

export const SERVED_MODEL_SCHEMA = {
  $id: 'ServedModel',
  type: 'object',
  required: ['id', 'name', 'version', 'labels', 'preset', 'source', 'origin', 'checksums'],
  properties: {
    id: { type: 'string', description: 'The id in /v1/models/{id}.' },
    name: { type: 'string' },
    version: { type: 'string' },
    labels: { type: 'array', items: { type: 'string' } },
    preset: {
      type: 'object',
      additionalProperties: true,
      description:
        'The preprocessing preset from the model metadata (input size, range, mean/std).',
    },
    source: { type: 'string', description: 'Which source of the model store served it.' },
    origin: { type: 'string', description: 'The folder or URL it was loaded from.' },
    checksums: {
      type: 'object',
      additionalProperties: { type: 'string' },
      description: 'SHA-256 of the files it was loaded from, by file name.',
    },
    loadSeconds: { type: 'number', description: 'Load and warm-up time in the slowest worker.' },
  },
} as const;

/** Every shared schema, for `addSchema`, in dependency order. */
export const SHARED_SCHEMAS = [
  PROBLEM_SCHEMA,
  PREDICTION_SCHEMA,
  EXPLANATION_SCHEMA,
  OUTCOME_SCHEMA,
  SERVED_MODEL_SCHEMA,
] as const;

/** The problem responses a route documents, by status class: which codes each may carry. */
export function problemResponses(
  clientErrors: string,
  serverErrors = '500 INTERNAL_ERROR: the server failed (the request id locates it in the logs).',
) {
  const content = { 'application/problem+json': { schema: { $ref: 'Problem#' } } };
  return {
    '4xx': { description: clientErrors, content },
    '5xx': { description: serverErrors, content },
  };
}
