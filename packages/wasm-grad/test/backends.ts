import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core alone registers no gradients; the union package @tensorflow/tfjs does, as in users' apps.
import '@tensorflow/tfjs';

/** Deterministic values in [-1, 1) (mulberry32), so every backend gets the same inputs. */
export function randomValues(count: number, seed: number): Float32Array {
  let state = seed >>> 0;
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    values[i] = ((t ^ (t >>> 14)) >>> 0) / 2 ** 31 - 1;
  }
  return values;
}

/**
 * Runs `compute` on a backend and returns its result's values. Inputs must be created inside
 * `compute`, on the active backend: moving tensors between backends can reinterpret their bytes.
 */
export async function valuesOn(
  backendName: 'cpu' | 'wasm',
  compute: () => tf.Tensor,
): Promise<Float32Array> {
  await tf.setBackend(backendName);
  const result = tf.tidy(compute);
  const values = (await result.data()) as Float32Array;
  result.dispose();
  return values;
}

/** Largest absolute difference, and that difference relative to the reference's largest magnitude. */
export function maxErrors(
  actual: Float32Array,
  expected: Float32Array,
): { absolute: number; relative: number } {
  let absolute = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    absolute = Math.max(absolute, Math.abs((actual[i] as number) - (expected[i] as number)));
    scale = Math.max(scale, Math.abs(expected[i] as number));
  }
  return { absolute, relative: scale > 0 ? absolute / scale : absolute };
}
