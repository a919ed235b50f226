import { ImgclsError } from '@imgcls/preprocess';

/** The engine holds as many images as its `queue` option allows: try again after `retryAfterSeconds`. */
export class QueueFullError extends ImgclsError {
  constructor(
    /** The queue's capacity, in images. */
    readonly capacity: number,
    /** Seconds after which there is probably room again (from the recent throughput; at least 1). */
    readonly retryAfterSeconds: number,
  ) {
    super(
      'QUEUE_FULL',
      `The inference queue is full (${capacity} images waiting or running): retry in ${retryAfterSeconds} s, or raise the queue size or the number of workers.`,
    );
  }
}

/** The request's deadline passed before its result was ready. */
export class DeadlineError extends ImgclsError {
  constructor(
    /** Whether it was still waiting in the queue (else it was running). */
    readonly queued: boolean,
  ) {
    super(
      'DEADLINE_EXCEEDED',
      queued
        ? 'The request timed out while waiting in the queue: the server is overloaded; retry later or allow a longer timeout.'
        : 'The request timed out while running: allow a longer timeout or send fewer images per request.',
    );
  }
}

/** The engine is closing or closed and accepts no new work. */
export class EngineClosedError extends ImgclsError {
  constructor() {
    super(
      'SHUTTING_DOWN',
      'The inference engine is shutting down: send the request to another replica.',
    );
  }
}

/** The request's abort signal fired (e.g. the client went away). */
export class AbortedError extends ImgclsError {
  constructor(options?: { cause?: unknown }) {
    super('ABORTED', 'The request was cancelled before its result was ready.', options);
  }
}

/** No model is served under this id. */
export class UnknownServedModelError extends ImgclsError {
  constructor(
    readonly model: string,
    /** Every id this engine serves. */
    readonly served: readonly string[],
  ) {
    super(
      'UNKNOWN_MODEL',
      `No model "${model}" is served here: use one of ${served.map((id) => `"${id}"`).join(', ')}.`,
    );
  }
}

/** The worker thread running the request died (it is replaced); the request may be retried. */
export class WorkerCrashedError extends ImgclsError {
  /**
   * @param detail - How it stopped (the worker's error, or its exit code).
   * @param options - `replaced: false` when no worker takes its place (the engine was starting, or
   *   the replacement failed too).
   */
  constructor(detail: string, options: { cause?: unknown; replaced?: boolean } = {}) {
    super(
      'WORKER_CRASHED',
      options.replaced === false
        ? `An inference worker stopped (${detail}): check the server's memory and logs, then restart it.`
        : `The inference worker running this request stopped (${detail}); it is being replaced: retry the request.`,
      { cause: options.cause },
    );
  }
}
