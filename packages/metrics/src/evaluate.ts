import {
  balancedAccuracy,
  type Calibration,
  CalibrationAccumulator,
  cohenKappa,
  type PrecisionRecallF1,
  precisionRecallF1,
  rankOfTrueClass,
} from './classification';
import { type ConfusedPair, type ConfusionMatrix, mostConfusedPairs } from './confusion';
import { argmaxRow, checkLabels, type Probabilities, toProbabilityRows } from './inputs';

/** Anything that turns a batch of inputs into class probabilities: a classifier, a model, a stub. */
export interface Predictor<Input> {
  /** Shown in reports and comparison tables. */
  readonly name: string;
  /** Class names by index, for reports. */
  readonly labels?: readonly string[];
  /** Number of parameters, when known (comparison tables). */
  readonly parameters?: number;
  /** Bytes of weights on disk, when known (comparison tables). */
  readonly sizeOnDiskBytes?: number;
  /** Probabilities for every input of the batch, in order. */
  predict(inputs: Input): Promise<Probabilities> | Probabilities;
}

/** A batch of inputs with their true class indices and optional ids (file names) for reports. */
export interface LabelledBatch<Input> {
  readonly inputs: Input;
  readonly labels: ArrayLike<number>;
  readonly ids?: readonly string[];
}

/** Options of {@link evaluate}. */
export interface EvaluateOptions {
  /** k values for top-k accuracy. Default [1, 5] (those not above the class count). */
  readonly topK?: readonly number[];
  /** How many of the worst examples to keep. Default 10. */
  readonly worstExamples?: number;
  /** How many confused pairs to report. Default 10. */
  readonly confusedPairs?: number;
  /** Calibration bins. Default 15. */
  readonly calibrationBins?: number;
  /** Clock in milliseconds, for tests. Default `performance.now`. */
  readonly now?: () => number;
}

/** Mean and spread of top-1 confidence over a group of predictions. */
export interface ConfidenceStats {
  readonly count: number;
  readonly mean: number;
  readonly standardDeviation: number;
}

/** An example the model got most wrong: the lowest probability on the true class. */
export interface WorstExample {
  readonly id: string;
  readonly trueClass: number;
  readonly predictedClass: number;
  readonly trueClassProbability: number;
  readonly confidence: number;
}

/** Everything {@link evaluate} measures; plain data, JSON-serialisable. */
export interface EvaluationResult {
  readonly name: string;
  readonly labels?: readonly string[];
  readonly examples: number;
  readonly accuracy: number;
  readonly topK: Readonly<Record<string, number>>;
  readonly balancedAccuracy: number;
  readonly cohenKappa: number;
  readonly logLoss: number;
  readonly scores: PrecisionRecallF1;
  readonly confusion: { readonly numClasses: number; readonly counts: number[] };
  readonly calibration: Calibration;
  readonly confidence: { readonly correct: ConfidenceStats; readonly wrong: ConfidenceStats };
  readonly mostConfused: readonly ConfusedPair[];
  readonly worst: readonly WorstExample[];
  /** Milliseconds per image (batch time / batch size), over batches. */
  readonly latencyMs: { readonly p50: number; readonly p95: number; readonly mean: number };
  readonly parameters?: number;
  readonly sizeOnDiskBytes?: number;
}

class RunningStats {
  count = 0;
  private sum = 0;
  private sumOfSquares = 0;
  add(value: number): void {
    this.count++;
    this.sum += value;
    this.sumOfSquares += value * value;
  }
  result(): ConfidenceStats {
    if (this.count === 0) return { count: 0, mean: 0, standardDeviation: 0 };
    const mean = this.sum / this.count;
    return {
      count: this.count,
      mean,
      standardDeviation: Math.sqrt(Math.max(0, this.sumOfSquares / this.count - mean * mean)),
    };
  }
}

/** The q-quantile (0..1) of values by linear interpolation between order statistics. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.min(sorted.length - 1, below + 1);
  return (
    (sorted[below] as number) +
    ((sorted[above] as number) - (sorted[below] as number)) * (position - below)
  );
}

/**
 * Runs a predictor over a labelled dataset and measures it: accuracy, top-k, per-class and averaged
 * precision/recall/F1, balanced accuracy, Cohen's kappa, log loss, calibration, confidence of right
 * and wrong predictions, the most confused class pairs, the worst examples and per-image latency.
 * Streams: memory stays bounded by the class count and `worstExamples`, whatever the dataset's size.
 *
 * @throws RangeError when the dataset is empty, a batch's labels and predictions differ in length,
 *   or the class count changes between batches.
 */
export async function evaluate<Input>(
  predictor: Predictor<Input>,
  batches: AsyncIterable<LabelledBatch<Input>> | Iterable<LabelledBatch<Input>>,
  options: EvaluateOptions = {},
): Promise<EvaluationResult> {
  const now = options.now ?? (() => performance.now());
  const keepWorst = options.worstExamples ?? 10;
  let numClasses = 0;
  let counts = new Float64Array(0);
  let calibration = new CalibrationAccumulator(options.calibrationBins ?? 15);
  const correctConfidence = new RunningStats();
  const wrongConfidence = new RunningStats();
  const latencies: number[] = [];
  const topKHits = new Map<number, number>();
  let worst: WorstExample[] = [];
  let logLossSum = 0;
  let examples = 0;

  for await (const batch of batches) {
    const started = now();
    const predicted = await predictor.predict(batch.inputs);
    const elapsed = now() - started;
    const rows = toProbabilityRows(predicted);
    if (rows.count !== batch.labels.length) {
      throw new RangeError(
        `${predictor.name} returned ${rows.count} predictions for a batch of ${batch.labels.length}`,
      );
    }
    if (numClasses === 0) {
      numClasses = rows.numClasses;
      counts = new Float64Array(numClasses * numClasses);
      calibration = new CalibrationAccumulator(options.calibrationBins ?? 15);
      for (const k of options.topK ?? [1, 5]) if (k <= numClasses) topKHits.set(k, 0);
    } else if (rows.numClasses !== numClasses) {
      throw new RangeError(
        `${predictor.name} returned ${rows.numClasses} classes after ${numClasses}`,
      );
    }
    checkLabels(batch.labels, numClasses, 'labels');
    if (rows.count > 0) latencies.push(elapsed / rows.count);
    for (let row = 0; row < rows.count; row++) {
      const truth = batch.labels[row] as number;
      const guess = argmaxRow(rows, row);
      const confidence = rows.values[row * numClasses + guess] as number;
      const trueClassProbability = rows.values[row * numClasses + truth] as number;
      counts[truth * numClasses + guess] = (counts[truth * numClasses + guess] as number) + 1;
      calibration.add(confidence, guess === truth);
      (guess === truth ? correctConfidence : wrongConfidence).add(confidence);
      logLossSum -= Math.log(Math.min(1 - 1e-15, Math.max(1e-15, trueClassProbability)));
      const rank = rankOfTrueClass(rows.values, row, numClasses, truth);
      for (const [k, hits] of topKHits) if (rank < k) topKHits.set(k, hits + 1);
      if (keepWorst > 0 && guess !== truth) {
        worst.push({
          id: batch.ids?.[row] ?? `#${examples + row}`,
          trueClass: truth,
          predictedClass: guess,
          trueClassProbability,
          confidence,
        });
        // Keep the list bounded: trim to the worst `keepWorst` whenever it doubles.
        if (worst.length >= 2 * keepWorst) worst = worstFirst(worst).slice(0, keepWorst);
      }
    }
    examples += rows.count;
  }
  if (examples === 0)
    throw new RangeError(`evaluate: the dataset given to ${predictor.name} yielded no examples`);

  const matrix: ConfusionMatrix = { numClasses, counts: Int32Array.from(counts) };
  const scores = precisionRecallF1(matrix);
  const diagonal = Array.from(
    { length: numClasses },
    (_, k) => matrix.counts[k * numClasses + k] as number,
  ).reduce((a, b) => a + b, 0);
  return {
    name: predictor.name,
    ...(predictor.labels ? { labels: predictor.labels } : {}),
    examples,
    accuracy: diagonal / examples,
    topK: Object.fromEntries([...topKHits].map(([k, hits]) => [`top${k}`, hits / examples])),
    balancedAccuracy: balancedAccuracy(matrix),
    cohenKappa: cohenKappa(matrix),
    logLoss: logLossSum / examples,
    scores,
    confusion: { numClasses, counts: Array.from(matrix.counts) },
    calibration: calibration.result(),
    confidence: { correct: correctConfidence.result(), wrong: wrongConfidence.result() },
    mostConfused: mostConfusedPairs(matrix, options.confusedPairs ?? 10),
    worst: worstFirst(worst).slice(0, keepWorst),
    latencyMs: {
      p50: quantile(latencies, 0.5),
      p95: quantile(latencies, 0.95),
      mean: latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length),
    },
    ...(predictor.parameters !== undefined ? { parameters: predictor.parameters } : {}),
    ...(predictor.sizeOnDiskBytes !== undefined
      ? { sizeOnDiskBytes: predictor.sizeOnDiskBytes }
      : {}),
  };
}

function worstFirst(examples: WorstExample[]): WorstExample[] {
  return [...examples].sort(
    (a, b) => a.trueClassProbability - b.trueClassProbability || b.confidence - a.confidence,
  );
}
