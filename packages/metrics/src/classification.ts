import { type ConfusionMatrix, classTotals } from './confusion';
import {
  argmaxRow,
  checkLabels,
  checkSameLength,
  type Labels,
  type Probabilities,
  toProbabilityRows,
} from './inputs';

/**
 * What a ratio with a zero denominator (precision of a class never predicted, recall of a class never
 * present) counts as. 0 is scikit-learn's default (`zero_division="warn"` behaves as 0).
 */
export type ZeroDivision = 0 | 1;

/** Precision, recall and F1 of one class, with its support (true examples) and predicted count. */
export interface ClassScores {
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  readonly support: number;
  readonly predicted: number;
}

/** Averaged precision, recall and F1. */
export interface AveragedScores {
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
}

/** Per-class scores and their micro, macro and weighted averages. */
export interface PrecisionRecallF1 {
  readonly perClass: readonly ClassScores[];
  /** From total true positives, false positives and false negatives; equals accuracy for single-label data. */
  readonly micro: AveragedScores;
  /**
   * Unweighted mean over the classes that occur (in the true labels or the predictions); a class
   * that never occurs at all is reported per class but left out, so it cannot drag the mean down.
   */
  readonly macro: AveragedScores;
  /** Mean weighted by support; classes without support weigh nothing. */
  readonly weighted: AveragedScores;
}

const ratio = (numerator: number, denominator: number, zeroDivision: ZeroDivision) =>
  denominator === 0 ? zeroDivision : numerator / denominator;

const harmonic = (precision: number, recall: number) =>
  precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);

/** Fraction of examples whose predicted label equals the true label. */
export function accuracy(trueLabels: Labels, predictedLabels: Labels): number {
  checkSameLength(trueLabels, predictedLabels, 'accuracy');
  let correct = 0;
  for (let i = 0; i < trueLabels.length; i++) if (trueLabels[i] === predictedLabels[i]) correct++;
  return correct / trueLabels.length;
}

/**
 * Fraction of examples whose true class is among the `k` most probable. Ties are broken toward the
 * lower class index, so a tie never counts in the model's favour by accident of order.
 */
export function topKAccuracy(trueLabels: Labels, probabilities: Probabilities, k: number): number {
  const rows = toProbabilityRows(probabilities);
  checkSameLength(trueLabels, { length: rows.count }, 'topKAccuracy');
  checkLabels(trueLabels, rows.numClasses, 'trueLabels');
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, got ${k}`);
  let hits = 0;
  for (let row = 0; row < rows.count; row++)
    if (rankOfTrueClass(rows.values, row, rows.numClasses, trueLabels[row] as number) < k) hits++;
  return hits / rows.count;
}

/** 0-based rank of class `target` in a row: how many classes beat it (higher, or equal with lower index). */
export function rankOfTrueClass(
  values: ArrayLike<number>,
  row: number,
  numClasses: number,
  target: number,
): number {
  const offset = row * numClasses;
  const targetValue = values[offset + target] as number;
  let rank = 0;
  for (let k = 0; k < numClasses; k++) {
    const value = values[offset + k] as number;
    if (value > targetValue || (value === targetValue && k < target)) rank++;
  }
  return rank;
}

/** Per-class precision, recall and F1 from a confusion matrix, with micro, macro and weighted averages. */
export function precisionRecallF1(
  matrix: ConfusionMatrix,
  zeroDivision: ZeroDivision = 0,
): PrecisionRecallF1 {
  const { support, predicted, truePositives, total } = classTotals(matrix);
  const perClass = support.map((classSupport, k) => {
    const precision = ratio(truePositives[k] as number, predicted[k] as number, zeroDivision);
    const recall = ratio(truePositives[k] as number, classSupport, zeroDivision);
    return {
      precision,
      recall,
      f1: harmonic(precision, recall),
      support: classSupport,
      predicted: predicted[k] as number,
    };
  });
  const occurring = perClass.filter((scores) => scores.support > 0 || scores.predicted > 0);
  const mean = (
    pick: (scores: ClassScores) => number,
    weight: (scores: ClassScores) => number,
    pool: readonly ClassScores[],
  ) => {
    const totalWeight = pool.reduce((sum, scores) => sum + weight(scores), 0);
    return totalWeight === 0
      ? 0
      : pool.reduce((sum, scores) => sum + pick(scores) * weight(scores), 0) / totalWeight;
  };
  const allTruePositives = truePositives.reduce((a, b) => a + b, 0);
  const microPrecision = ratio(allTruePositives, total, zeroDivision);
  const microRecall = ratio(allTruePositives, total, zeroDivision);
  const average = (weight: (scores: ClassScores) => number, pool: readonly ClassScores[]) => ({
    precision: mean((s) => s.precision, weight, pool),
    recall: mean((s) => s.recall, weight, pool),
    f1: mean((s) => s.f1, weight, pool),
  });
  return {
    perClass,
    micro: {
      precision: microPrecision,
      recall: microRecall,
      f1: harmonic(microPrecision, microRecall),
    },
    macro: average(() => 1, occurring),
    weighted: average((s) => s.support, perClass),
  };
}

/** Mean recall over the classes present in the true labels (scikit-learn's `balanced_accuracy_score`). */
export function balancedAccuracy(matrix: ConfusionMatrix): number {
  const { support, truePositives } = classTotals(matrix);
  const recalls = support.flatMap((classSupport, k) =>
    classSupport > 0 ? [(truePositives[k] as number) / classSupport] : [],
  );
  return recalls.reduce((a, b) => a + b, 0) / recalls.length;
}

/**
 * Cohen's kappa: agreement beyond chance, κ = (p_o − p_e) / (1 − p_e), with p_e from the products of
 * the true and predicted class frequencies. 1 when both agree perfectly and chance agreement is 1.
 */
export function cohenKappa(matrix: ConfusionMatrix): number {
  const { support, predicted, truePositives, total } = classTotals(matrix);
  const observed = truePositives.reduce((a, b) => a + b, 0) / total;
  const expected =
    support.reduce((sum, classSupport, k) => sum + classSupport * (predicted[k] as number), 0) /
    (total * total);
  return expected === 1 ? 1 : (observed - expected) / (1 - expected);
}

/**
 * Mean negative log-likelihood of the true classes, with probabilities clipped to [ε, 1 − ε] so a
 * confident mistake costs −ln ε instead of infinity.
 */
export function logLoss(trueLabels: Labels, probabilities: Probabilities, epsilon = 1e-15): number {
  const rows = toProbabilityRows(probabilities);
  checkSameLength(trueLabels, { length: rows.count }, 'logLoss');
  checkLabels(trueLabels, rows.numClasses, 'trueLabels');
  let total = 0;
  for (let row = 0; row < rows.count; row++) {
    const probability = rows.values[row * rows.numClasses + (trueLabels[row] as number)] as number;
    total -= Math.log(Math.min(1 - epsilon, Math.max(epsilon, probability)));
  }
  return total / rows.count;
}

/** One equal-width confidence bin of a reliability diagram. */
export interface CalibrationBin {
  /** Exclusive lower edge (0 for the first bin, which also holds confidence 0). */
  readonly lower: number;
  /** Inclusive upper edge. */
  readonly upper: number;
  readonly count: number;
  /** Fraction of the bin's predictions that were right (0 for an empty bin). */
  readonly accuracy: number;
  /** Mean top-1 probability in the bin (0 for an empty bin). */
  readonly confidence: number;
}

/** Expected calibration error and the bins it was computed from. */
export interface Calibration {
  /** Σ_b (n_b / N) · |accuracy_b − confidence_b|. */
  readonly ece: number;
  /** The largest |accuracy_b − confidence_b| over non-empty bins. */
  readonly maxCalibrationError: number;
  readonly bins: readonly CalibrationBin[];
}

/** Running sums of calibration bins, for streaming evaluation. */
export class CalibrationAccumulator {
  private readonly counts: number[];
  private readonly correct: number[];
  private readonly confidenceSums: number[];

  /** @param binCount - Number of equal-width bins over [0, 1]; 15 as in Guo et al. (2017). */
  constructor(readonly binCount = 15) {
    if (!Number.isInteger(binCount) || binCount < 1)
      throw new RangeError(`binCount must be a positive integer, got ${binCount}`);
    this.counts = new Array<number>(binCount).fill(0);
    this.correct = new Array<number>(binCount).fill(0);
    this.confidenceSums = new Array<number>(binCount).fill(0);
  }

  /** Adds one prediction: its top-1 probability and whether the top-1 class was right. */
  add(confidence: number, wasCorrect: boolean): void {
    const bin = Math.min(this.binCount - 1, Math.max(0, Math.ceil(confidence * this.binCount) - 1));
    this.counts[bin] = (this.counts[bin] as number) + 1;
    this.confidenceSums[bin] = (this.confidenceSums[bin] as number) + confidence;
    if (wasCorrect) this.correct[bin] = (this.correct[bin] as number) + 1;
  }

  /** The bins and errors of everything added so far. */
  result(): Calibration {
    const total = this.counts.reduce((a, b) => a + b, 0);
    const bins = this.counts.map((count, b) => ({
      lower: b / this.binCount,
      upper: (b + 1) / this.binCount,
      count,
      accuracy: count === 0 ? 0 : (this.correct[b] as number) / count,
      confidence: count === 0 ? 0 : (this.confidenceSums[b] as number) / count,
    }));
    const gaps = bins
      .filter((bin) => bin.count > 0)
      .map((bin) => ({ weight: bin.count / total, gap: Math.abs(bin.accuracy - bin.confidence) }));
    return {
      ece: gaps.reduce((sum, { weight, gap }) => sum + weight * gap, 0),
      maxCalibrationError: gaps.reduce((max, { gap }) => Math.max(max, gap), 0),
      bins,
    };
  }
}

/**
 * Expected calibration error of top-1 predictions over equal-width confidence bins: bin b holds
 * confidences in (b/B, (b+1)/B], the first bin also 0.
 */
export function expectedCalibrationError(
  trueLabels: Labels,
  probabilities: Probabilities,
  binCount = 15,
): Calibration {
  const rows = toProbabilityRows(probabilities);
  checkSameLength(trueLabels, { length: rows.count }, 'expectedCalibrationError');
  checkLabels(trueLabels, rows.numClasses, 'trueLabels');
  const accumulator = new CalibrationAccumulator(binCount);
  for (let row = 0; row < rows.count; row++) {
    const predicted = argmaxRow(rows, row);
    accumulator.add(
      rows.values[row * rows.numClasses + predicted] as number,
      predicted === trueLabels[row],
    );
  }
  return accumulator.result();
}
