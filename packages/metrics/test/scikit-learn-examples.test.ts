import { describe, expect, it } from 'vitest';
import {
  balancedAccuracy,
  classificationReport,
  cohenKappa,
  confusionMatrix,
  formatReportText,
  logLoss,
  precisionRecallF1,
} from '../src/index';

// Numbers from scikit-learn's documentation examples (the numbers only; the code is ours).
describe("scikit-learn's documented examples", () => {
  it('precision_recall_fscore_support: cat/dog/pig', () => {
    // y_true = [cat, dog, pig, cat, dog, pig], y_pred = [cat, pig, dog, cat, cat, dog]
    const scores = precisionRecallF1(confusionMatrix([0, 1, 2, 0, 1, 2], [0, 2, 1, 0, 0, 1], 3));
    expect(scores.macro.precision).toBeCloseTo(0.2222222, 6);
    expect(scores.macro.recall).toBeCloseTo(0.3333333, 6);
    expect(scores.macro.f1).toBeCloseTo(0.2666666, 6);
    expect(scores.micro.precision).toBeCloseTo(0.3333333, 6);
    expect(scores.micro.recall).toBeCloseTo(0.3333333, 6);
    expect(scores.micro.f1).toBeCloseTo(0.3333333, 6);
    expect(scores.weighted.precision).toBeCloseTo(0.2222222, 6);
    expect(scores.weighted.recall).toBeCloseTo(0.3333333, 6);
    expect(scores.weighted.f1).toBeCloseTo(0.2666666, 6);
  });

  it('classification_report: y_true [0,1,2,2,2], y_pred [0,0,2,2,1]', () => {
    const report = classificationReport([0, 1, 2, 2, 2], [0, 0, 2, 2, 1]);
    const rounded = (value: number) => Number(value.toFixed(2));
    expect(
      report.classes.map((c) => [
        rounded(c.precision),
        rounded(c.recall),
        rounded(c.f1),
        c.support,
      ]),
    ).toEqual([
      [0.5, 1, 0.67, 1],
      [0, 0, 0, 1],
      [1, 0.67, 0.8, 3],
    ]);
    expect(rounded(report.accuracy)).toBe(0.6);
    expect([report.macro.precision, report.macro.recall, report.macro.f1].map(rounded)).toEqual([
      0.5, 0.56, 0.49,
    ]);
    expect(
      [report.weighted.precision, report.weighted.recall, report.weighted.f1].map(rounded),
    ).toEqual([0.7, 0.6, 0.61]);
    const text = formatReportText(report);
    expect(text).toContain('     class 2      1.00      0.67      0.80         3');
    expect(text).toContain('    accuracy                          0.60         5');
    expect(text).toContain('weighted avg      0.70      0.60      0.61         5');
  });

  it('cohen_kappa_score: negative/positive/neutral raters agree with κ = 0.6875', () => {
    // y1 = [neg, pos, neg, neu, pos], y2 = [neg, pos, neg, neu, neg] with neg=0, neu=1, pos=2
    expect(cohenKappa(confusionMatrix([0, 2, 0, 1, 2], [0, 2, 0, 1, 0], 3))).toBeCloseTo(
      0.6875,
      10,
    );
  });

  it('log_loss: spam/ham gives 0.21616', () => {
    // labels sorted: ham = 0, spam = 1
    expect(
      logLoss(
        [1, 0, 0, 1],
        [
          [0.1, 0.9],
          [0.9, 0.1],
          [0.8, 0.2],
          [0.35, 0.65],
        ],
      ),
    ).toBeCloseTo(0.21616, 5);
  });

  it('balanced_accuracy_score: 0.625', () => {
    expect(balancedAccuracy(confusionMatrix([0, 1, 0, 0, 1, 0], [0, 1, 0, 0, 0, 1]))).toBeCloseTo(
      0.625,
      10,
    );
  });
});
