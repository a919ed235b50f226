import type { EvaluationResult } from '@imgcls/metrics';
import { percent, reportOf } from './evaluation';

/** What {@link htmlReport} shows. */
export interface HtmlReportInput {
  readonly evaluation: EvaluationResult;
  readonly classes: readonly string[];
  /** SVG documents, inlined as they are. */
  readonly charts: Record<string, string>;
  /** How the model's labels were matched to the dataset's classes. */
  readonly alignment: string;
  /** Which images were evaluated. */
  readonly data: string;
  readonly backend: string;
}

const escapeHtml = (text: string) =>
  text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');

function table(head: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const cells = (values: readonly string[], tag: 'th' | 'td') =>
    values
      .map(
        (value, index) => `<${tag}${index > 0 ? ' class="n"' : ''}>${escapeHtml(value)}</${tag}>`,
      )
      .join('');
  return `<table><thead><tr>${cells(head, 'th')}</tr></thead><tbody>${rows
    .map((row) => `<tr>${cells(row, 'td')}</tr>`)
    .join('')}</tbody></table>`;
}

/**
 * A self-contained HTML page for one evaluation: no scripts, no external files; the charts are inline
 * SVG, so the page can be mailed or archived as one file.
 */
export function htmlReport(input: HtmlReportInput): string {
  const { evaluation, classes } = input;
  const report = reportOf(evaluation, classes);
  const name = (k: number) => classes[k] ?? String(k);
  const f3 = (value: number) => value.toFixed(3);
  const { correct, wrong } = evaluation.confidence;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(evaluation.name)}: evaluation</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #111; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { padding: 0.25rem 0.75rem; border-bottom: 1px solid #ddd; text-align: left; }
.n { text-align: right; font-variant-numeric: tabular-nums; }
.charts { display: flex; flex-wrap: wrap; gap: 1rem; }
.charts svg { max-width: 100%; height: auto; }
</style>
</head>
<body>
<h1>${escapeHtml(evaluation.name)}</h1>
<p>${escapeHtml(input.data)}; backend ${escapeHtml(input.backend)}.<br>Labels: ${escapeHtml(input.alignment)}.</p>
<h2>Summary</h2>
${table(
  ['measure', 'value'],
  [
    ['accuracy', percent(evaluation.accuracy)],
    ...Object.entries(evaluation.topK).map(([k, value]) => [
      k.replace('top', 'top-'),
      percent(value),
    ]),
    ['balanced accuracy', percent(evaluation.balancedAccuracy)],
    ['macro F1', f3(evaluation.scores.macro.f1)],
    ["Cohen's kappa", f3(evaluation.cohenKappa)],
    ['log loss', f3(evaluation.logLoss)],
    ['expected calibration error', f3(evaluation.calibration.ece)],
    ['mean confidence when right', `${f3(correct.mean)} (${correct.count})`],
    ['mean confidence when wrong', `${f3(wrong.mean)} (${wrong.count})`],
    [
      'latency p50 / p95 (ms per image)',
      `${evaluation.latencyMs.p50.toFixed(2)} / ${evaluation.latencyMs.p95.toFixed(2)}`,
    ],
  ],
)}
<h2>Classification report</h2>
${table(
  ['class', 'precision', 'recall', 'F1', 'support'],
  [
    ...report.classes.map((c) => [
      c.label,
      f3(c.precision),
      f3(c.recall),
      f3(c.f1),
      String(c.support),
    ]),
    [
      'macro avg',
      f3(report.macro.precision),
      f3(report.macro.recall),
      f3(report.macro.f1),
      String(report.support),
    ],
    [
      'weighted avg',
      f3(report.weighted.precision),
      f3(report.weighted.recall),
      f3(report.weighted.f1),
      String(report.support),
    ],
  ],
)}
<h2>Charts</h2>
<div class="charts">
${Object.values(input.charts).join('\n')}
</div>
<h2>Most confused pairs</h2>
${table(
  ['true class', 'predicted', 'count', 'share of the class'],
  evaluation.mostConfused.map((pair) => [
    name(pair.trueClass),
    name(pair.predictedClass),
    String(pair.count),
    percent(pair.rate),
  ]),
)}
<h2>Worst examples</h2>
${table(
  ['image', 'true class', 'its probability', 'predicted', 'confidence'],
  evaluation.worst.map((example) => [
    example.id,
    name(example.trueClass),
    example.trueClassProbability.toFixed(4),
    name(example.predictedClass),
    f3(example.confidence),
  ]),
)}
</body>
</html>
`;
}
