import {
  type EvaluateOptions,
  type EvaluationResult,
  evaluate,
  type LabelledBatch,
  type Predictor,
} from './evaluate';

/** One row of a model comparison. */
export interface ComparisonRow {
  readonly name: string;
  readonly examples: number;
  readonly accuracy: number;
  readonly macroF1: number;
  readonly ece: number;
  readonly meanConfidence: number;
  readonly p50LatencyMs: number;
  readonly parameters?: number;
  readonly sizeOnDiskBytes?: number;
}

/** The comparison rows and each model's full evaluation. */
export interface Comparison {
  readonly rows: readonly ComparisonRow[];
  readonly evaluations: readonly EvaluationResult[];
}

/**
 * Evaluates several predictors on the same images. `dataset` is called once per predictor and must
 * yield the same examples in the same order each time (a fresh pass over a file list, say), so every
 * model sees identical inputs and only one model's predictions are in memory at a time.
 */
export async function compare<Input>(
  predictors: ReadonlyArray<Predictor<Input>>,
  dataset: () => AsyncIterable<LabelledBatch<Input>> | Iterable<LabelledBatch<Input>>,
  options: EvaluateOptions = {},
): Promise<Comparison> {
  const evaluations: EvaluationResult[] = [];
  for (const predictor of predictors)
    evaluations.push(await evaluate(predictor, dataset(), options));
  const counts = new Set(evaluations.map((evaluation) => evaluation.examples));
  if (counts.size > 1)
    throw new RangeError(
      `compare: the dataset yielded different example counts per model (${[...counts].join(', ')})`,
    );
  const rows = evaluations.map((evaluation) => {
    const { correct, wrong } = evaluation.confidence;
    return {
      name: evaluation.name,
      examples: evaluation.examples,
      accuracy: evaluation.accuracy,
      macroF1: evaluation.scores.macro.f1,
      ece: evaluation.calibration.ece,
      meanConfidence:
        (correct.mean * correct.count + wrong.mean * wrong.count) / evaluation.examples,
      p50LatencyMs: evaluation.latencyMs.p50,
      ...(evaluation.parameters !== undefined ? { parameters: evaluation.parameters } : {}),
      ...(evaluation.sizeOnDiskBytes !== undefined
        ? { sizeOnDiskBytes: evaluation.sizeOnDiskBytes }
        : {}),
    };
  });
  return { rows, evaluations };
}

const COLUMNS: ReadonlyArray<{ title: string; cell: (row: ComparisonRow) => string }> = [
  { title: 'model', cell: (row) => row.name },
  { title: 'accuracy', cell: (row) => `${(row.accuracy * 100).toFixed(2)}%` },
  { title: 'macro F1', cell: (row) => row.macroF1.toFixed(3) },
  { title: 'ECE', cell: (row) => row.ece.toFixed(3) },
  { title: 'mean confidence', cell: (row) => row.meanConfidence.toFixed(3) },
  { title: 'p50 ms/image', cell: (row) => row.p50LatencyMs.toFixed(2) },
  {
    title: 'parameters',
    cell: (row) => (row.parameters === undefined ? '—' : row.parameters.toLocaleString('en-US')),
  },
  {
    title: 'size',
    cell: (row) =>
      row.sizeOnDiskBytes === undefined
        ? '—'
        : `${(row.sizeOnDiskBytes / 1024 / 1024).toFixed(2)} MiB`,
  },
];

/** Renders comparison rows as a Markdown table or aligned plain text. */
export function formatComparison(
  rows: readonly ComparisonRow[],
  format: 'markdown' | 'text' = 'markdown',
): string {
  const cells = rows.map((row) => COLUMNS.map((column) => column.cell(row)));
  if (format === 'markdown') {
    return [
      `| ${COLUMNS.map((column) => column.title).join(' | ')} |`,
      `| --- |${COLUMNS.slice(1)
        .map(() => ' ---: |')
        .join('')}`,
      ...cells.map((row) => `| ${row.map((cell) => cell.replaceAll('|', '\\|')).join(' | ')} |`),
    ].join('\n');
  }
  const widths = COLUMNS.map((column, index) =>
    Math.max(column.title.length, ...cells.map((row) => (row[index] as string).length)),
  );
  const line = (values: readonly string[]) =>
    values
      .map((value, index) =>
        index === 0
          ? value.padEnd(widths[index] as number)
          : value.padStart(widths[index] as number),
      )
      .join('  ');
  return [line(COLUMNS.map((column) => column.title)), ...cells.map(line)].join('\n');
}
