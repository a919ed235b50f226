import { writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import {
  type ConfusionMatrix,
  classTotals,
  confusionMatrixSvg,
  formatReportMarkdown,
  perClassF1Svg,
  precisionRecallF1,
} from '@imgcls/metrics';
import type { ModelMetadata } from '@imgcls/models';

/** The rows every model card's facts table starts with: id, architecture, input and classes. */
export function modelFactRows(metadata: ModelMetadata): string {
  const { preset } = metadata;
  return `| id | \`${metadata.id}\` |
| architecture | ${metadata.architecture ?? 'unknown'} |
| input | ${preset.height}x${preset.width} RGB, ${preset.resize}, range [${preset.range.join(', ')}]${preset.mean ? `, mean [${preset.mean.join(', ')}], std [${preset.std?.join(', ')}]` : ''} |
| classes | ${metadata.labels.join(', ')} |`;
}

/** This machine, for the "machine" row: cores, CPU, memory, Node and the engine. */
export function machineDescription(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, TF.js wasm backend with @imgcls/wasm-grad`;
}

/** A test-set confusion matrix summarised for a card. */
export interface TestReport {
  readonly accuracy: number;
  readonly macroF1: number;
  /** Images counted. */
  readonly total: number;
  /** The per-class precision/recall/F1 table in Markdown. */
  readonly markdown: string;
}

/** Accuracy, macro F1 and the per-class table of a confusion matrix. */
export function testReport(matrix: ConfusionMatrix, labels: readonly string[]): TestReport {
  const scores = precisionRecallF1(matrix);
  const { truePositives, total } = classTotals(matrix);
  const accuracy = truePositives.reduce((a, b) => a + b, 0) / total;
  const markdown = formatReportMarkdown({
    classes: scores.perClass.map((classScores, k) => ({
      label: labels[k] as string,
      ...classScores,
    })),
    accuracy,
    macro: scores.macro,
    weighted: scores.weighted,
    support: total,
  });
  return { accuracy, macroF1: scores.macro.f1, total, markdown };
}

/** Writes `confusion-matrix.svg` and `per-class-f1.svg` of a test-set confusion matrix into a folder. */
export async function writeTestCharts(
  directory: string,
  matrix: ConfusionMatrix,
  labels: readonly string[],
): Promise<void> {
  await writeFile(
    join(directory, 'confusion-matrix.svg'),
    confusionMatrixSvg(matrix, { labels, title: 'Confusion matrix (test set)' }),
  );
  await writeFile(
    join(directory, 'per-class-f1.svg'),
    perClassF1Svg(precisionRecallF1(matrix).perClass, {
      labels,
      title: 'F1 per class (test set)',
    }),
  );
}
