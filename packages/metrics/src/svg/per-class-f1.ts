import type { ClassScores } from '../classification';
import { coordinate, escapeXml, PALETTE, svgDocument } from './document';

/** Horizontal bars of per-class F1 (with precision and recall in each bar's tooltip), sorted by F1. */
export function perClassF1Svg(
  perClass: readonly ClassScores[],
  options: {
    readonly labels?: readonly string[];
    readonly title?: string;
    readonly maxClasses?: number;
  } = {},
): string {
  const rows = perClass
    .map((scores, k) => ({ ...scores, label: options.labels?.[k] ?? String(k) }))
    .filter((scores) => scores.support > 0 || scores.predicted > 0)
    .sort((a, b) => a.f1 - b.f1)
    .slice(0, options.maxClasses ?? 30);
  const barHeight = 20;
  const labelWidth = Math.min(180, 16 + 7 * Math.max(4, ...rows.map((row) => row.label.length)));
  const plotWidth = 360;
  const top = 40;
  const parts = rows.map((row, index) => {
    const y = top + index * (barHeight + 4);
    return [
      `<text x="${labelWidth - 6}" y="${y + 14}" font-size="12" text-anchor="end">${escapeXml(row.label)}</text>`,
      `<rect x="${labelWidth}" y="${y}" width="${coordinate(row.f1 * plotWidth)}" height="${barHeight}" fill="${PALETTE[2]}"><title>${escapeXml(row.label)}: F1 ${row.f1.toFixed(3)}, precision ${row.precision.toFixed(3)}, recall ${row.recall.toFixed(3)}, support ${row.support}</title></rect>`,
      `<text x="${coordinate(labelWidth + row.f1 * plotWidth + 4)}" y="${y + 14}" font-size="11">${row.f1.toFixed(2)}</text>`,
    ].join('\n');
  });
  const title = options.title ?? 'F1 per class';
  parts.push(`<text x="12" y="22" font-size="15" font-weight="bold">${escapeXml(title)}</text>`);
  const height = top + rows.length * (barHeight + 4) + 16;
  return svgDocument(
    labelWidth + plotWidth + 50,
    height,
    title,
    `F1 score of each class, lowest first (${rows.length} classes).`,
    parts.join('\n'),
  );
}
