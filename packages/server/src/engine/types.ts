import type { ClassifyOutcome, Prediction } from '@imgcls/classifier';
import type { ModelSourceKind, ModelStoreOptions } from '@imgcls/models';

/**
 * The contract between the HTTP layer and the inference engine. The HTTP layer parses and checks
 * requests and maps errors to problem JSON; the engine owns models, micro-batching, worker threads,
 * the bounded queue and per-request deadlines. Neither imports the other's internals.
 */

/** Options of the engine, validated by {@link createEngine} (defaults in `DEFAULT_ENGINE_OPTIONS`). */
export interface EngineOptions {
  /** Model references to load at start (registry ids, folders, URLs), each served under an id. */
  readonly models: readonly ModelSpec[];
  /** Worker threads, each with its own wasm instance and a copy of every model (default 1). */
  readonly workers: number;
  /** Largest micro-batch sent to a worker (default 32). */
  readonly maxBatch: number;
  /**
   * Longest a request waits for others to join its batch when a worker is free, in ms (default 5; 0:
   * no waiting). A lone request on an idle engine (nothing queued or running) is sent at once.
   */
  readonly maxWaitMs: number;
  /** Images waiting or running at most, over all models; more is refused with QueueFullError (default 256). */
  readonly queue: number;
  /** Largest image accepted, in pixels (decoding refuses larger headers first; default 50 MP). */
  readonly maxPixels: number;
  /**
   * Model store settings for the workers' loads (models folder, cache, remote host, offline…). Workers
   * do not see the main thread's `modelSettings`, only its environment (`IMGCLS_MODELS_DIR`,
   * `IMGCLS_CACHE_DIR`): pass here what the main thread configured. Default: none.
   */
  readonly modelStore?: ModelStoreOptions;
}

/** A model to serve: what to load and the id clients use. */
export interface ModelSpec {
  /** The id in `/v1/models/{id}`; default: the metadata id of what loaded. */
  readonly id?: string;
  /** What `loadClassifier` is given: a registry id, a folder or a URL. */
  readonly reference: string;
}

/** What `GET /v1/models` lists for each model. */
export interface ServedModel {
  readonly id: string;
  readonly name: string;
  readonly version: string;
  readonly labels: readonly string[];
  readonly preset: unknown;
  /** Where the store found it, and its folder or URL. */
  readonly source: ModelSourceKind;
  readonly origin: string;
  /** SHA-256 of the files it was loaded from, when pinned or recorded (`weightsSha256`, package pins). */
  readonly checksums: Readonly<Record<string, string>>;
  /** Load and warm-up time in the slowest worker, in seconds. */
  readonly loadSeconds: number;
}

/** Per-call options of classification. */
export interface ClassifyOptions {
  /** Ranked labels per image (default 5). */
  readonly topK?: number;
  /** Absolute time (ms since epoch, `Date.now()`) after which the request fails with DeadlineError. */
  readonly deadline?: number;
  /**
   * Cancels the request (e.g. the client went away): a queued one leaves the queue, a running one is
   * rejected at once and its result discarded. Rejects with AbortedError (`ABORTED`).
   */
  readonly signal?: AbortSignal;
  /** The `input` of each outcome, one per image (default: the image's index in the call, "0", "1"…). */
  readonly names?: readonly string[];
}

/** A Grad-CAM explanation as the server returns it: the overlay as PNG bytes. */
export interface ServedExplanation {
  readonly prediction: Prediction;
  readonly layer: string;
  readonly width: number;
  readonly height: number;
  /** The RGBA overlay at the model's input size, PNG-encoded. */
  readonly overlayPng: Uint8Array;
}

/** Counters the metrics endpoint exports. */
export interface EngineStats {
  /** Images queued or running now. */
  readonly queueDepth: number;
  /** TF.js tensors alive, summed over the workers (flat when nothing leaks). */
  readonly tensors: number;
}

/**
 * The inference engine. Every method that takes images answers per image: a decoding failure of one
 * image is that image's `ClassifyOutcome` error, not a rejection of the call. Calls are rejected with
 * the typed errors below (each an `ImgclsError` with a stable `code`).
 *
 * @throws UnknownServedModelError (`UNKNOWN_MODEL`), QueueFullError (`QUEUE_FULL`, with
 *   `retryAfterSeconds`), DeadlineError (`DEADLINE_EXCEEDED`), EngineClosedError (`SHUTTING_DOWN`),
 *   AbortedError (`ABORTED`, the signal fired), WorkerCrashedError (`WORKER_CRASHED`, the worker
 *   running the call died; it is replaced), InvalidArgumentError (`INVALID_ARGUMENT`: topK, names,
 *   classIndex, more images in one call than the queue holds). `embed` and `explain` reject with the
 *   image's own error (`INVALID_IMAGE`, `IMAGE_TOO_LARGE`…) since they answer for one image.
 */
export interface Engine {
  /** True once every model is loaded and warmed up in every worker. */
  readonly ready: boolean;
  models(): readonly ServedModel[];
  /** Classifies images (encoded bytes) with one model; coalesced with concurrent calls into micro-batches. */
  classify(
    model: string,
    images: readonly Uint8Array[],
    options?: ClassifyOptions,
  ): Promise<ClassifyOutcome[]>;
  /** The embedding of one image (encoded bytes). */
  embed(
    model: string,
    image: Uint8Array,
    options?: Pick<ClassifyOptions, 'deadline' | 'signal'>,
  ): Promise<Float32Array>;
  /** Grad-CAM for one image's top class (or `classIndex`). */
  explain(
    model: string,
    image: Uint8Array,
    options?: Pick<ClassifyOptions, 'deadline' | 'signal'> & { readonly classIndex?: number },
  ): Promise<ServedExplanation>;
  /** Observes every micro-batch run: its model and size (for the batch-size histogram). */
  onBatch(listener: (model: string, size: number) => void): void;
  stats(): Promise<EngineStats>;
  /** Stops accepting, lets queued and running work finish, then stops the workers. */
  close(): Promise<void>;
}
