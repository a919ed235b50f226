import * as tf from '@tensorflow/tfjs-core';
import { BackendUnavailableError } from './errors';
import { IS_NODE } from './platform';

/** Backends loadClassifier can choose from, or `'auto'`. */
export type BackendChoice = 'auto' | 'tensorflow' | 'wasm' | 'webgl' | 'webgpu' | 'cpu';

/**
 * Imports an optional package by a name bundlers and the type checker do not follow: the native
 * backends are optional peers that are usually not installed, and must never be bundled for browsers.
 */
function importOptional(specifier: string): Promise<unknown> {
  return import(/* webpackIgnore: true */ /* @vite-ignore */ specifier);
}

/** Importers for the optional backend packages; each registers its backend as a side effect. */
const BACKEND_MODULES: Record<Exclude<BackendChoice, 'auto'>, () => Promise<unknown>> = {
  // tfjs-node-gpu registers the same 'tensorflow' backend name as tfjs-node; prefer the GPU build.
  tensorflow: () =>
    importOptional('@tensorflow/tfjs-node-gpu').catch(() =>
      importOptional('@tensorflow/tfjs-node'),
    ),
  wasm: () => import('@tensorflow/tfjs-backend-wasm'),
  webgl: () => import('@tensorflow/tfjs-backend-webgl'),
  webgpu: () =>
    Promise.reject(new Error('install and import @tensorflow/tfjs-backend-webgpu yourself')),
  cpu: () => import('@tensorflow/tfjs-backend-cpu'),
};

/** The order `'auto'` tries: native TensorFlow in Node when installed, else wasm; GPUs first in browsers. */
export const AUTO_ORDER: Readonly<
  Record<'node' | 'browser', readonly Exclude<BackendChoice, 'auto'>[]>
> = {
  node: ['tensorflow', 'wasm'],
  browser: ['webgpu', 'webgl', 'wasm'],
};

/** Options of {@link selectBackend}. */
export interface BackendOptions {
  /**
   * XNNPACK threads for the wasm backend in Node.js, the calling thread included (1–8), or `'auto'` for
   * every available core (at most 8). Default 1, tfjs' stock single-threaded backend. Threads only take
   * effect when this call is the one that initialises wasm; afterwards the count is fixed. On a machine
   * with free cores this project measured MobileNetV2-224 1.7–1.9x faster with 2 threads, and
   * training 1.5x; on cores busy with other work, threads can be slower. Browsers ignore it (tfjs decides there,
   * and only on cross-origin-isolated pages).
   */
  readonly threads?: number | 'auto';
}

/**
 * The wasm backend's thread count in Node, where this package starts it; undefined in browsers, whose
 * bundles may hold a second copy of tfjs-backend-wasm that never initialised (it throws there).
 */
export async function wasmThreadCount(): Promise<number | undefined> {
  if (!IS_NODE) return undefined;
  try {
    return (await import('@tensorflow/tfjs-backend-wasm')).getThreadsCount();
  } catch {
    return undefined;
  }
}

/** Starts wasm with XNNPACK threads in Node through @imgcls/wasm-grad/node, kept out of browser bundles. */
async function activateThreadedWasm(threads: number | 'auto'): Promise<boolean> {
  const { setWasmBackendWithThreads } = (await importOptional(
    '@imgcls/wasm-grad/node',
  )) as typeof import('@imgcls/wasm-grad/node');
  await setWasmBackendWithThreads(threads === 'auto' ? {} : { threads });
  return true;
}

/** Backend starts under way, by name: tfjs names a backend before its asynchronous start finishes. */
const starting = new Map<string, Promise<boolean>>();

/**
 * Starts a backend once however many loads ask at the same time: a second `setBackend` while the first
 * is still initialising drops it ("not yet been initialized"), so concurrent callers share one start.
 */
function activate(name: Exclude<BackendChoice, 'auto'>, options: BackendOptions): Promise<boolean> {
  const pending = starting.get(name);
  if (pending) return pending;
  const start = startBackend(name, options).finally(() => starting.delete(name));
  starting.set(name, start);
  return start;
}

async function startBackend(
  name: Exclude<BackendChoice, 'auto'>,
  options: BackendOptions,
): Promise<boolean> {
  if (tf.getBackend() === name) {
    await tf.ready();
    return true;
  }
  const threads = options.threads ?? 1;
  // The registry, not tf.findBackend: that would start the stock single-threaded wasm.
  if (name === 'wasm' && IS_NODE && threads !== 1 && !('wasm' in tf.engine().registry)) {
    // A bad thread count is the caller's error, not an unavailable backend: let it through.
    return activateThreadedWasm(threads);
  }
  if (!tf.engine().registryFactory[name]) {
    try {
      await BACKEND_MODULES[name]();
    } catch {
      return false;
    }
  }
  try {
    return await tf.setBackend(name);
  } catch {
    return false;
  }
}

/**
 * Makes a TensorFlow.js backend active and returns its name: the caller's choice, or with `'auto'` the
 * first that works of {@link AUTO_ORDER}. Called once when a classifier loads, never inside `classify`.
 *
 * @throws BackendUnavailableError when the requested backend (or, for auto, every candidate) fails.
 * @throws WasmGradError `INVALID_ARGUMENT` for a thread count outside 1–8.
 */
export async function selectBackend(
  choice: BackendChoice = 'auto',
  options: BackendOptions = {},
): Promise<string> {
  const candidates = choice === 'auto' ? AUTO_ORDER[IS_NODE ? 'node' : 'browser'] : [choice];
  for (const candidate of candidates) {
    if (await activate(candidate, options)) return candidate;
  }
  throw new BackendUnavailableError(
    choice,
    choice === 'auto'
      ? `No TensorFlow.js backend could start (tried ${candidates.join(', ')}): install @tensorflow/tfjs-backend-wasm.`
      : `The ${choice} backend could not start: install its package (e.g. @tensorflow/tfjs-backend-${choice}) or choose another.`,
  );
}
