import {
  classTotals,
  confusionMatrixSvg,
  perClassF1Svg,
  precisionRecallF1,
  reliabilityDiagramSvg,
  trainingCurvesSvg,
} from '@imgcls/metrics';
import { renderMarkdown } from '../_lib/markdown';
import type { ModelArtifacts } from '../_lib/read-models';
import { Chart } from './chart';

const percent = (value: number) => `${(value * 100).toFixed(2)}%`;

/** How a metric recorded in metadata.json reads: fractions of accuracy-like scores as percentages. */
function formatMetric(name: string, value: number): string {
  if (/seconds/i.test(name)) return `${(value / 60).toFixed(0)} min`;
  if (/accuracy|f1|precision|recall|calibration|ece/i.test(name) && value >= 0 && value <= 1)
    return percent(value);
  return value.toLocaleString('en-US');
}

/** `testAccuracy` → `test accuracy`, `trainingSeconds` → `training time` (shown in minutes). */
const metricName = (name: string) =>
  name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[-_]/g, ' ')
    .toLowerCase()
    .replace('seconds', 'time');

/** One model's section of the Models page: facts, measured metrics, pictures and its card. */
export function ModelReport({ model }: { model: ModelArtifacts }) {
  const { metadata, folder } = model;
  const labels = metadata?.labels;
  const matrix =
    model.testConfusion && labels && model.testConfusion.length === labels.length ** 2
      ? { numClasses: labels.length, counts: Int32Array.from(model.testConfusion) }
      : undefined;
  const scores = matrix ? precisionRecallF1(matrix) : undefined;
  const totals = matrix ? classTotals(matrix) : undefined;
  const testAccuracy = totals
    ? totals.truePositives.reduce((sum, count) => sum + count, 0) / totals.total
    : undefined;
  const headingId = `model-${folder}`;
  const cardCommand = <code>imgcls models card models/{folder}</code>;
  // Each SVG's title names the model: it is what screen readers announce, and ids stay unique per page.
  const titled = (chart: string) => `${folder}: ${chart}`;

  return (
    <section className="model-report" aria-labelledby={headingId} data-testid={`model-${folder}`}>
      <h2 id={headingId}>{metadata?.name ?? folder}</h2>
      {model.metadataProblem ? (
        <p className="not-measured">metadata.json is invalid: {model.metadataProblem}</p>
      ) : null}
      <dl className="facts">
        <dt>Folder</dt>
        <dd>
          <code>models/{folder}</code>
          {model.served ? '' : ' (no weights: not served by the demo)'}
        </dd>
        {metadata ? (
          <>
            <dt>Architecture</dt>
            <dd>{metadata.architecture ?? 'not recorded'}</dd>
            <dt>Input</dt>
            <dd>
              {metadata.preset.height}×{metadata.preset.width} RGB, {metadata.preset.resize}
            </dd>
            <dt>Classes</dt>
            <dd>{metadata.labels.length}</dd>
            <dt>Version</dt>
            <dd>{metadata.version}</dd>
          </>
        ) : null}
      </dl>

      <h3>Metrics</h3>
      {testAccuracy !== undefined || metadata?.metrics ? (
        <table className="metrics">
          <tbody>
            {testAccuracy !== undefined && totals && scores ? (
              <>
                <tr>
                  <th scope="row">test accuracy (from the confusion matrix)</th>
                  <td>
                    {percent(testAccuracy)} of {totals.total.toLocaleString('en-US')}
                  </td>
                </tr>
                <tr>
                  <th scope="row">macro F1</th>
                  <td>{scores.macro.f1.toFixed(3)}</td>
                </tr>
              </>
            ) : null}
            {Object.entries(metadata?.metrics ?? {}).map(([name, value]) => (
              <tr key={name}>
                <th scope="row">{metricName(name)}</th>
                <td>{formatMetric(name, value)}</td>
              </tr>
            ))}
            {model.testCalibration ? (
              <tr>
                <th scope="row">expected calibration error</th>
                <td>{model.testCalibration.ece.toFixed(3)}</td>
              </tr>
            ) : null}
          </tbody>
        </table>
      ) : (
        <p className="not-measured">
          Not measured yet: train and evaluate it with <code>imgcls train</code>.
        </p>
      )}

      <div className="charts">
        <Chart
          title="Confusion matrix (test set)"
          svg={matrix && confusionMatrixSvg(matrix, { labels, title: titled('confusion matrix') })}
          missing={
            <>
              no <code>test-confusion.json</code>: <code>imgcls train</code> writes it after
              training.
            </>
          }
        />
        <Chart
          title="F1 per class (test set)"
          svg={scores && perClassF1Svg(scores.perClass, { labels, title: titled('F1 per class') })}
          missing={
            <>
              no <code>test-confusion.json</code>.
            </>
          }
        />
        <Chart
          title="Reliability diagram (test set)"
          svg={
            model.testCalibration &&
            reliabilityDiagramSvg(model.testCalibration, {
              title: titled('reliability'),
            })
          }
          missing={
            <>
              no <code>test-calibration.json</code> (the <code>calibration</code> of{' '}
              <code>evaluate()</code> from @imgcls/metrics).
            </>
          }
        />
        <Chart
          title="Training curves"
          svg={
            model.history &&
            trainingCurvesSvg(
              [
                {
                  name: 'training loss',
                  points: model.history.map((epoch) => ({ x: epoch.epoch, y: epoch.loss })),
                },
                {
                  name: 'validation accuracy',
                  points: model.history.flatMap((epoch) =>
                    epoch.validationAccuracy === undefined
                      ? []
                      : [{ x: epoch.epoch, y: epoch.validationAccuracy }],
                  ),
                  dashed: true,
                },
              ].filter((series) => series.points.length > 0),
              { title: titled('training'), xLabel: 'epoch', yLabel: 'loss / accuracy' },
            )
          }
          missing={
            <>
              no <code>history.jsonl</code>: <code>imgcls train</code> appends one line per epoch.
            </>
          }
        />
      </div>

      <h3>Model card</h3>
      {model.card ? (
        <details className="card">
          <summary>Read MODEL_CARD.md</summary>
          <div
            className="markdown"
            // biome-ignore lint/security/noDangerouslySetInnerHtml: the repository's own Markdown, rendered at build time.
            dangerouslySetInnerHTML={{
              __html: renderMarkdown(model.card, `/model-cards/${folder}/`),
            }}
          />
        </details>
      ) : (
        <p className="not-measured">No MODEL_CARD.md yet: write it with {cardCommand}.</p>
      )}
    </section>
  );
}
