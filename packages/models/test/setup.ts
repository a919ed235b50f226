import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';

/** Runs the package's tests on the wasm backend, as users in Node do. */
export async function useWasm(): Promise<void> {
  await tf.setBackend('wasm');
}
