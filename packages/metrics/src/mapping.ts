import { type Probabilities, toProbabilityRows } from './inputs';

/** Probabilities over target classes after {@link mapProbabilities}. */
export interface MappedProbabilities {
  /** Row-major, `numClasses` = number of target classes; rows sum to 1 when any source mass was mapped. */
  readonly values: Float64Array;
  readonly numClasses: number;
  /** Per row: the share of the source probability that fell on mapped classes (before renormalising). */
  readonly mappedMass: Float64Array;
}

/**
 * Sums the probabilities of many source classes into a few target classes, for zero-shot use of a
 * large-vocabulary model on a small label set (ImageNet → CIFAR-10). `mapping[s]` is the target index
 * of source class s, or -1 / undefined for source classes that belong to no target.
 *
 * Mass on unmapped source classes is dropped and each row is renormalised over the targets, so the
 * prediction is "the most likely target, given that the image is one of the targets"; `mappedMass`
 * keeps how much was dropped. A target with no source class (CIFAR-10's deer, for ImageNet) always gets
 * probability 0 and can never be predicted. A row with no mapped mass at all is spread uniformly.
 */
export function mapProbabilities(
  probabilities: Probabilities,
  mapping: ArrayLike<number | undefined>,
  targetClasses: number,
): MappedProbabilities {
  const rows = toProbabilityRows(probabilities);
  if (mapping.length !== rows.numClasses) {
    throw new RangeError(
      `mapping covers ${mapping.length} source classes, probabilities have ${rows.numClasses}`,
    );
  }
  const values = new Float64Array(rows.count * targetClasses);
  const mappedMass = new Float64Array(rows.count);
  for (let row = 0; row < rows.count; row++) {
    for (let source = 0; source < rows.numClasses; source++) {
      const target = mapping[source];
      if (target === undefined || target < 0) continue;
      if (!Number.isInteger(target) || target >= targetClasses) {
        throw new RangeError(
          `mapping[${source}] is ${target}: expected -1 or a target index below ${targetClasses}`,
        );
      }
      const probability = rows.values[row * rows.numClasses + source] as number;
      values[row * targetClasses + target] =
        (values[row * targetClasses + target] as number) + probability;
      mappedMass[row] = (mappedMass[row] as number) + probability;
    }
    const mass = mappedMass[row] as number;
    for (let target = 0; target < targetClasses; target++) {
      const index = row * targetClasses + target;
      values[index] = mass > 0 ? (values[index] as number) / mass : 1 / targetClasses;
    }
  }
  return { values, numClasses: targetClasses, mappedMass };
}
