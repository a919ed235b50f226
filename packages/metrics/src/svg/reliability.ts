import type { Calibration } from '../classification';
import { coordinate, escapeXml, PALETTE, svgDocument } from './document';

/** A reliability diagram: accuracy against confidence per bin, with the diagonal of perfect calibration. */
export function reliabilityDiagramSvg(
  calibration: Calibration,
  options: { readonly title?: string } = {},
): string {
  const size = 320;
  const left = 60;
  const top = 40;
  const x = (value: number) => left + value * size;
  const y = (value: number) => top + (1 - value) * size;
  const parts: string[] = [];
  for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(
      `<line x1="${x(0)}" y1="${y(tick)}" x2="${x(1)}" y2="${y(tick)}" stroke="#dddddd"/>`,
    );
    parts.push(
      `<text x="${x(0) - 8}" y="${y(tick) + 4}" font-size="11" text-anchor="end">${tick}</text>`,
    );
    parts.push(
      `<text x="${x(tick)}" y="${y(0) + 16}" font-size="11" text-anchor="middle">${tick}</text>`,
    );
  }
  for (const bin of calibration.bins) {
    if (bin.count === 0) continue;
    const barWidth = (bin.upper - bin.lower) * size;
    parts.push(
      `<rect x="${coordinate(x(bin.lower))}" y="${coordinate(y(bin.accuracy))}" width="${coordinate(barWidth)}" height="${coordinate(bin.accuracy * size)}" fill="${PALETTE[0]}" fill-opacity="0.8" stroke="#ffffff"><title>confidence ${bin.confidence.toFixed(2)}, accuracy ${bin.accuracy.toFixed(2)}, ${bin.count} predictions</title></rect>`,
    );
  }
  parts.push(
    `<line x1="${x(0)}" y1="${y(0)}" x2="${x(1)}" y2="${y(1)}" stroke="${PALETTE[3]}" stroke-dasharray="6 4" stroke-width="2"/>`,
  );
  parts.push(
    `<text x="${x(0.5)}" y="${y(0) + 36}" font-size="13" text-anchor="middle">confidence (top-1 probability)</text>`,
  );
  parts.push(
    `<text transform="translate(18,${y(0.5)}) rotate(-90)" font-size="13" text-anchor="middle">accuracy</text>`,
  );
  const title = options.title ?? 'Reliability diagram';
  parts.push(`<text x="12" y="22" font-size="15" font-weight="bold">${escapeXml(title)}</text>`);
  parts.push(
    `<text x="${x(0) + 8}" y="${y(1) + 16}" font-size="12">ECE ${calibration.ece.toFixed(3)}</text>`,
  );
  return svgDocument(
    left + size + 30,
    top + size + 50,
    title,
    `Accuracy per confidence bin; bars below the dashed diagonal mean over-confidence. Expected calibration error ${calibration.ece.toFixed(3)}.`,
    parts.join('\n'),
  );
}
