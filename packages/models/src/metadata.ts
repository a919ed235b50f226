import {
  type PreprocessPreset,
  TEST_TIME_AUGMENTATIONS,
  type TestTimeAugmentation,
  validatePreset,
} from '@imgcls/preprocess/core';
import { InvalidMetadataError, LabelMismatchError } from './errors';

/** The file name metadata is stored under, beside `model.json`. */
export const METADATA_FILE = 'metadata.json';

/**
 * What travels with every model as `metadata.json`: how to feed it (preset), how to read its output
 * (labels, background class, logits or probabilities) and where it came from.
 */
export interface ModelMetadata {
  /** Version of this schema. */
  readonly schemaVersion: 1;
  /** Registry id or another stable name, e.g. `cifar10-resnet9`. */
  readonly id: string;
  /** Human-readable name. */
  readonly name: string;
  /** Version of the weights (semver or a date). */
  readonly version: string;
  /** TF.js artefact format of `model.json`. */
  readonly format: 'layers-model' | 'graph-model';
  /** Architecture name, e.g. `mobilenetv2`, `resnet9`, `seedcnn`. */
  readonly architecture?: string;
  /** Class names by output index (after the background class, when there is one). */
  readonly labels: readonly string[];
  /** True when output 0 is a background class that `labels` does not list (TF-slim ImageNet models: 1001 outputs). */
  readonly backgroundClass?: boolean;
  /** Whether the model's output is already a probability distribution or raw logits. */
  readonly output: 'probabilities' | 'logits';
  /** How inputs must be prepared: the same preset in training and serving. */
  readonly preset: PreprocessPreset;
  /**
   * Views whose predictions serving averages by default (see `@imgcls/preprocess`'s `testTimeViews`):
   * set when the reported test accuracy was measured that way. Callers may turn it off.
   */
  readonly testTimeAugmentation?: TestTimeAugmentation;
  /** Layer (layers models) or node (graph models) whose output is the image embedding. */
  readonly embeddingLayer?: string;
  /** SHA-256 (hex) of the concatenated weight files, for verification. */
  readonly weightsSha256?: string;
  readonly license?: string;
  /** Where the weights come from (URL, paper, training command). */
  readonly source?: string;
  /** Measured metrics, e.g. `{ "cifar10-test-accuracy": 0.93 }`. */
  readonly metrics?: Readonly<Record<string, number>>;
  /** Present when the weights are stored quantised (TF.js dequantises them while loading). */
  readonly quantization?: QuantizationRecord;
}

/** How a model's weights were quantised, and from which float model. */
export interface QuantizationRecord {
  /** Storage of the float32 weights: `uint8` (per-tensor affine codes) or `float16` (IEEE half). */
  readonly dtype: 'uint8' | 'float16';
  /** The float model quantised: its id and version. */
  readonly from: { readonly id: string; readonly version: string };
  /** Bytes of weight data before and after quantisation. */
  readonly weightBytes: { readonly before: number; readonly after: number };
  /** uint8 only: weights stored as float16 instead, because their channels are too uneven for one scale. */
  readonly float16Fallback?: readonly string[];
}

const FORMATS = ['layers-model', 'graph-model'] as const;
const OUTPUTS = ['probabilities', 'logits'] as const;

/**
 * Validates untrusted `metadata.json` content and returns it typed.
 *
 * @throws InvalidMetadataError naming the first field that is missing or wrong.
 */
export function parseModelMetadata(value: unknown): ModelMetadata {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidMetadataError('metadata.json must hold a JSON object.');
  }
  const record = value as Record<string, unknown>;
  const requireString = (field: string) => {
    if (typeof record[field] !== 'string' || (record[field] as string).length === 0) {
      throw new InvalidMetadataError(`metadata.json: "${field}" must be a non-empty string.`);
    }
  };
  if (record.schemaVersion !== 1) {
    throw new InvalidMetadataError(
      `metadata.json: "schemaVersion" must be 1, got ${JSON.stringify(record.schemaVersion)}.`,
    );
  }
  for (const field of ['id', 'name', 'version']) requireString(field);
  if (!FORMATS.includes(record.format as (typeof FORMATS)[number])) {
    throw new InvalidMetadataError(`metadata.json: "format" must be one of ${FORMATS.join(', ')}.`);
  }
  if (!OUTPUTS.includes(record.output as (typeof OUTPUTS)[number])) {
    throw new InvalidMetadataError(`metadata.json: "output" must be one of ${OUTPUTS.join(', ')}.`);
  }
  const labels = record.labels;
  if (
    !Array.isArray(labels) ||
    labels.length === 0 ||
    labels.some((label) => typeof label !== 'string')
  ) {
    throw new InvalidMetadataError('metadata.json: "labels" must be a non-empty array of strings.');
  }
  if (record.backgroundClass !== undefined && typeof record.backgroundClass !== 'boolean') {
    throw new InvalidMetadataError('metadata.json: "backgroundClass" must be true or false.');
  }
  if (
    record.testTimeAugmentation !== undefined &&
    !TEST_TIME_AUGMENTATIONS.includes(record.testTimeAugmentation as TestTimeAugmentation)
  ) {
    throw new InvalidMetadataError(
      `metadata.json: "testTimeAugmentation" must be one of ${TEST_TIME_AUGMENTATIONS.join(', ')}.`,
    );
  }
  try {
    validatePreset(record.preset);
  } catch (error) {
    throw new InvalidMetadataError(
      `metadata.json: "preset" is invalid: ${(error as Error).message}`,
      { cause: error },
    );
  }
  for (const field of ['architecture', 'embeddingLayer', 'weightsSha256', 'license', 'source']) {
    if (record[field] !== undefined) requireString(field);
  }
  if (
    record.weightsSha256 !== undefined &&
    !/^[0-9a-f]{64}$/.test(record.weightsSha256 as string)
  ) {
    throw new InvalidMetadataError(
      'metadata.json: "weightsSha256" must be 64 lowercase hex digits.',
    );
  }
  const metrics = record.metrics;
  if (
    metrics !== undefined &&
    (typeof metrics !== 'object' ||
      metrics === null ||
      Array.isArray(metrics) ||
      Object.values(metrics).some((measured) => !Number.isFinite(measured)))
  ) {
    throw new InvalidMetadataError(
      'metadata.json: "metrics" must map metric names to finite numbers, e.g. {"cifar10-test-accuracy": 0.93}.',
    );
  }
  if (record.quantization !== undefined) checkQuantization(record.quantization);
  return record as unknown as ModelMetadata;
}

function checkQuantization(value: unknown): void {
  const record = value as Partial<Record<string, Record<string, unknown>>> & { dtype?: unknown };
  const isText = (text: unknown) => typeof text === 'string' && text.length > 0;
  const isBytes = (count: unknown) => Number.isInteger(count) && (count as number) >= 0;
  const valid =
    typeof value === 'object' &&
    value !== null &&
    (record.dtype === 'uint8' || record.dtype === 'float16') &&
    isText(record.from?.id) &&
    isText(record.from?.version) &&
    isBytes(record.weightBytes?.before) &&
    isBytes(record.weightBytes?.after) &&
    (record.float16Fallback === undefined ||
      (Array.isArray(record.float16Fallback) && record.float16Fallback.every(isText)));
  if (!valid)
    throw new InvalidMetadataError(
      'metadata.json: "quantization" must be {"dtype": "uint8" | "float16", "from": {"id", "version"}, "weightBytes": {"before", "after"}, "float16Fallback"?: [names]}.',
    );
}

/**
 * Checks that the labels account for every output unit: equal counts, or one more output than labels
 * when the metadata declares a background class.
 *
 * @throws LabelMismatchError otherwise.
 */
export function checkLabelCount(
  outputUnits: number,
  metadata: Pick<ModelMetadata, 'labels' | 'backgroundClass'>,
): void {
  const expected = metadata.labels.length + (metadata.backgroundClass ? 1 : 0);
  if (outputUnits !== expected) throw new LabelMismatchError(metadata.labels.length, outputUnits);
}
