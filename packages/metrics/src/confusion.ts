import { checkLabels, checkSameLength, type Labels } from './inputs';

/** Counts of (true class, predicted class) pairs. */
export interface ConfusionMatrix {
  readonly numClasses: number;
  /** Row-major counts: `counts[t * numClasses + p]` examples of true class t predicted as p. */
  readonly counts: Int32Array;
}

/**
 * The confusion matrix of single-label predictions: rows are true classes, columns predicted ones
 * (scikit-learn's convention).
 *
 * @param numClasses - Number of classes; defaults to 1 + the largest label seen.
 * @throws RangeError for mismatched lengths, no examples, or labels outside [0, numClasses).
 */
export function confusionMatrix(
  trueLabels: Labels,
  predictedLabels: Labels,
  numClasses?: number,
): ConfusionMatrix {
  checkSameLength(trueLabels, predictedLabels, 'confusionMatrix');
  const classes =
    numClasses ?? 1 + Math.max(...Array.from(trueLabels), ...Array.from(predictedLabels));
  checkLabels(trueLabels, classes, 'trueLabels');
  checkLabels(predictedLabels, classes, 'predictedLabels');
  const counts = new Int32Array(classes * classes);
  for (let i = 0; i < trueLabels.length; i++) {
    const index = (trueLabels[i] as number) * classes + (predictedLabels[i] as number);
    counts[index] = (counts[index] as number) + 1;
  }
  return { numClasses: classes, counts };
}

/** Per-class sums of a confusion matrix: support (row sums), predicted (column sums), true positives. */
export function classTotals(matrix: ConfusionMatrix): {
  support: number[];
  predicted: number[];
  truePositives: number[];
  total: number;
} {
  const n = matrix.numClasses;
  const support = new Array<number>(n).fill(0);
  const predicted = new Array<number>(n).fill(0);
  const truePositives = new Array<number>(n).fill(0);
  let total = 0;
  for (let t = 0; t < n; t++) {
    for (let p = 0; p < n; p++) {
      const count = matrix.counts[t * n + p] as number;
      support[t] = (support[t] as number) + count;
      predicted[p] = (predicted[p] as number) + count;
      if (t === p) truePositives[t] = count;
      total += count;
    }
  }
  return { support, predicted, truePositives, total };
}

/** One off-diagonal cell: how often `trueClass` was predicted as `predictedClass`. */
export interface ConfusedPair {
  readonly trueClass: number;
  readonly predictedClass: number;
  readonly count: number;
  /** The count as a fraction of the true class's support. */
  readonly rate: number;
}

/** The `limit` largest off-diagonal cells, most frequent first (ties: lower true class first). */
export function mostConfusedPairs(matrix: ConfusionMatrix, limit = 5): ConfusedPair[] {
  const { support } = classTotals(matrix);
  const pairs: ConfusedPair[] = [];
  const n = matrix.numClasses;
  for (let t = 0; t < n; t++) {
    for (let p = 0; p < n; p++) {
      const count = matrix.counts[t * n + p] as number;
      if (t !== p && count > 0)
        pairs.push({
          trueClass: t,
          predictedClass: p,
          count,
          rate: count / (support[t] as number),
        });
    }
  }
  return pairs
    .sort(
      (a, b) =>
        b.count - a.count || a.trueClass - b.trueClass || a.predictedClass - b.predictedClass,
    )
    .slice(0, limit);
}
