/** Class indices, one per example: 0 … numClasses − 1. */
export type Labels = ArrayLike<number>;

/**
 * Predicted probabilities for n examples over `numClasses` classes: row-major values (length
 * n · numClasses) or one array per example.
 */
export type Probabilities =
  | { readonly values: ArrayLike<number>; readonly numClasses: number }
  | ReadonlyArray<ArrayLike<number>>;

/** Probabilities as one flat row-major array, validated: finite, non-negative, rows summing to ~1. */
export interface ProbabilityRows {
  readonly values: Float64Array;
  readonly numClasses: number;
  readonly count: number;
}

/** How far a row's sum may stray from 1 before it is rejected (float32 softmax outputs drift ~1e-6). */
const ROW_SUM_TOLERANCE = 1e-3;

/**
 * Flattens and checks probabilities. Rows must be finite and non-negative and sum to 1 within 1e-3;
 * they are then renormalised to sum to exactly 1, so rounding in the producer does not bias metrics.
 *
 * @throws RangeError for ragged rows, negative or non-finite values, or rows that do not sum to 1.
 */
export function toProbabilityRows(probabilities: Probabilities): ProbabilityRows {
  let numClasses: number;
  let flat: ArrayLike<number>;
  if ('numClasses' in probabilities && 'values' in probabilities) {
    numClasses = probabilities.numClasses;
    flat = probabilities.values;
  } else {
    const rows = probabilities as ReadonlyArray<ArrayLike<number>>;
    numClasses = rows[0]?.length ?? 0;
    const joined = new Float64Array(rows.length * numClasses);
    rows.forEach((row, index) => {
      if (row.length !== numClasses) {
        throw new RangeError(
          `probability row ${index} has ${row.length} classes, row 0 has ${numClasses}`,
        );
      }
      joined.set(Array.from(row), index * numClasses);
    });
    flat = joined;
  }
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new RangeError(`numClasses must be a positive integer, got ${numClasses}`);
  }
  if (flat.length % numClasses !== 0) {
    throw new RangeError(
      `${flat.length} probability values do not fill rows of ${numClasses} classes`,
    );
  }
  const count = flat.length / numClasses;
  const values = new Float64Array(flat.length);
  for (let row = 0; row < count; row++) {
    let total = 0;
    for (let k = 0; k < numClasses; k++) {
      const value = flat[row * numClasses + k] as number;
      if (!Number.isFinite(value) || value < 0) {
        throw new RangeError(
          `probability [${row}, ${k}] is ${value}: probabilities must be finite and ≥ 0`,
        );
      }
      total += value;
    }
    if (Math.abs(total - 1) > ROW_SUM_TOLERANCE) {
      throw new RangeError(
        `probability row ${row} sums to ${total}, not 1: pass softmax outputs, not logits`,
      );
    }
    for (let k = 0; k < numClasses; k++)
      values[row * numClasses + k] = (flat[row * numClasses + k] as number) / total;
  }
  return { values, numClasses, count };
}

/** Checks that labels are integers in [0, numClasses) and returns how many there are. */
export function checkLabels(labels: Labels, numClasses: number, name = 'labels'): number {
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i] as number;
    if (!Number.isInteger(label) || label < 0 || label >= numClasses) {
      throw new RangeError(
        `${name}[${i}] is ${label}: expected an integer class index from 0 to ${numClasses - 1}`,
      );
    }
  }
  return labels.length;
}

/** Throws unless two per-example arrays have the same, non-zero length. */
export function checkSameLength(
  first: ArrayLike<unknown>,
  second: ArrayLike<unknown>,
  what: string,
): void {
  if (first.length !== second.length) {
    throw new RangeError(`${what}: ${first.length} true labels but ${second.length} predictions`);
  }
  if (first.length === 0) throw new RangeError(`${what}: no examples to score`);
}

/** Index of the largest value in row `row` (the first one on ties). */
export function argmaxRow(rows: ProbabilityRows, row: number): number {
  let best = 0;
  let bestValue = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < rows.numClasses; k++) {
    const value = rows.values[row * rows.numClasses + k] as number;
    if (value > bestValue) {
      bestValue = value;
      best = k;
    }
  }
  return best;
}

/** Predicted class of every row (argmax, first on ties). */
export function argmax(probabilities: Probabilities): Int32Array {
  const rows = toProbabilityRows(probabilities);
  return Int32Array.from({ length: rows.count }, (_, row) => argmaxRow(rows, row));
}
