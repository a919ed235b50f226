import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { WorkerCrashedError } from './errors';
import {
  type LoadedModel,
  reviveError,
  type SerializedError,
  type WorkerRequest,
  type WorkerResponse,
} from './protocol';

/** A request without its id: the thread numbers them. */
type WithoutId<Request> = Request extends unknown ? Omit<Request, 'id'> : never;
type Outgoing = WithoutId<Extract<WorkerRequest, { id: number }>>;

type Answer = Exclude<WorkerResponse, { type: 'loaded' | 'load-failed' | 'failed' }>;

/** Flags of the parent that a worker may inherit: loaders and export conditions of a test runner may not. */
const INHERITED_FLAGS = /^--(enable-source-maps|stack-trace-limit)/;

/**
 * One worker thread of the engine: its wasm instance with every model loaded, and the requests it has
 * not answered yet. When the thread dies, every unanswered request is rejected with
 * WorkerCrashedError and `onExit` fires (unless the engine stopped it).
 */
export class WorkerThread {
  /** Whether a batch is running on it (the engine sends one at a time). */
  busy = false;
  /** Batches sent to it so far. */
  batches = 0;
  private readonly worker: Worker;
  private readonly pending = new Map<
    number,
    { resolve: (answer: Answer) => void; reject: (error: Error) => void }
  >();
  private nextId = 0;
  private stopping = false;
  private exited = false;
  private lastError: Error | undefined;
  private loading:
    | { resolve: (models: readonly LoadedModel[]) => void; reject: (error: Error) => void }
    | undefined;

  private constructor(
    script: URL,
    private readonly onExit: (thread: WorkerThread, error: Error) => void,
  ) {
    this.worker = new Worker(script, {
      execArgv: process.execArgv.filter((flag) => INHERITED_FLAGS.test(flag)),
    });
    this.worker.on('message', (message: WorkerResponse) => this.receive(message));
    this.worker.on('error', (error) => {
      this.lastError = error;
    });
    this.worker.on('exit', (code) => this.exit(code));
  }

  /**
   * Starts a worker and loads the models in it; resolves once each is loaded and warmed up.
   *
   * @throws the load's typed error (ModelNotFoundError, ModelLoadError…); the thread is stopped then.
   */
  static async start(
    script: URL,
    load: Extract<WorkerRequest, { type: 'load' }>,
    onExit: (thread: WorkerThread, error: Error) => void,
  ): Promise<{ thread: WorkerThread; models: readonly LoadedModel[] }> {
    if (script.protocol === 'file:' && !existsSync(fileURLToPath(script)))
      throw new Error(
        `${fileURLToPath(script)} is missing: build @imgcls/server first (turbo run build --filter=@imgcls/server).`,
      );
    const thread = new WorkerThread(script, onExit);
    const models = new Promise<readonly LoadedModel[]>((resolve, reject) => {
      thread.loading = { resolve, reject };
    });
    thread.worker.postMessage(load);
    try {
      return { thread, models: await models };
    } catch (error) {
      await thread.stop();
      throw error;
    }
  }

  /** False once the thread has exited, stopped or crashed. */
  get alive(): boolean {
    return !this.exited;
  }

  /** Sends a request and resolves with its answer; rejects with the worker's error or WorkerCrashedError. */
  request(message: Outgoing, transfer: ArrayBuffer[] = []): Promise<Answer> {
    if (this.exited) return Promise.reject(new WorkerCrashedError('it had already exited'));
    const id = this.nextId++;
    return new Promise<Answer>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...message, id }, transfer);
    });
  }

  /** Stops the thread; whatever it still runs is rejected. Idempotent. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (!this.exited) await this.worker.terminate();
  }

  /** Ends the thread abruptly, as a crash would: the engine rejects its batch and replaces it (tests). */
  async kill(): Promise<void> {
    if (!this.exited) await this.worker.terminate();
  }

  private receive(message: WorkerResponse): void {
    if (message.type === 'loaded' || message.type === 'load-failed') {
      const loading = this.loading;
      this.loading = undefined;
      if (message.type === 'loaded') loading?.resolve(message.models);
      else loading?.reject(reviveError(message.error));
      return;
    }
    const pending = this.pending.get(message.id);
    if (!pending) return;
    this.pending.delete(message.id);
    if (message.type === 'failed') pending.reject(reviveError(message.error as SerializedError));
    else pending.resolve(message);
  }

  private exit(code: number): void {
    this.exited = true;
    const detail = this.stopping
      ? 'the engine stopped it'
      : this.lastError
        ? `${this.lastError.name}: ${this.lastError.message}`
        : `exit code ${code}`;
    const error = new WorkerCrashedError(detail, { cause: this.lastError });
    this.loading?.reject(error);
    this.loading = undefined;
    for (const { reject } of this.pending.values()) reject(error);
    this.pending.clear();
    if (!this.stopping) this.onExit(this, error);
  }
}
