import type { ModelMetadata } from '../metadata';
import type { QuantizedArtifacts } from './artifacts';

/**
 * The metadata of a quantised copy of a model: same labels and preset, a new id (default
 * `<id>-<dtype>`), a `quantization` record, and without the source's `metrics` and `weightsSha256`,
 * which describe the float weights (measure the quantised model and record its own).
 */
export function quantizedMetadata(
  source: ModelMetadata,
  result: Pick<QuantizedArtifacts, 'dtype' | 'weightBytes'> &
    Partial<Pick<QuantizedArtifacts, 'float16Fallback'>>,
  id = `${source.id}-${result.dtype}`,
): ModelMetadata {
  const { metrics: _metrics, weightsSha256: _weightsSha256, ...kept } = source;
  return {
    ...kept,
    id,
    name: `${source.name} (${result.dtype} weights)`,
    quantization: {
      dtype: result.dtype,
      from: { id: source.id, version: source.version },
      weightBytes: result.weightBytes,
      ...(result.float16Fallback?.length ? { float16Fallback: result.float16Fallback } : {}),
    },
  };
}
