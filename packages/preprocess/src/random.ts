import { InvalidArgumentError } from './errors';

/** A source of uniform random numbers in [0, 1). */
export type Random = () => number;

/**
 * A seeded generator (mulberry32) over a 32-bit state: the same state always yields the same sequence, on
 * every platform, with no global state. Training derives one per batch from (seed, step), so a resumed run
 * draws exactly what the uninterrupted run drew.
 */
export function seededRandom(state: number): Random {
  let current = state >>> 0;
  return () => {
    current = (current + 0x6d2b79f5) >>> 0;
    let t = current;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Mixes integers (a seed, a step, an index…) into one 32-bit generator state (murmur3-style finaliser). */
export function hashSeed(...parts: readonly number[]): number {
  let hash = 0x811c9dc5;
  for (const part of parts) {
    hash = Math.imul(hash ^ (part | 0), 0x01000193);
    hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
    hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35);
    hash ^= hash >>> 16;
  }
  return hash >>> 0;
}

/** A standard normal sample (Box–Muller). */
function normal(random: Random): number {
  const radius = Math.sqrt(-2 * Math.log(1 - random()));
  return radius * Math.cos(2 * Math.PI * random());
}

/** A Gamma(shape, 1) sample: Marsaglia–Tsang, boosted as Gamma(shape + 1)·U^(1/shape) for shape < 1. */
function gamma(shape: number, random: Random): number {
  if (shape < 1) return gamma(shape + 1, random) * (1 - random()) ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normal(random);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - random();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

/**
 * A Beta(alpha, alpha) sample in (0, 1), as mixup and cutmix draw their mixing weight.
 *
 * @throws InvalidArgumentError when alpha is not positive.
 */
export function sampleBeta(alpha: number, random: Random): number {
  if (!(alpha > 0)) throw new InvalidArgumentError(`Beta alpha must be positive, got ${alpha}.`);
  const x = gamma(alpha, random);
  const y = gamma(alpha, random);
  return x + y > 0 ? x / (x + y) : 0.5;
}
