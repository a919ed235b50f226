import { getKernelsForBackend, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';

/** Milliseconds and calls per kernel, for kernels the engine called (not kernels they call inside). */
export type KernelTimes = Map<string, { milliseconds: number; calls: number }>;

/**
 * Wraps every kernel registered for `backendName` with a wall-clock timer and returns the table it
 * fills. Time spent inside a kernel that calls others (the composed gradients) is counted once, for
 * the outer kernel. For benchmarks only: re-registers kernels, so call it after all registration.
 */
export function profileKernels(backendName: string): KernelTimes {
  const times: KernelTimes = new Map();
  let depth = 0;
  for (const config of getKernelsForBackend(backendName)) {
    const kernelFunc = config.kernelFunc;
    unregisterKernel(config.kernelName, backendName);
    registerKernel({
      ...config,
      kernelFunc: (args) => {
        depth++;
        const started = performance.now();
        try {
          return kernelFunc(args);
        } finally {
          depth--;
          if (depth === 0) {
            const entry = times.get(config.kernelName) ?? { milliseconds: 0, calls: 0 };
            entry.milliseconds += performance.now() - started;
            entry.calls++;
            times.set(config.kernelName, entry);
          }
        }
      },
    });
  }
  return times;
}

/** The `top` most expensive kernels per step, with their share of all kernel time. */
export function formatKernelTimes(times: KernelTimes, steps: number, top = 12): string {
  const rows = [...times.entries()].sort((a, b) => b[1].milliseconds - a[1].milliseconds);
  const total = rows.reduce((sum, [, entry]) => sum + entry.milliseconds, 0);
  return rows
    .slice(0, top)
    .map(
      ([name, entry]) =>
        `  ${name.padEnd(36)} ${(entry.milliseconds / steps).toFixed(1).padStart(9)} ms/step ${((100 * entry.milliseconds) / total).toFixed(1).padStart(5)}%  ${String(entry.calls / steps).padStart(4)} calls`,
    )
    .join('\n');
}
