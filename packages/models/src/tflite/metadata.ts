import { LabelMismatchError } from '../errors';
import type { ModelMetadata } from '../metadata';
import type { ImportedTflite } from './import';

/** Labels from a text file, one per line (blank lines ignored), as TFLite classification models ship them. */
export function parseLabelsFile(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

/**
 * The `metadata.json` of an imported TFLite classifier: its input range becomes the preprocessing preset
 * (centre crop, as TFLite's reference pipelines do), a leading `background` label becomes
 * `backgroundClass`, and a final SOFTMAX means the output is already probabilities.
 *
 * @throws LabelMismatchError when the labels do not account for the output units.
 */
export function tfliteMetadata(
  imported: ImportedTflite,
  options: {
    readonly id: string;
    readonly name?: string;
    readonly labels: readonly string[];
    readonly source?: string;
    readonly range?: readonly [number, number];
  },
): ModelMetadata {
  let labels = [...options.labels];
  let backgroundClass = false;
  if (labels.length === imported.outputUnits && labels[0]?.toLowerCase() === 'background') {
    labels = labels.slice(1);
    backgroundClass = true;
  } else if (labels.length + 1 === imported.outputUnits) {
    backgroundClass = true;
  }
  if (labels.length + (backgroundClass ? 1 : 0) !== imported.outputUnits)
    throw new LabelMismatchError(labels.length, imported.outputUnits);
  const [height, width] = imported.inputShape as [number, number];
  return {
    schemaVersion: 1,
    id: options.id,
    name: options.name ?? options.id,
    version: '1',
    format: 'layers-model',
    architecture: 'tflite-import',
    labels,
    ...(backgroundClass ? { backgroundClass } : {}),
    output: imported.endsWithSoftmax ? 'probabilities' : 'logits',
    // Float TFLite models do not record their input range; [-1, 1] is the MobileNet family's convention.
    preset: {
      height,
      width,
      resize: 'center-crop',
      range: options.range ?? imported.inputRange ?? [-1, 1],
    },
    ...(imported.embeddingLayer ? { embeddingLayer: imported.embeddingLayer } : {}),
    ...(options.source ? { source: options.source } : {}),
  };
}
