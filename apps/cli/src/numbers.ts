import { UsageError } from './errors';

/** Parses a flag that must be a whole number ≥ `min` (default 1). @throws UsageError naming the flag. */
export function positiveInteger(value: string, flag: string, min = 1): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min)
    throw new UsageError(`${flag} must be an integer of at least ${min}, got "${value}"`);
  return parsed;
}
