import { type ClassifierInfo, selectBackend } from '@imgcls/classifier';
import { UsageError } from './errors';

/**
 * XNNPACK threads for the wasm backend, from `--threads` or IMGCLS_THREADS; every core by default,
 * since a command-line run usually has the machine to itself (busy cores make threads slower: lower it).
 */
let threads: number | 'auto' = 'auto';

/** Records the thread setting before a command runs. @throws UsageError for a value other than 1–8 or auto. */
export function setThreads(value: string | undefined): void {
  if (value === undefined || value === 'auto') {
    threads = 'auto';
    return;
  }
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1 || parsed > 8)
    throw new UsageError(`--threads must be auto or an integer from 1 to 8, got "${value}"`);
  threads = parsed;
}

/**
 * Starts the backend every TF.js command runs on, once: native TensorFlow when installed, else wasm with
 * the recorded threads. Later loadClassifier calls find it active and keep it.
 */
export function startBackend(): Promise<string> {
  return selectBackend('auto', { threads });
}

/** The backend as reports name it: `wasm (2 threads)`, or just its name where threads are unknown. */
export function backendLabel(info: Pick<ClassifierInfo, 'backend' | 'threads'>): string {
  if (!info.threads) return info.backend;
  return `${info.backend} (${info.threads} thread${info.threads > 1 ? 's' : ''})`;
}
