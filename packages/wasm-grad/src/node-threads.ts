import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { getThreadsCount, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { engine, env, findBackend, setBackend } from '@tensorflow/tfjs-core';
import { WasmGradError } from './errors';
import { startProductHelpers } from './simd/node-helpers';

/** Options of {@link setWasmBackendWithThreads}. */
export interface WasmThreadsOptions {
  /**
   * Threads XNNPACK and this package's SIMD kernel (filter gradients, Winograd convolutions) may use, the calling thread included: an
   * integer from 1 to 8 (tfjs' build pre-spawns 8 workers). Default: the machine's available
   * parallelism, at most 8.
   */
  readonly threads?: number;
}

/** What {@link setWasmBackendWithThreads} set up. */
export interface WasmThreadsReport {
  /** Threads the wasm backend's XNNPACK pool actually has (1 means single-threaded). */
  readonly threads: number;
}

const MAX_THREADS = 8;

/**
 * Initialises TF.js' `wasm` backend **with threads in Node.js** and makes it the active backend.
 * tfjs-backend-wasm 4.x turns threads off in Node (tfjs #3830): its thread workers are started from
 * `blob:` URLs, which Node's `worker_threads` rejects (`ERR_WORKER_PATH`), and its pool is capped at
 * half the logical CPUs. This function, only while the backend initialises, writes the worker script
 * to a temporary file and hands that path out instead of the `blob:` URL, reports `threads × 2` CPUs
 * to the cap, and enables the threaded SIMD binary; the patched globals are restored before it
 * returns. The worker threads are unreferenced, so they never keep the process alive.
 *
 * Only XNNPACK operators (convolutions, matrix products, some element-wise ops) run on the pool; this
 * package's SIMD kernel gets threads − 1 helper threads of its own over a shared WebAssembly memory. In
 * this project's measurements they sped training steps up by the factors given in the package README.
 * Opt-in and explicit: importing `@imgcls/wasm-grad/node` does nothing. Call it instead of
 * `tf.setBackend('wasm')`, before anything initialises the wasm backend; in browsers use tfjs'
 * own `setThreadsCount` on a cross-origin-isolated page instead.
 *
 * @throws WasmGradError `INVALID_ARGUMENT` for a thread count outside 1–8,
 *   `WASM_BACKEND_ALREADY_INITIALIZED` when the wasm backend already exists (threads are fixed at
 *   initialisation), `WASM_THREADS_UNAVAILABLE` when the threaded backend fails to start.
 */
export async function setWasmBackendWithThreads(
  options: WasmThreadsOptions = {},
): Promise<WasmThreadsReport> {
  const threads = options.threads ?? Math.min(MAX_THREADS, os.availableParallelism());
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) {
    throw new WasmGradError(
      'INVALID_ARGUMENT',
      `threads must be an integer from 1 to ${MAX_THREADS}, got ${threads}.`,
    );
  }
  // Not findBackend('wasm'): for a registered but unstarted backend it starts the stock one.
  if ('wasm' in engine().registry) {
    throw new WasmGradError(
      'WASM_BACKEND_ALREADY_INITIALIZED',
      'The wasm backend is already initialised, and its thread count cannot change. Call setWasmBackendWithThreads() before tf.setBackend("wasm"), tf.ready() or any tensor operation.',
    );
  }
  if (threads === 1) {
    await activateWasm();
    await startProductHelpers(0);
    return { threads: getThreadsCount() };
  }

  const require = createRequire(import.meta.url);
  const packageDirectory = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  const factoryPath = join(packageDirectory, 'wasm-out/tfjs-backend-wasm-threaded-simd.js');
  const { wasmWorkerContents } = require(
    join(packageDirectory, 'wasm-out/tfjs-backend-wasm-threaded-simd.worker.js'),
  ) as { wasmWorkerContents: string };
  const workerDirectory = mkdtempSync(join(os.tmpdir(), 'imgcls-wasm-threads-'));
  const workerPath = join(workerDirectory, 'worker.cjs');
  // Inside a worker the backend's main script arrives as a Blob that it loads through a blob: URL;
  // the same script is on disk, so the worker is pointed there. Newlines are escaped as tfjs does
  // before it makes its own worker Blob.
  writeFileSync(
    workerPath,
    `URL.createObjectURL = () => ${JSON.stringify(factoryPath)}; URL.revokeObjectURL = () => {};\n${wasmWorkerContents.replace(/\n/g, '\\n')}`,
  );

  const createObjectURL = URL.createObjectURL;
  const cpus = os.cpus;
  env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  setThreadsCount(threads);
  URL.createObjectURL = (blob: Blob) =>
    blob.type === 'application/javascript' ? workerPath : createObjectURL(blob);
  os.cpus = () => {
    const list = cpus();
    return Array.from(
      { length: 2 * threads },
      (_, index) => list[index % list.length] as os.CpuInfo,
    );
  };
  try {
    await activateWasm();
  } catch (error) {
    env().set('WASM_HAS_MULTITHREAD_SUPPORT', false); // tfjs' own value in Node
    throw new WasmGradError(
      'WASM_THREADS_UNAVAILABLE',
      'The threaded wasm backend did not start; call tf.setBackend("wasm") for the single-threaded one.',
      { cause: error },
    );
  } finally {
    URL.createObjectURL = createObjectURL;
    os.cpus = cpus;
    // All workers are spawned (and have read the file) while the backend initialises.
    rmSync(workerDirectory, { recursive: true, force: true });
  }
  unrefWorkers();
  await startProductHelpers(getThreadsCount() - 1);
  return { threads: getThreadsCount() };
}

async function activateWasm(): Promise<void> {
  if (!(await setBackend('wasm')))
    throw new WasmGradError(
      'WASM_THREADS_UNAVAILABLE',
      'The wasm backend did not start (tf.setBackend("wasm") returned false): check that @tensorflow/tfjs-backend-wasm and its .wasm files are installed.',
    );
}

interface EmscriptenThreads {
  PThread?: { unusedWorkers: Array<{ unref(): void }>; runningWorkers: Array<{ unref(): void }> };
}

/** Lets the process exit while the pool's workers idle (Emscripten keeps them referenced). */
function unrefWorkers(): void {
  const module = (findBackend('wasm') as unknown as { wasm?: EmscriptenThreads } | null)?.wasm;
  const pool = module?.PThread;
  if (!pool) return;
  for (const worker of [...pool.unusedWorkers, ...pool.runningWorkers]) worker.unref();
}
