import type { ClassifyOutcome } from '@imgcls/classifier';
import { InvalidArgumentError } from '@imgcls/preprocess';
import { WORKER_SCRIPT } from '../worker-url';
import {
  AbortedError,
  DeadlineError,
  EngineClosedError,
  QueueFullError,
  UnknownServedModelError,
  WorkerCrashedError,
} from './errors';
import { resolveEngineOptions } from './options';
import type { ImageResult, LoadedModel, WorkerRequest } from './protocol';
import type {
  ClassifyOptions,
  Engine,
  EngineOptions,
  EngineStats,
  ServedExplanation,
  ServedModel,
} from './types';
import { WorkerThread } from './worker-thread';

/** Reaches the engine's worker threads (tests simulate crashes with it); not part of the public API. */
export const ENGINE_INTERNALS = Symbol('imgcls.engine.internals');

/** What tests reach through {@link ENGINE_INTERNALS}. */
export interface EngineInternals {
  threads(): readonly WorkerThread[];
}

/**
 * Starts the workers, loads every model in each and warms it up; resolves when all are ready.
 *
 * @throws InvalidArgumentError for an option outside its range (named, with the range), and the
 *   library's typed error of a model that fails to load (ModelNotFoundError, ModelLoadError,
 *   LabelMismatchError…); no worker is left running then.
 */
export async function createEngine(
  options: Partial<EngineOptions> & Pick<EngineOptions, 'models'>,
): Promise<Engine> {
  const resolved = resolveEngineOptions(options);
  const load: Extract<WorkerRequest, { type: 'load' }> = {
    type: 'load',
    references: resolved.models.map((spec) => spec.reference),
    maxPixels: resolved.maxPixels,
    ...(resolved.modelStore ? { modelStore: resolved.modelStore } : {}),
  };
  const engine = new InferenceEngine(resolved, load);
  await engine.start();
  return engine;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

type JobKind = 'classify' | 'embed' | 'explain';

/** One call waiting in a model's queue or running; a classify call of more than maxBatch images runs in chunks. */
interface Job {
  readonly kind: JobKind;
  readonly model: number;
  readonly images: readonly Uint8Array[];
  readonly names: readonly string[] | undefined;
  readonly topK: number;
  readonly classIndex: number | undefined;
  /** When it arrived (performance.now()): the oldest head is served first. */
  readonly arrived: number;
  /** Before this time it waits for others to join its batch (performance.now()). */
  readonly notBefore: number;
  /** Index of its first image not yet sent to a worker. */
  next: number;
  /** Its chunks being run by workers now. */
  running: number;
  readonly results: ImageResult[];
  settled: boolean;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
  /** Clears its deadline timer and abort listener. */
  cleanup: () => void;
}

/** What a call adds to its images: ranked labels, input names (classify), the class to explain. */
interface JobExtra {
  readonly topK: number;
  readonly names?: readonly string[] | undefined;
  readonly classIndex?: number | undefined;
}

/** A model's queue: calls in arrival order, and how many of their images are not yet sent. */
interface ModelQueue {
  readonly jobs: Job[];
  images: number;
}

/** Consecutive images of one job in a batch. */
interface BatchPart {
  readonly job: Job;
  readonly start: number;
  readonly count: number;
}

interface Batch {
  readonly model: number;
  readonly kind: JobKind;
  readonly parts: readonly BatchPart[];
  readonly size: number;
}

/** How much the latest batch moves the per-image time estimate behind Retry-After. */
const THROUGHPUT_SMOOTHING = 0.2;

class InferenceEngine implements Engine {
  ready = false;
  private threads: WorkerThread[] = [];
  /** Replacement workers being started. */
  private readonly starting = new Set<Promise<void>>();
  private served: ServedModel[] = [];
  private readonly ids = new Map<string, number>();
  private readonly queues: ModelQueue[];
  /** Images queued or running, over every model. */
  private depth = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly batchListeners: ((model: string, size: number) => void)[] = [];
  /** Smoothed seconds of worker time per image, from completed batches. */
  private secondsPerImage: number | undefined;
  private closed = false;
  private terminating = false;
  private closing: Promise<void> | undefined;
  private drained: (() => void) | undefined;
  /** Set when every worker is gone and none could be started: every call fails with it. */
  private broken: WorkerCrashedError | undefined;

  constructor(
    private readonly options: EngineOptions,
    private readonly load: Extract<WorkerRequest, { type: 'load' }>,
  ) {
    this.queues = options.models.map(() => ({ jobs: [], images: 0 }));
  }

  async start(): Promise<void> {
    const starts = Array.from({ length: this.options.workers }, () =>
      WorkerThread.start(WORKER_SCRIPT, this.load, this.onThreadExit),
    );
    const settled = await Promise.allSettled(starts);
    const started = settled.flatMap((outcome) =>
      outcome.status === 'fulfilled' ? [outcome.value] : [],
    );
    const failure = settled.find((outcome) => outcome.status === 'rejected');
    try {
      if (failure) throw failure.reason;
      // One that died while the others were still loading was not in the list to be replaced.
      if (started.some(({ thread }) => !thread.alive))
        throw new WorkerCrashedError('while the engine was starting', { replaced: false });
      this.served = this.describe(started.map((start) => start.models));
    } catch (error) {
      this.terminating = true;
      await Promise.all(started.map(({ thread }) => thread.stop()));
      throw error;
    }
    this.threads = started.map(({ thread }) => thread);
    this.ready = true;
  }

  models(): readonly ServedModel[] {
    return this.served;
  }

  classify(
    model: string,
    images: readonly Uint8Array[],
    options: ClassifyOptions = {},
  ): Promise<ClassifyOutcome[]> {
    const { topK = 5, names } = options;
    if (!Number.isInteger(topK) || topK < 1)
      return Promise.reject(
        new InvalidArgumentError(`topK must be a positive integer, got ${String(topK)}.`),
      );
    if (!Array.isArray(images) || !images.every((image) => image instanceof Uint8Array))
      return Promise.reject(
        new InvalidArgumentError('images must be an array of encoded images (Uint8Array each).'),
      );
    if (
      names !== undefined &&
      (!Array.isArray(names) ||
        names.length !== images.length ||
        !names.every((name) => typeof name === 'string'))
    )
      return Promise.reject(
        new InvalidArgumentError(
          `names must hold one string per image (${images.length}), got ${Array.isArray(names) ? names.length : typeof names}.`,
        ),
      );
    return this.enqueue('classify', model, images, options, { topK, names }) as Promise<
      ClassifyOutcome[]
    >;
  }

  embed(
    model: string,
    image: Uint8Array,
    options: Pick<ClassifyOptions, 'deadline' | 'signal'> = {},
  ): Promise<Float32Array> {
    return this.enqueueOne('embed', model, image, options) as Promise<Float32Array>;
  }

  explain(
    model: string,
    image: Uint8Array,
    options: Pick<ClassifyOptions, 'deadline' | 'signal'> & { readonly classIndex?: number } = {},
  ): Promise<ServedExplanation> {
    const { classIndex } = options;
    const labels = this.served[this.ids.get(model) ?? -1]?.labels.length;
    if (
      classIndex !== undefined &&
      labels !== undefined &&
      !(Number.isInteger(classIndex) && classIndex >= 0 && classIndex < labels)
    )
      return Promise.reject(
        new InvalidArgumentError(
          `classIndex must be an integer from 0 to ${labels - 1} (an index into the model's labels), got ${String(classIndex)}.`,
        ),
      );
    return this.enqueueOne(
      'explain',
      model,
      image,
      options,
      classIndex,
    ) as Promise<ServedExplanation>;
  }

  onBatch(listener: (model: string, size: number) => void): void {
    this.batchListeners.push(listener);
  }

  async stats(): Promise<EngineStats> {
    // The depth when asked, not after the workers answered (a busy worker answers between batches).
    const queueDepth = this.depth;
    const answers = await Promise.allSettled(
      this.threads.map((thread) => thread.request({ type: 'stats' })),
    );
    let tensors = 0;
    for (const answer of answers)
      if (answer.status === 'fulfilled' && answer.value.type === 'stats')
        tensors += answer.value.tensors;
    return { queueDepth, tensors };
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  [ENGINE_INTERNALS](): EngineInternals {
    return { threads: () => [...this.threads] };
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    if (this.depth > 0)
      await new Promise<void>((resolve) => {
        this.drained = resolve;
      });
    this.terminating = true;
    this.ready = false;
    clearTimeout(this.timer);
    // Replacements still starting stop themselves when they come up (see replace()).
    await Promise.all([
      ...this.threads.map((thread) => thread.stop()),
      ...[...this.starting].map((start) => start.catch(() => {})),
    ]);
    this.threads = [];
  }

  /** The served models, from what each worker loaded: ids, and the slowest worker's load time. */
  private describe(perThread: readonly (readonly LoadedModel[])[]): ServedModel[] {
    const first = perThread[0] ?? [];
    const served = this.options.models.map((spec, index) => {
      const loaded = first[index] as LoadedModel;
      const { loadSeconds: _, ...rest } = loaded;
      return {
        ...rest,
        id: spec.id ?? loaded.id,
        loadSeconds: Math.max(...perThread.map((models) => models[index]?.loadSeconds ?? 0)),
      };
    });
    served.forEach(({ id }, index) => {
      if (this.ids.has(id))
        throw new InvalidArgumentError(
          `Two models would be served as "${id}" (models[${this.ids.get(id)}] and models[${index}]): give one of them an id.`,
        );
      this.ids.set(id, index);
    });
    return served;
  }

  private enqueueOne(
    kind: 'embed' | 'explain',
    model: string,
    image: Uint8Array,
    options: Pick<ClassifyOptions, 'deadline' | 'signal'>,
    classIndex?: number,
  ): Promise<unknown> {
    if (!(image instanceof Uint8Array))
      return Promise.reject(
        new InvalidArgumentError('image must be an encoded image (a Uint8Array).'),
      );
    return this.enqueue(kind, model, [image], options, { topK: 1, classIndex });
  }

  /** Admits a call to its model's queue, or rejects it at once (closed, unknown model, full, late). */
  private enqueue(
    kind: JobKind,
    model: string,
    images: readonly Uint8Array[],
    { deadline, signal }: Pick<ClassifyOptions, 'deadline' | 'signal'>,
    extra: JobExtra,
  ): Promise<unknown> {
    const admitted = this.admitCall(model, deadline, signal);
    if ('error' in admitted) return Promise.reject(admitted.error);
    // An empty call needs no queue room: it answers at once, after the checks every call gets.
    if (images.length === 0) return Promise.resolve([]);
    const full = this.queueRoomError(images.length);
    if (full) return Promise.reject(full);
    return new Promise((resolve, reject) => {
      const job = this.createJob(kind, admitted.index, images, extra, resolve, reject);
      job.cleanup = this.armJob(job, deadline, signal);
      this.queueJob(job);
    });
  }

  /**
   * The checks of any call, whatever its size: the engine is open and whole, the model is served, and
   * the call is neither aborted nor already late. Gives the model's index, or the error to reject with.
   */
  private admitCall(
    model: string,
    deadline: number | undefined,
    signal: AbortSignal | undefined,
  ): { readonly index: number } | { readonly error: Error } {
    if (this.closed) return { error: new EngineClosedError() };
    if (this.broken) return { error: this.broken };
    const index = this.ids.get(model);
    if (index === undefined)
      return { error: new UnknownServedModelError(model, [...this.ids.keys()]) };
    if (deadline !== undefined && !Number.isFinite(deadline))
      return {
        error: new InvalidArgumentError(
          `deadline must be a time in ms since the epoch (Date.now()), got ${String(deadline)}.`,
        ),
      };
    if (signal?.aborted) return { error: new AbortedError({ cause: signal.reason }) };
    if (deadline !== undefined && deadline <= Date.now()) return { error: new DeadlineError(true) };
    return { index };
  }

  /** Why `count` more images cannot be queued (larger than the queue, or no room now), if they cannot. */
  private queueRoomError(count: number): Error | undefined {
    const { queue: capacity } = this.options;
    if (count > capacity)
      return new InvalidArgumentError(
        `A call holds ${count} images, more than the queue's ${capacity}: send at most ${capacity} at once.`,
      );
    if (this.depth + count > capacity)
      return new QueueFullError(capacity, this.retryAfterSeconds(this.depth + count - capacity));
    return undefined;
  }

  /** A new job, not yet queued; its cleanup is a no-op until {@link armJob} sets one. */
  private createJob(
    kind: JobKind,
    model: number,
    images: readonly Uint8Array[],
    extra: JobExtra,
    resolve: Job['resolve'],
    reject: Job['reject'],
  ): Job {
    const now = performance.now();
    // Work that finds a worker free waits up to maxWaitMs for company, unless the engine is quiet
    // (nothing queued or running: a lone call, whose wait would be pure latency); work that finds
    // every worker busy goes with the next batch as soon as one frees. embed/explain run alone.
    const waits = kind === 'classify' && this.depth > 0 && this.idleThread() !== undefined;
    return {
      kind,
      model,
      images,
      names: extra.names,
      topK: extra.topK,
      classIndex: extra.classIndex,
      arrived: now,
      notBefore: waits ? now + this.options.maxWaitMs : now,
      next: 0,
      running: 0,
      results: [],
      settled: false,
      resolve,
      reject,
      cleanup: () => {},
    };
  }

  /** Fails the job at its deadline or when its signal aborts; gives the function that disarms both. */
  private armJob(job: Job, deadline: number | undefined, signal: AbortSignal | undefined) {
    const cleanups: (() => void)[] = [];
    // Deadlines beyond setTimeout's range get no timer (one would fire at once).
    if (deadline !== undefined && deadline - Date.now() <= MAX_TIMER_MS) {
      const timer = setTimeout(
        () => this.fail(job, new DeadlineError(job.next === 0 && job.running === 0)),
        deadline - Date.now(),
      );
      timer.unref();
      cleanups.push(() => clearTimeout(timer));
    }
    if (signal) {
      const onAbort = () => this.fail(job, new AbortedError({ cause: signal.reason }));
      signal.addEventListener('abort', onAbort, { once: true });
      cleanups.push(() => signal.removeEventListener('abort', onAbort));
    }
    return () => {
      for (const cleanup of cleanups) cleanup();
    };
  }

  /** Adds the job to its model's queue and the engine's depth, then lets the pump send it. */
  private queueJob(job: Job): void {
    const queue = this.queues[job.model] as ModelQueue;
    queue.jobs.push(job);
    queue.images += job.images.length;
    this.depth += job.images.length;
    this.pump();
  }

  /**
   * Sends ready batches to idle workers. A model's queue is ready when it holds maxBatch images or its
   * oldest call has waited its turn (maxWaitMs when it found a worker free, nothing when it did not);
   * among ready queues the one with the oldest call goes first. If a worker stays idle while work
   * waits for company, a timer wakes the pump when the earliest wait ends.
   */
  private pump(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const now = performance.now();
    let idle = this.idleThread();
    while (idle) {
      const queue = this.readyQueue(now);
      if (!queue) break;
      // Work waiting while several workers are idle is shared out, not taken whole by the first one.
      const idleThreads = this.threads.filter((thread) => !thread.busy).length;
      this.dispatch(idle, this.takeBatch(queue, Math.ceil(queue.images / idleThreads)));
      idle = this.idleThread();
    }
    if (!idle) return;
    let wake = Number.POSITIVE_INFINITY;
    for (const queue of this.queues) {
      const head = queue.jobs[0];
      if (head) wake = Math.min(wake, head.notBefore);
    }
    if (wake < Number.POSITIVE_INFINITY)
      this.timer = setTimeout(() => this.pump(), Math.max(0, Math.ceil(wake - now)));
  }

  private idleThread(): WorkerThread | undefined {
    return this.threads.find((thread) => !thread.busy);
  }

  private readyQueue(now: number): ModelQueue | undefined {
    let best: ModelQueue | undefined;
    for (const queue of this.queues) {
      const head = queue.jobs[0];
      if (!head) continue;
      if (queue.images < this.options.maxBatch && head.notBefore > now) continue;
      if (!best || head.arrived < (best.jobs[0] as Job).arrived) best = queue;
    }
    return best;
  }

  /**
   * The next batch of a queue, in arrival order: whole calls while they fit in `limit` images (at most
   * maxBatch; at least one call). A call larger than maxBatch on its own is the only one split, in
   * chunks that fill batches. embed and explain calls run as batches of one.
   */
  private takeBatch(queue: ModelQueue, limit: number): Batch {
    const head = queue.jobs[0] as Job;
    const take = (job: Job, count: number): BatchPart => {
      const part = { job, start: job.next, count };
      job.next += count;
      queue.images -= count;
      if (job.next === job.images.length) queue.jobs.shift();
      return part;
    };
    if (head.kind !== 'classify')
      return { model: head.model, kind: head.kind, parts: [take(head, 1)], size: 1 };
    const { maxBatch } = this.options;
    const target = Math.min(maxBatch, Math.max(1, limit));
    const parts: BatchPart[] = [];
    let size = 0;
    for (let job = queue.jobs[0]; job && job.kind === 'classify'; job = queue.jobs[0]) {
      const remaining = job.images.length - job.next;
      const room = target - size;
      // A call that fits a batch is never split: whole, or left for the next batch (unless it is first).
      if (remaining <= room || (size === 0 && job.images.length <= maxBatch)) {
        parts.push(take(job, remaining));
        size += remaining;
        if (size >= target) break;
        continue;
      }
      if (job.images.length > maxBatch) {
        parts.push(take(job, room));
        size += room;
      }
      break;
    }
    return { model: head.model, kind: 'classify', parts, size };
  }

  private dispatch(thread: WorkerThread, batch: Batch): void {
    thread.busy = true;
    thread.batches++;
    for (const { job } of batch.parts) job.running++;
    const modelId = this.served[batch.model]?.id as string;
    for (const listener of this.batchListeners) {
      try {
        listener(modelId, batch.size);
      } catch (error) {
        process.emitWarning(`An onBatch listener threw: ${String(error)}`);
      }
    }
    // Copies, tightly sized: the caller keeps its buffers (which may be views into a larger one).
    const images = batch.parts.flatMap(({ job, start, count }) =>
      job.images.slice(start, start + count).map((image) => new Uint8Array(image)),
    );
    const transfer = images.map((image) => image.buffer as ArrayBuffer);
    const first = batch.parts[0]?.job as Job;
    const request =
      batch.kind === 'classify'
        ? thread.request(
            {
              type: 'classify',
              model: batch.model,
              images,
              topK: Math.max(...batch.parts.map(({ job }) => job.topK)),
            },
            transfer,
          )
        : batch.kind === 'embed'
          ? thread.request(
              { type: 'embed', model: batch.model, image: images[0] as Uint8Array },
              transfer,
            )
          : thread.request(
              {
                type: 'explain',
                model: batch.model,
                image: images[0] as Uint8Array,
                ...(first.classIndex !== undefined ? { classIndex: first.classIndex } : {}),
              },
              transfer,
            );
    const started = performance.now();
    // The worker and the batch's places in the queue are free before any caller hears back, so a
    // caller that looks at stats() or calls again sees them free.
    const release = () => {
      thread.busy = false;
      this.depth -= batch.size;
    };
    request.then(
      (answer) => {
        release();
        this.recordThroughput((performance.now() - started) / 1000 / batch.size);
        this.complete(batch, answer);
        this.pump();
        this.checkDrained();
      },
      (error: Error) => {
        release();
        for (const { job } of batch.parts) {
          job.running--;
          this.fail(job, error);
        }
        this.pump();
        this.checkDrained();
      },
    );
  }

  private complete(batch: Batch, answer: Awaited<ReturnType<WorkerThread['request']>>): void {
    let offset = 0;
    for (const { job, start, count } of batch.parts) {
      job.running--;
      if (answer.type === 'classified')
        for (let index = 0; index < count; index++)
          job.results[start + index] = answer.results[offset + index] as ImageResult;
      offset += count;
      if (job.settled || job.running > 0 || job.next < job.images.length) continue;
      job.settled = true;
      job.cleanup();
      if (answer.type === 'embedded') job.resolve(answer.embedding);
      else if (answer.type === 'explained') job.resolve(answer.explanation);
      else job.resolve(this.outcomes(job));
    }
  }

  private outcomes(job: Job): ClassifyOutcome[] {
    return job.results.map((result, index) => {
      const input = job.names?.[index] ?? String(index);
      return 'error' in result
        ? { input, error: result.error }
        : { input, predictions: result.predictions.slice(0, job.topK) };
    });
  }

  /** Rejects a call; what of it is still queued leaves the queue (what runs finishes, unused). */
  private fail(job: Job, error: Error): void {
    if (job.settled) return;
    job.settled = true;
    job.cleanup();
    const left = job.images.length - job.next;
    if (left > 0) {
      const queue = this.queues[job.model] as ModelQueue;
      queue.jobs.splice(queue.jobs.indexOf(job), 1);
      queue.images -= left;
      this.depth -= left;
      job.next = job.images.length;
    }
    job.reject(error);
    this.checkDrained();
  }

  private recordThroughput(secondsPerImage: number): void {
    this.secondsPerImage =
      this.secondsPerImage === undefined
        ? secondsPerImage
        : this.secondsPerImage + THROUGHPUT_SMOOTHING * (secondsPerImage - this.secondsPerImage);
  }

  /** Seconds until `excess` images have been served, at the recent throughput of all workers. */
  private retryAfterSeconds(excess: number): number {
    if (this.secondsPerImage === undefined) return 1;
    const imagesPerSecond = Math.max(1, this.threads.length) / this.secondsPerImage;
    return Math.max(1, Math.ceil(excess / imagesPerSecond));
  }

  private checkDrained(): void {
    if (this.closed && this.depth === 0) this.drained?.();
  }

  /** A worker died on its own: its batch was rejected (WorkerCrashedError); start another in its place. */
  private readonly onThreadExit = (thread: WorkerThread, error: Error): void => {
    const index = this.threads.indexOf(thread);
    if (index < 0) return; // a worker still starting: its start() rejects
    this.threads.splice(index, 1);
    if (!this.terminating) this.replace(error);
  };

  private replace(cause: Error): void {
    const start: Promise<void> = WorkerThread.start(WORKER_SCRIPT, this.load, this.onThreadExit)
      .then(
        ({ thread }) => {
          if (this.terminating) return thread.stop();
          this.threads.push(thread);
          this.pump();
        },
        (error: unknown) => {
          // Without any worker left, nothing would ever run what waits: reject it rather than hang.
          if (this.threads.length > 0 || this.starting.size > 1) return;
          this.ready = false;
          this.broken = new WorkerCrashedError(
            `its replacement failed to start: ${error instanceof Error ? error.message : String(error)}`,
            { cause, replaced: false },
          );
          for (const queue of this.queues)
            for (const job of [...queue.jobs]) this.fail(job, this.broken);
        },
      )
      .finally(() => this.starting.delete(start));
    this.starting.add(start);
  }
}
