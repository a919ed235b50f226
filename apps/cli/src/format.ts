import type { ClassifyOutcome } from '@imgcls/classifier';

/** Output formats of `imgcls classify`. */
export type OutputFormat = 'text' | 'json' | 'csv';

/** The CSV header line, written once before the first row. */
export const CSV_HEADER = 'input,rank,label,index,probability,error';

function csvField(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/**
 * Formats one outcome as the lines to print. JSON is one object per line (NDJSON) so results stream;
 * CSV has a row per prediction, or one row with the error for a failed input.
 */
export function formatOutcome(outcome: ClassifyOutcome, format: OutputFormat): string[] {
  if (format === 'json') return [JSON.stringify(outcome)];
  if ('error' in outcome) {
    if (format === 'csv') {
      return [
        [
          csvField(outcome.input),
          '',
          '',
          '',
          '',
          csvField(`${outcome.error.code}: ${outcome.error.message}`),
        ].join(','),
      ];
    }
    return [`${outcome.input}: error ${outcome.error.code}: ${outcome.error.message}`];
  }
  if (format === 'csv') {
    return outcome.predictions.map((prediction, rank) =>
      [
        csvField(outcome.input),
        rank + 1,
        csvField(prediction.label),
        prediction.index,
        prediction.probability.toFixed(6),
        '',
      ].join(','),
    );
  }
  return [
    outcome.input,
    ...outcome.predictions.map(
      (prediction, rank) =>
        `  ${rank + 1}. ${prediction.label.padEnd(32)} ${(prediction.probability * 100).toFixed(2).padStart(6)}%`,
    ),
  ];
}
