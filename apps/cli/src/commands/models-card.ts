import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { trainingCurvesSvg } from '@imgcls/metrics';
import { type ModelMetadata, parseModelMetadata } from '@imgcls/models';
import type { Command } from 'commander';
import { UsageError } from '../errors';
import { machineDescription, modelFactRows, testReport, writeTestCharts } from '../model-card';
import type { Terminal } from '../terminal';

/** How the test predictions were made, when the model averages views (see metadata.testTimeAugmentation). */
function viewsNote(metadata: ModelMetadata): string {
  if (!metadata.testTimeAugmentation) return '';
  const single = metadata.metrics?.testAccuracySingleView;
  return `, averaging the ${metadata.testTimeAugmentation} views it is served with${single === undefined ? '' : ` (one view per image: ${(single * 100).toFixed(2)}%)`}`;
}

/** `imgcls models card <folder>`: MODEL_CARD.md and SVG charts from what `imgcls train` recorded. */
export function registerModelsCard(models: Command, terminal: () => Terminal): void {
  models
    .command('card')
    .description(
      'write MODEL_CARD.md and charts (training curves, confusion matrix, per-class F1) for a trained model folder',
    )
    .argument(
      '<folder>',
      'a folder written by imgcls train (metadata.json, history.jsonl, test-confusion.json)',
    )
    .action(async (folder: string) => {
      const out = terminal();
      const directory = resolve(folder);
      const read = (name: string) =>
        readFile(join(directory, name), 'utf8').catch(() => {
          throw new UsageError(
            `${join(directory, name)} is missing`,
            'run imgcls train to produce it',
          );
        });
      const metadata = parseModelMetadata(JSON.parse(await read('metadata.json')));
      const history = (await read('history.jsonl'))
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as HistoryLine);
      const counts = JSON.parse(await read('test-confusion.json')) as number[];
      const matrix = { numClasses: metadata.labels.length, counts: Int32Array.from(counts) };
      const {
        accuracy: testAccuracy,
        macroF1,
        total,
        markdown: report,
      } = testReport(matrix, metadata.labels);
      await writeFile(
        join(directory, 'training-curves.svg'),
        trainingCurvesSvg(
          [
            { name: 'training loss', points: history.map((h) => ({ x: h.epoch, y: h.loss })) },
            ...(history.some((h) => h.validationAccuracy !== undefined)
              ? [
                  {
                    name: 'validation accuracy',
                    points: history.map((h) => ({
                      x: h.epoch,
                      y: h.validationAccuracy ?? Number.NaN,
                    })),
                    dashed: true,
                  },
                ]
              : []),
          ],
          { title: `${metadata.name}: training`, yLabel: 'loss / accuracy' },
        ),
      );
      await writeTestCharts(directory, matrix, metadata.labels);
      const card = `# ${metadata.name}

| | |
| --- | --- |
${modelFactRows(metadata)}
| trained with | \`${metadata.source ?? 'unknown'}\` |
| epochs | ${history.length} |
| wall time | ${metadata.metrics?.trainingSeconds !== undefined ? `${Math.round(metadata.metrics.trainingSeconds / 60)} min (reading data, training, evaluation)` : 'not recorded'} |
| machine | ${machineDescription()} |
| **test accuracy** | **${(testAccuracy * 100).toFixed(2)}%** on ${total} test images${viewsNote(metadata)} |
| macro F1 | ${macroF1.toFixed(3)} |

## Data
The training split of the dataset given to \`--data\` (for CIFAR-10: the 50,000 training images, of which a
seeded share is held out for validation: 10%, or the command's \`--validation-split\`); the test split is used
once, after training, for the numbers here.
The test split is never trained on.

## Test-set report

${report}

## Pictures
![Training curves](training-curves.svg)
![Confusion matrix](confusion-matrix.svg)
![F1 per class](per-class-f1.svg)

## Training history
${historyTable(history)}
`;
      await writeFile(join(directory, 'MODEL_CARD.md'), card);
      out.out(
        `wrote ${join(directory, 'MODEL_CARD.md')} and 3 charts (test accuracy ${(testAccuracy * 100).toFixed(2)}%)`,
      );
    });
}

/** A line of `history.jsonl`, as `imgcls train` appends one per epoch. */
interface HistoryLine {
  readonly epoch: number;
  readonly loss: number;
  readonly validationAccuracy?: number;
  readonly seconds?: number;
}

/**
 * The per-epoch table; with every epoch's duration recorded (histories from before it was are not), also
 * the training time so far, which reads as the time to each validation accuracy.
 */
function historyTable(history: readonly HistoryLine[]): string {
  const timed = history.every((h) => h.seconds !== undefined);
  let seconds = 0;
  const rows = history.map((h) => {
    seconds += h.seconds ?? 0;
    const accuracy =
      h.validationAccuracy === undefined ? '—' : `${(h.validationAccuracy * 100).toFixed(2)}%`;
    return `| ${h.epoch} | ${h.loss.toFixed(4)} | ${accuracy} |${timed ? ` ${(seconds / 60).toFixed(1)} |` : ''}`;
  });
  return [
    `| epoch | training loss | validation accuracy |${timed ? ' training minutes so far |' : ''}`,
    `| ---: | ---: | ---: |${timed ? ' ---: |' : ''}`,
    ...rows,
  ].join('\n');
}
