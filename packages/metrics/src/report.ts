import {
  type AveragedScores,
  accuracy,
  type ClassScores,
  precisionRecallF1,
  type ZeroDivision,
} from './classification';
import { confusionMatrix } from './confusion';
import type { Labels } from './inputs';

/** A scikit-learn-style classification report as data. */
export interface ClassificationReport {
  readonly classes: ReadonlyArray<ClassScores & { readonly label: string }>;
  readonly accuracy: number;
  readonly macro: AveragedScores;
  readonly weighted: AveragedScores;
  /** Number of examples. */
  readonly support: number;
}

/** Options of {@link classificationReport}. */
export interface ReportOptions {
  /** Class names by index; defaults to `class 0`, `class 1`, … */
  readonly labels?: readonly string[];
  /** Number of classes; defaults to the labels' length or 1 + the largest index seen. */
  readonly numClasses?: number;
  readonly zeroDivision?: ZeroDivision;
}

/** Per-class precision, recall, F1 and support, accuracy, and macro and weighted averages. */
export function classificationReport(
  trueLabels: Labels,
  predictedLabels: Labels,
  options: ReportOptions = {},
): ClassificationReport {
  const matrix = confusionMatrix(
    trueLabels,
    predictedLabels,
    options.numClasses ?? options.labels?.length,
  );
  const scores = precisionRecallF1(matrix, options.zeroDivision ?? 0);
  return {
    classes: scores.perClass.map((classScores, k) => ({
      label: options.labels?.[k] ?? `class ${k}`,
      ...classScores,
    })),
    accuracy: accuracy(trueLabels, predictedLabels),
    macro: scores.macro,
    weighted: scores.weighted,
    support: trueLabels.length,
  };
}

/** Renders a report as fixed-width text laid out like scikit-learn's `classification_report`. */
export function formatReportText(report: ClassificationReport, digits = 2): string {
  const nameWidth = Math.max(12, ...report.classes.map((c) => c.label.length));
  const cellOf = (value: number) => value.toFixed(digits).padStart(10);
  const header = `${''.padStart(nameWidth)}${'precision'.padStart(10)}${'recall'.padStart(10)}${'f1-score'.padStart(10)}${'support'.padStart(10)}`;
  const row = (name: string, scores: AveragedScores, support: number) =>
    `${name.padStart(nameWidth)}${cellOf(scores.precision)}${cellOf(scores.recall)}${cellOf(scores.f1)}${String(support).padStart(10)}`;
  return [
    header,
    '',
    ...report.classes.map((c) => row(c.label, c, c.support)),
    '',
    `${'accuracy'.padStart(nameWidth)}${''.padStart(20)}${cellOf(report.accuracy)}${String(report.support).padStart(10)}`,
    row('macro avg', report.macro, report.support),
    row('weighted avg', report.weighted, report.support),
  ].join('\n');
}

/** Renders a report as a GitHub-flavoured Markdown table. */
export function formatReportMarkdown(report: ClassificationReport, digits = 3): string {
  const f = (value: number) => value.toFixed(digits);
  const escapeCell = (text: string) => text.replaceAll('|', '\\|');
  return [
    '| class | precision | recall | F1 | support |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...report.classes.map(
      (c) =>
        `| ${escapeCell(c.label)} | ${f(c.precision)} | ${f(c.recall)} | ${f(c.f1)} | ${c.support} |`,
    ),
    `| **accuracy** | | | ${f(report.accuracy)} | ${report.support} |`,
    `| **macro avg** | ${f(report.macro.precision)} | ${f(report.macro.recall)} | ${f(report.macro.f1)} | ${report.support} |`,
    `| **weighted avg** | ${f(report.weighted.precision)} | ${f(report.weighted.recall)} | ${f(report.weighted.f1)} | ${report.support} |`,
  ].join('\n');
}
