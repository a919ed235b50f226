import { ImgclsError } from '@imgcls/preprocess';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';

/** Runs the package's tests on the wasm backend, as users in Node do. */
export async function useWasm(): Promise<void> {
  await tf.setBackend('wasm');
}

/** The imgcls error a promise rejects with (the test fails if it resolves or throws anything else). */
export async function caught(
  promise: Promise<unknown>,
): Promise<ImgclsError & Record<string, unknown>> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(ImgclsError.isInstance(error), String(error)).toBe(true);
  return error as ImgclsError & Record<string, unknown>;
}
