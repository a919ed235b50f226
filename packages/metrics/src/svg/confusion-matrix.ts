import type { ConfusionMatrix } from '../confusion';
import { coordinate, escapeXml, svgDocument } from './document';

/** Options of {@link confusionMatrixSvg}. */
export interface ConfusionMatrixSvgOptions {
  /** Class names by index. */
  readonly labels?: readonly string[];
  /** Colour rows by recall (row-normalised) rather than raw counts. Default true. */
  readonly normalize?: boolean;
  /**
   * Most classes drawn: above this, only the classes involved in the most errors are shown (with a
   * note), so a 1000-class matrix stays readable. Default 20.
   */
  readonly maxClasses?: number;
  readonly title?: string;
}

/** A confusion-matrix heatmap: rows are true classes, columns predicted ones, cells show counts. */
export function confusionMatrixSvg(
  matrix: ConfusionMatrix,
  options: ConfusionMatrixSvgOptions = {},
): string {
  const n = matrix.numClasses;
  const count = (t: number, p: number) => matrix.counts[t * n + p] as number;
  const shown = selectClasses(matrix, options.maxClasses ?? 20);
  const labels = shown.map((k) => options.labels?.[k] ?? String(k));
  const rowTotals = shown.map((t) =>
    Array.from({ length: n }, (_, p) => count(t, p)).reduce((a, b) => a + b, 0),
  );
  const normalize = options.normalize ?? true;
  const maxCount = Math.max(1, ...shown.flatMap((t) => shown.map((p) => count(t, p))));
  const cell = Math.max(18, Math.min(44, Math.floor(560 / shown.length)));
  const labelWidth = Math.min(160, 12 + 7 * Math.max(...labels.map((label) => label.length)));
  const top = 40 + labelWidth;
  const left = labelWidth + 30;
  const width = left + cell * shown.length + 20;
  const height = top + cell * shown.length + 50;
  const parts: string[] = [];
  shown.forEach((t, row) => {
    shown.forEach((p, column) => {
      const value = count(t, p);
      const intensity = normalize
        ? value / Math.max(1, rowTotals[row] as number)
        : value / maxCount;
      const x = left + column * cell;
      const y = top + row * cell;
      // Blue ramp from white; text flips to white on dark cells to keep contrast above 4.5:1.
      const shade = Math.round(255 - intensity * 200);
      parts.push(
        `<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="rgb(${shade},${Math.round(255 - intensity * 140)},255)" stroke="#ffffff"/>`,
      );
      if (cell >= 22) {
        parts.push(
          `<text x="${x + cell / 2}" y="${y + cell / 2 + 4}" font-size="${Math.min(12, cell / 3)}" text-anchor="middle" fill="${intensity > 0.55 ? '#ffffff' : '#111111'}">${value}</text>`,
        );
      }
    });
    parts.push(
      `<text x="${left - 6}" y="${top + row * cell + cell / 2 + 4}" font-size="12" text-anchor="end">${escapeXml(labels[row] as string)}</text>`,
    );
  });
  shown.forEach((_, column) => {
    const x = left + column * cell + cell / 2;
    parts.push(
      `<text transform="translate(${coordinate(x + 4)},${top - 6}) rotate(-60)" font-size="12">${escapeXml(labels[column] as string)}</text>`,
    );
  });
  parts.push(
    `<text x="${left + (cell * shown.length) / 2}" y="${height - 14}" font-size="13" text-anchor="middle">predicted class</text>`,
  );
  parts.push(
    `<text transform="translate(14,${top + (cell * shown.length) / 2}) rotate(-90)" font-size="13" text-anchor="middle">true class</text>`,
  );
  const title = options.title ?? 'Confusion matrix';
  parts.push(`<text x="12" y="22" font-size="15" font-weight="bold">${escapeXml(title)}</text>`);
  const note =
    shown.length < n ? ` Showing the ${shown.length} of ${n} classes with the most errors.` : '';
  return svgDocument(
    width,
    height,
    title,
    `Counts of true classes (rows) against predicted classes (columns).${note}`,
    parts.join('\n'),
  );
}

/** All classes when few; otherwise those involved in the most misclassifications, in index order. */
function selectClasses(matrix: ConfusionMatrix, maxClasses: number): number[] {
  const n = matrix.numClasses;
  if (n <= maxClasses) return Array.from({ length: n }, (_, k) => k);
  const errors = new Array<number>(n).fill(0);
  for (let t = 0; t < n; t++) {
    for (let p = 0; p < n; p++) {
      if (t === p) continue;
      const count = matrix.counts[t * n + p] as number;
      errors[t] = (errors[t] as number) + count;
      errors[p] = (errors[p] as number) + count;
    }
  }
  return errors
    .map((value, k) => ({ value, k }))
    .sort((a, b) => b.value - a.value || a.k - b.k)
    .slice(0, maxClasses)
    .map(({ k }) => k)
    .sort((a, b) => a - b);
}
