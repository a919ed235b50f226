import { InvalidArgumentError } from '@imgcls/preprocess';
import type { EngineOptions, ModelSpec } from './types';

/** The engine's defaults, in one place; `createEngine` lays the caller's options over them. */
export const DEFAULT_ENGINE_OPTIONS: Readonly<Omit<EngineOptions, 'models' | 'modelStore'>> = {
  workers: 1,
  maxBatch: 32,
  maxWaitMs: 5,
  queue: 256,
  maxPixels: 50_000_000,
};

/** Valid ranges of the numeric options: [min, max, integer?]. */
const RANGES = {
  workers: [1, 64, true],
  maxBatch: [1, 1024, true],
  maxWaitMs: [0, 10_000, false],
  queue: [1, 1_000_000, true],
  maxPixels: [1, 1_000_000_000, true],
} as const satisfies Record<
  keyof typeof DEFAULT_ENGINE_OPTIONS,
  readonly [number, number, boolean]
>;

/** Ids are path segments of `/v1/models/{id}`. */
const MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * The caller's options over the defaults, checked.
 *
 * @throws InvalidArgumentError naming the option and its valid range.
 */
export function resolveEngineOptions(
  options: Partial<EngineOptions> & Pick<EngineOptions, 'models'>,
): EngineOptions {
  const resolved = { ...DEFAULT_ENGINE_OPTIONS };
  for (const [name, [min, max, integer]] of Object.entries(RANGES) as [
    keyof typeof RANGES,
    (typeof RANGES)[keyof typeof RANGES],
  ][]) {
    const value = options[name];
    if (value === undefined) continue;
    if (
      typeof value !== 'number' ||
      !Number.isFinite(value) ||
      (integer && !Number.isInteger(value)) ||
      value < min ||
      value > max
    )
      throw new InvalidArgumentError(
        `${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max.toLocaleString('en-US')}, got ${String(value)}.`,
      );
    resolved[name] = value;
  }
  return {
    ...resolved,
    models: checkModels(options.models),
    ...(options.modelStore !== undefined ? { modelStore: options.modelStore } : {}),
  };
}

function checkModels(models: unknown): readonly ModelSpec[] {
  if (!Array.isArray(models) || models.length === 0)
    throw new InvalidArgumentError(
      'models must list at least one model to serve, e.g. [{ reference: "cifar10" }].',
    );
  const ids = new Set<string>();
  return models.map((spec: unknown, index) => {
    const { reference, id } = (spec ?? {}) as { reference?: unknown; id?: unknown };
    if (typeof reference !== 'string' || reference.trim() === '')
      throw new InvalidArgumentError(
        `models[${index}].reference must be a registry id, a folder or a URL, got ${JSON.stringify(reference)}.`,
      );
    if (id !== undefined) {
      if (typeof id !== 'string' || !MODEL_ID.test(id))
        throw new InvalidArgumentError(
          `models[${index}].id must be 1 to 128 letters, digits, ".", "_" or "-" (starting with a letter or digit), got ${JSON.stringify(id)}.`,
        );
      if (ids.has(id))
        throw new InvalidArgumentError(
          `models[${index}].id "${id}" is served twice: give each model its own id.`,
        );
      ids.add(id);
    }
    return id === undefined ? { reference } : { reference, id };
  });
}
