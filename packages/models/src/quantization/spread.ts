/**
 * How unevenly a weight tensor's output channels are scaled: the largest channel's max |w| over the
 * median channel's. Channels are the last axis (dense `[in, out]`, conv `[h, w, in, out]`), or the
 * second-to-last when the last has size 1 (depthwise conv `[h, w, channels, 1]`). Rank-0/1 tensors
 * (biases) have no channels and give 1. An all-zero median with non-zero weights gives Infinity.
 */
export function channelSpread(values: Float32Array, shape: readonly number[]): number {
  const rank = shape.length;
  if (rank < 2) return 1;
  const axis = rank >= 3 && shape[rank - 1] === 1 ? rank - 2 : rank - 1;
  const channels = shape[axis] as number;
  if (channels < 2) return 1;
  const inner = shape.slice(axis + 1).reduce((product, dimension) => product * dimension, 1);
  const largest = new Float64Array(channels);
  for (let index = 0; index < values.length; index++) {
    const channel = Math.floor(index / inner) % channels;
    largest[channel] = Math.max(largest[channel] as number, Math.abs(values[index] as number));
  }
  const sorted = Array.from(largest).sort((a, b) => a - b);
  const highest = sorted[channels - 1] as number;
  const median = sorted[Math.floor(channels / 2)] as number;
  if (highest === 0) return 1;
  return median === 0 ? Number.POSITIVE_INFINITY : highest / median;
}
