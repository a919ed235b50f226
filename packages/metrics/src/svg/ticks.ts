/**
 * Axis ticks at round numbers covering [min, max]: about `target` intervals, 1, 2 or 5 times a power of
 * ten apart, from the last tick at or below `min` to the first at or above `max`. A chart spans its axis
 * from the first tick to the last, so its labels read 0, 0.5, 1, 1.5 rather than quarters of the data's
 * range (0.427, 0.854…). An empty range (`max <= min`) is taken as [min, min + 1].
 */
export function niceTicks(min: number, max: number, target = 5): number[] {
  const top = max > min ? max : min + 1;
  const rough = (top - min) / target;
  const power = 10 ** Math.floor(Math.log10(rough));
  // The tolerance keeps a step that floating point puts a hair below `rough` (0.1 * 3 vs 0.3).
  const step =
    [1, 2, 5].map((multiple) => multiple * power).find((s) => s >= rough * (1 - 1e-9)) ??
    10 * power;
  const first = Math.floor(min / step + 1e-9);
  const last = Math.max(Math.ceil(top / step - 1e-9), first + 1);
  const ticks: number[] = [];
  // Rounded to 12 significant digits: 0.1 * 3 prints as 0.3, not 0.30000000000000004.
  for (let index = first; index <= last; index++)
    ticks.push(Number((index * step).toPrecision(12)));
  return ticks;
}
