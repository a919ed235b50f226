/** A learning-rate schedule: the rate at a 0-based optimizer step. */
export type Schedule = (step: number) => number;

/** The same rate at every step. */
export function constant(rate: number): Schedule {
  return () => rate;
}

/** Multiplies the rate by `gamma` every `stepSize` steps (PyTorch's StepLR). */
export function stepDecay(rate: number, stepSize: number, gamma = 0.1): Schedule {
  return (step) => rate * gamma ** Math.floor(step / stepSize);
}

/** Cosine annealing from `rate` to `minRate` over `totalSteps`, then `minRate`. */
export function cosine(rate: number, totalSteps: number, minRate = 0): Schedule {
  return (step) =>
    minRate +
    ((rate - minRate) * (1 + Math.cos((Math.PI * Math.min(step, totalSteps)) / totalSteps))) / 2;
}

/** Linear warm-up from 0 over `warmupSteps`, then `after` (shifted so it starts at its step 0). */
export function warmup(warmupSteps: number, after: Schedule): Schedule {
  return (step) =>
    step < warmupSteps ? (after(0) * (step + 1)) / warmupSteps : after(step - warmupSteps);
}

/**
 * One-cycle (Smith & Topin 2019), as PyTorch's OneCycleLR with cosine annealing: from maxRate/divFactor up
 * to maxRate over the first `pctStart` of the steps, then down to maxRate/(divFactor·finalDivFactor).
 */
export function oneCycle(
  maxRate: number,
  totalSteps: number,
  options: { pctStart?: number; divFactor?: number; finalDivFactor?: number } = {},
): Schedule {
  const { pctStart = 0.3, divFactor = 25, finalDivFactor = 1e4 } = options;
  const initial = maxRate / divFactor;
  const final = initial / finalDivFactor;
  const peakStep = Math.max(1, Math.round(pctStart * totalSteps) - 1);
  const anneal = (from: number, to: number, fraction: number) =>
    to + ((from - to) * (1 + Math.cos(Math.PI * Math.min(1, fraction)))) / 2;
  return (step) =>
    step <= peakStep
      ? anneal(initial, maxRate, step / peakStep)
      : anneal(maxRate, final, (step - peakStep) / Math.max(1, totalSteps - 1 - peakStep));
}

/**
 * airbench's triangle: linear from `start`·rate at step 0 up to `rate` at `peakAt` of the steps, then
 * linear down to `end`·rate at `totalSteps` (and `end`·rate after).
 */
export function triangular(
  rate: number,
  totalSteps: number,
  options: { start?: number; end?: number; peakAt?: number } = {},
): Schedule {
  const { start = 0.2, end = 0.07, peakAt = 0.23 } = options;
  const peakStep = Math.max(1, Math.floor(peakAt * totalSteps));
  return (step) =>
    step <= peakStep
      ? rate * (start + ((1 - start) * step) / peakStep)
      : rate *
        (1 + (end - 1) * Math.min(1, (step - peakStep) / Math.max(1, totalSteps - peakStep)));
}
