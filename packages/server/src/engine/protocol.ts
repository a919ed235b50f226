import type { Prediction } from '@imgcls/classifier';
import type { ModelStoreOptions } from '@imgcls/models';
import { ImgclsError } from '@imgcls/preprocess';
import type { ServedExplanation, ServedModel } from './types';

/**
 * Messages between the engine (main thread) and its workers. Models are addressed by their index in
 * the engine's model list, requests by a number unique per worker.
 */

/** What the engine asks a worker. */
export type WorkerRequest =
  | {
      readonly type: 'load';
      readonly references: readonly string[];
      readonly maxPixels: number;
      readonly modelStore?: ModelStoreOptions;
    }
  | {
      readonly type: 'classify';
      readonly id: number;
      readonly model: number;
      readonly images: readonly Uint8Array[];
      readonly topK: number;
    }
  | {
      readonly type: 'embed';
      readonly id: number;
      readonly model: number;
      readonly image: Uint8Array;
    }
  | {
      readonly type: 'explain';
      readonly id: number;
      readonly model: number;
      readonly image: Uint8Array;
      readonly classIndex?: number;
    }
  | { readonly type: 'stats'; readonly id: number };

/** One image's result inside a worker: predictions, or the error that stopped it (the engine adds its name). */
export type ImageResult =
  | { readonly predictions: readonly Prediction[] }
  | { readonly error: { readonly code: string; readonly message: string } };

/** What a worker learnt about a model while loading it: what `GET /v1/models` lists. */
export type LoadedModel = ServedModel;

/** What a worker answers. */
export type WorkerResponse =
  | { readonly type: 'loaded'; readonly models: readonly LoadedModel[] }
  | { readonly type: 'load-failed'; readonly error: SerializedError }
  | { readonly type: 'classified'; readonly id: number; readonly results: readonly ImageResult[] }
  | { readonly type: 'embedded'; readonly id: number; readonly embedding: Float32Array }
  | { readonly type: 'explained'; readonly id: number; readonly explanation: ServedExplanation }
  | { readonly type: 'stats'; readonly id: number; readonly tensors: number }
  | { readonly type: 'failed'; readonly id: number; readonly error: SerializedError };

/** An error as it crosses a thread: structured clone keeps neither the class nor extra fields. */
export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  /** Whether it was an `ImgclsError` (a typed library error, as opposed to a bug or a system error). */
  readonly imgcls: boolean;
  /** The error's own data fields (e.g. `reason`, `width`, `known`), when they clone. */
  readonly fields: Readonly<Record<string, unknown>>;
}

/** Fields that are not data, or that `reviveError` sets itself. */
const SKIPPED = new Set(['name', 'message', 'code', 'stack', 'cause']);

/** An error as a worker posts it: its name, code, message and data fields (see {@link reviveError}). */
export function serializeError(error: unknown): SerializedError {
  if (!(error instanceof Error))
    return { name: 'Error', message: String(error), imgcls: false, fields: {} };
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(error)) {
    if (SKIPPED.has(key)) continue;
    if (value === null || ['string', 'number', 'boolean'].includes(typeof value))
      fields[key] = value;
    else if (Array.isArray(value) && value.every((item) => typeof item === 'string'))
      fields[key] = value;
  }
  const code = (error as { code?: unknown }).code;
  return {
    name: error.name,
    message: error.message,
    ...(typeof code === 'string' ? { code } : {}),
    imgcls: ImgclsError.isInstance(error),
    fields,
  };
}

/**
 * The error a worker threw, on this side: an `ImgclsError` with the same name, code, message and data
 * fields (so `ImgclsError.isInstance(error, code)` and the HTTP layer's mapping work), or a plain
 * Error (name, message, code kept) for anything else.
 */
export function reviveError(serialized: SerializedError): Error {
  const error =
    serialized.imgcls && serialized.code
      ? new ImgclsError(serialized.code, serialized.message)
      : new Error(serialized.message);
  error.name = serialized.name;
  Object.assign(error, serialized.fields);
  if (!(error instanceof ImgclsError) && serialized.code)
    Object.assign(error, { code: serialized.code });
  return error;
}
