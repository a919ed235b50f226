import { Worker } from 'node:worker_threads';
import { WasmGradError } from '../errors';
import {
  KERNEL_FUNCTIONS,
  type ProductHelper,
  productKernel,
  setProductHelpers,
} from './reduction-product';

/**
 * Control words shared with a helper: the job posted, the job done, its outcome, which function, how
 * many arguments, and up to 15 of them.
 */
const POSTED = 0;
const DONE = 1;
const FAILED = 2;
const FUNCTION = 3;
const COUNT = 4;
const ARGUMENTS = 5;
const CONTROL_WORDS = ARGUMENTS + 15;
/** Longer than any part of a product takes (they are bounded to 32 MB of operands): a lost thread. */
const JOB_TIMEOUT_MS = 120_000;

// The helper instantiates the kernel over the caller's shared memory, then runs what it is posted.
// Evaluated by worker_threads as CommonJS or as an ES module (workers inherit --input-type), hence the
// dynamic import, valid in both; execArgv is not inherited, so no loader of the parent's runs here.
const HELPER_SOURCE = `
import('node:worker_threads').then(({ parentPort, workerData }) => {
  const { module, memory, control } = workerData;
  const words = new Int32Array(control);
  const { exports } = new WebAssembly.Instance(module, { env: { memory } });
  const functions = ${JSON.stringify(KERNEL_FUNCTIONS)}.map((name) => exports[name]);
  parentPort.postMessage('ready');
  let seen = 0;
  for (;;) {
    Atomics.wait(words, ${POSTED}, seen);
    seen = Atomics.load(words, ${POSTED});
    try {
      functions[words[${FUNCTION}]](...words.subarray(${ARGUMENTS}, ${ARGUMENTS} + words[${COUNT}]));
      words[${FAILED}] = 0;
    } catch {
      words[${FAILED}] = 1;
    }
    Atomics.store(words, ${DONE}, seen);
    Atomics.notify(words, ${DONE});
  }
});
`;

/** The worker threads behind the helpers in use. */
let workers: Worker[] = [];

/**
 * Starts `count` Node worker threads that take shares of the SIMD kernel's calls (see
 * `ReductionProduct` and `WinogradConvolution`), stopping any started before; 0 stops using helpers. The workers are
 * unreferenced, so they never keep the process alive. Without shared WebAssembly memory (or SIMD) it
 * starts none. Returns the helpers it started.
 */
export async function startProductHelpers(count: number): Promise<readonly ProductHelper[]> {
  stopHelpers();
  const kernel = productKernel();
  if (!kernel?.shared || count === 0) return [];
  const started = await Promise.all(
    Array.from({ length: count }, () => startHelper(kernel.module, kernel.memory)),
  );
  setProductHelpers(started);
  return started;
}

/** Products run on the calling thread alone from now on; the workers end. */
function stopHelpers(): void {
  setProductHelpers([]);
  for (const worker of workers) void worker.terminate();
  workers = [];
}

async function startHelper(
  module: WebAssembly.Module,
  memory: WebAssembly.Memory,
): Promise<ProductHelper> {
  const control = new SharedArrayBuffer(CONTROL_WORDS * 4);
  const words = new Int32Array(control);
  const worker = new Worker(HELPER_SOURCE, {
    eval: true,
    execArgv: [],
    workerData: { module, memory, control },
  });
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
  });
  worker.unref();
  workers.push(worker);
  let posted = 0;
  return {
    start(name, args) {
      words[FUNCTION] = KERNEL_FUNCTIONS.indexOf(name);
      words[COUNT] = args.length;
      words.set(args, ARGUMENTS);
      posted++;
      Atomics.store(words, POSTED, posted);
      Atomics.notify(words, POSTED);
    },
    finish() {
      const deadline = Date.now() + JOB_TIMEOUT_MS;
      for (
        let done = Atomics.load(words, DONE);
        done !== posted;
        done = Atomics.load(words, DONE)
      ) {
        if (
          Date.now() > deadline ||
          Atomics.wait(words, DONE, done, JOB_TIMEOUT_MS) === 'timed-out'
        )
          throw failure('did not answer in 2 minutes');
      }
      if (words[FAILED]) throw failure('failed');
    },
  };
}

/** The error of a failed share; the helpers are stopped, so later products run on one thread. */
function failure(what: string): WasmGradError {
  stopHelpers();
  return new WasmGradError(
    'KERNEL_THREAD_FAILED',
    `A helper thread of the SIMD convolution kernel ${what}; its helpers are stopped and later convolutions and gradients run on one thread.`,
  );
}
