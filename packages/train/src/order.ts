import { seededRandom } from '@imgcls/preprocess';

// Shuffles that are not an epoch's draw from negative "epochs", one each, so no two share a stream.
/** The stream of the seeded train/validation split. */
export const SPLIT_STREAM = -1;
/** The stream of the sample of images airbench's whitening is computed from. */
export const WHITENING_STREAM = -2;

/**
 * The order of the examples in an epoch: a Fisher-Yates shuffle driven by a generator seeded from
 * (seed, epoch) alone, so an interrupted run recomputes exactly the order it was in.
 */
export function epochOrder(size: number, seed: number, epoch: number): Int32Array {
  const next = seededRandom(
    Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(epoch + 1, 0xc2b2ae35),
  );
  const order = Int32Array.from({ length: size }, (_, index) => index);
  for (let i = size - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  return order;
}
