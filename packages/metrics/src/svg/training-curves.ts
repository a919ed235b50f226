import { coordinate, escapeXml, PALETTE, svgDocument } from './document';
import { niceTicks } from './ticks';

/** One curve: a named metric over epochs or steps. */
export interface CurveSeries {
  readonly name: string;
  readonly points: ReadonlyArray<{ readonly x: number; readonly y: number }>;
  /** Draw dashed (e.g. validation next to training). */
  readonly dashed?: boolean;
}

/** Line chart of training curves (loss or accuracy against epoch or step), one colour per series. */
export function trainingCurvesSvg(
  series: readonly CurveSeries[],
  options: { readonly title?: string; readonly xLabel?: string; readonly yLabel?: string } = {},
): string {
  const points = series
    .flatMap((s) => s.points)
    .filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const width = 560;
  const height = 300;
  const left = 60;
  const top = 40;
  const plotWidth = width - left - 190;
  const plotHeight = height - top - 50;
  const xTicks = niceTicks(
    Math.min(...points.map((p) => p.x), 0),
    Math.max(...points.map((p) => p.x), 1),
  );
  const yTicks = niceTicks(
    Math.min(...points.map((p) => p.y), 0),
    Math.max(...points.map((p) => p.y), 0),
  );
  const [minX, maxX] = [xTicks[0] as number, xTicks.at(-1) as number];
  const [minY, maxY] = [yTicks[0] as number, yTicks.at(-1) as number];
  const x = (value: number) => left + ((value - minX) / (maxX - minX)) * plotWidth;
  const y = (value: number) => top + (1 - (value - minY) / (maxY - minY)) * plotHeight;
  const parts: string[] = [];
  for (const value of yTicks) {
    parts.push(
      `<line x1="${left}" y1="${coordinate(y(value))}" x2="${left + plotWidth}" y2="${coordinate(y(value))}" stroke="#dddddd"/>`,
    );
    parts.push(
      `<text x="${left - 6}" y="${coordinate(y(value) + 4)}" font-size="11" text-anchor="end">${value}</text>`,
    );
  }
  for (const value of xTicks)
    parts.push(
      `<text x="${coordinate(x(value))}" y="${top + plotHeight + 16}" font-size="11" text-anchor="middle">${value}</text>`,
    );
  series.forEach((s, index) => {
    const colour = PALETTE[index % PALETTE.length] as string;
    const path = s.points
      .filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y))
      .map((p, i) => `${i === 0 ? 'M' : 'L'}${coordinate(x(p.x))},${coordinate(y(p.y))}`)
      .join(' ');
    parts.push(
      `<path d="${path}" fill="none" stroke="${colour}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
    );
    const legendY = top + index * 18;
    parts.push(
      `<line x1="${left + plotWidth + 14}" y1="${legendY}" x2="${left + plotWidth + 34}" y2="${legendY}" stroke="${colour}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
    );
    parts.push(
      `<text x="${left + plotWidth + 38}" y="${legendY + 4}" font-size="12">${escapeXml(s.name)}</text>`,
    );
  });
  parts.push(
    `<text x="${left + plotWidth / 2}" y="${height - 12}" font-size="13" text-anchor="middle">${escapeXml(options.xLabel ?? 'epoch')}</text>`,
  );
  parts.push(
    `<text transform="translate(16,${top + plotHeight / 2}) rotate(-90)" font-size="13" text-anchor="middle">${escapeXml(options.yLabel ?? 'value')}</text>`,
  );
  const title = options.title ?? 'Training curves';
  parts.push(`<text x="12" y="22" font-size="15" font-weight="bold">${escapeXml(title)}</text>`);
  return svgDocument(
    width,
    height,
    title,
    `${series.map((s) => s.name).join(', ')} against ${options.xLabel ?? 'epoch'}.`,
    parts.join('\n'),
  );
}
