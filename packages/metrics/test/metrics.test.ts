import { describe, expect, it } from 'vitest';
import {
  accuracy,
  argmax,
  classificationReport,
  confusionMatrix,
  expectedCalibrationError,
  formatReportMarkdown,
  logLoss,
  mapProbabilities,
  mostConfusedPairs,
  precisionRecallF1,
  topKAccuracy,
} from '../src/index';

describe('confusion matrix and accuracy', () => {
  it('counts true (rows) against predicted (columns) classes', () => {
    const matrix = confusionMatrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2], 3);
    expect(Array.from(matrix.counts)).toEqual([1, 1, 0, 0, 1, 0, 1, 0, 2]);
    expect(accuracy([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2])).toBeCloseTo(4 / 6, 12);
  });

  it('rejects empty input, mismatched lengths and out-of-range labels with clear errors', () => {
    expect(() => confusionMatrix([], [])).toThrow(/no examples/);
    expect(() => accuracy([0, 1], [0])).toThrow(/2 true labels but 1 predictions/);
    expect(() => confusionMatrix([0, 3], [0, 1], 3)).toThrow(/trueLabels\[1\] is 3/);
    expect(() => confusionMatrix([0, 1.5], [0, 1], 3)).toThrow(/integer class index/);
  });

  it('ranks the most confused pairs by count', () => {
    const matrix = confusionMatrix([0, 0, 0, 1, 1, 2], [1, 1, 2, 0, 1, 2], 3);
    expect(mostConfusedPairs(matrix, 2)).toEqual([
      { trueClass: 0, predictedClass: 1, count: 2, rate: 2 / 3 },
      { trueClass: 0, predictedClass: 2, count: 1, rate: 1 / 3 },
    ]);
  });
});

describe('edge cases never leak NaN into averages', () => {
  it('a class never predicted gets precision = zeroDivision and a class never present recall = zeroDivision', () => {
    // Class 1 is never predicted; class 2 is predicted once but never present.
    const matrix = confusionMatrix([0, 0, 1, 1], [0, 2, 0, 0], 3);
    const zero = precisionRecallF1(matrix);
    expect(zero.perClass[1]).toMatchObject({
      precision: 0,
      recall: 0,
      f1: 0,
      support: 2,
      predicted: 0,
    });
    expect(zero.perClass[2]).toMatchObject({
      precision: 0,
      recall: 0,
      f1: 0,
      support: 0,
      predicted: 1,
    });
    const one = precisionRecallF1(matrix, 1);
    expect(one.perClass[1]?.precision).toBe(1);
    expect(one.perClass[2]?.recall).toBe(1);
    for (const scores of [zero, one]) {
      for (const average of [scores.micro, scores.macro, scores.weighted]) {
        for (const value of Object.values(average)) expect(Number.isFinite(value)).toBe(true);
      }
    }
  });

  it('leaves classes that occur nowhere out of the macro average', () => {
    const withUnused = precisionRecallF1(confusionMatrix([0, 1, 1], [0, 1, 0], 5));
    const withoutUnused = precisionRecallF1(confusionMatrix([0, 1, 1], [0, 1, 0], 2));
    expect(withUnused.macro).toEqual(withoutUnused.macro);
    expect(withUnused.perClass).toHaveLength(5);
  });

  it('handles a single class', () => {
    const scores = precisionRecallF1(confusionMatrix([0, 0], [0, 0], 1));
    expect(scores.macro).toEqual({ precision: 1, recall: 1, f1: 1 });
  });
});

describe('probabilistic metrics', () => {
  const probabilities = [
    [0.7, 0.2, 0.1],
    [0.1, 0.5, 0.4],
    [0.3, 0.3, 0.4],
    [0.25, 0.5, 0.25],
  ];
  const labels = [0, 2, 0, 2];

  it('top-k accuracy counts the true class among the k most probable, ties toward the lower index', () => {
    expect(topKAccuracy(labels, probabilities, 1)).toBe(0.25);
    expect(topKAccuracy(labels, probabilities, 2)).toBe(0.75); // row 3: class 2 ties class 0 at 0.25, loses
    expect(topKAccuracy(labels, probabilities, 3)).toBe(1);
    expect(Array.from(argmax(probabilities))).toEqual([0, 1, 2, 1]);
  });

  it('computes ECE by hand on two bins', () => {
    // Confidences 0.7, 0.5, 0.4, 0.5; correct: yes, no, no, no. Bins (0, .5], (.5, 1].
    const calibration = expectedCalibrationError(labels, probabilities, 2);
    expect(calibration.bins.map((bin) => bin.count)).toEqual([3, 1]);
    expect(calibration.bins[0]?.accuracy).toBe(0);
    expect(calibration.bins[0]?.confidence).toBeCloseTo(1.4 / 3, 12);
    expect(calibration.bins[1]?.accuracy).toBe(1);
    // (3/4)·|0 − 1.4/3| + (1/4)·|1 − 0.7|
    expect(calibration.ece).toBeCloseTo(0.75 * (1.4 / 3) + 0.25 * 0.3, 12);
  });

  it('clips log loss so a confident mistake is finite', () => {
    expect(logLoss([1], [[1, 0]])).toBeCloseTo(-Math.log(1e-15), 6);
  });

  it('rejects logits and ragged rows with an explanation', () => {
    expect(() => logLoss([0], [[2.3, 1.2]])).toThrow(/not 1: pass softmax outputs/);
    expect(() => topKAccuracy([0, 1], [[1, 0], [1]], 1)).toThrow(/row 1 has 1 classes/);
    expect(() => logLoss([0], [[Number.NaN, 1]])).toThrow(/finite/);
  });
});

describe('mapProbabilities', () => {
  it('sums source classes into targets, renormalises, and reports the dropped mass', () => {
    // 4 source classes → 3 targets; source 3 unmapped; target 2 has no source (like CIFAR's deer).
    const mapped = mapProbabilities([[0.2, 0.3, 0.1, 0.4]], [0, 0, 1, -1], 3);
    expect(mapped.mappedMass[0]).toBeCloseTo(0.6, 12);
    expect(Array.from(mapped.values)).toEqual(
      [0.5 / 0.6, 0.1 / 0.6, 0].map((value) => expect.closeTo(value, 12)),
    );
  });

  it('spreads a row with no mapped mass uniformly', () => {
    expect(Array.from(mapProbabilities([[0, 1]], [0, -1], 2).values)).toEqual([0.5, 0.5]);
  });
});

describe('report formats', () => {
  it('renders Markdown with escaped labels', () => {
    const markdown = formatReportMarkdown(
      classificationReport([0, 1], [0, 1], { labels: ['a|b', 'c'] }),
    );
    expect(markdown.split('\n')[2]).toBe('| a\\|b | 1.000 | 1.000 | 1.000 | 1 |');
  });
});
