/** Escapes text for SVG/XML content and attribute values. */
export function escapeXml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&apos;');
}

/** Okabe–Ito: a palette that stays distinguishable with the common colour-vision deficiencies. */
export const PALETTE = [
  '#0072B2',
  '#E69F00',
  '#009E73',
  '#D55E00',
  '#CC79A7',
  '#56B4E9',
  '#F0E442',
  '#000000',
] as const;

/** Font settings inlined in every chart: no external fonts or CSS, so converters (sharp) render them. */
export const FONT = 'font-family="DejaVu Sans, Arial, Helvetica, sans-serif"';

/**
 * Wraps chart elements in a self-contained SVG document with a title and description for screen
 * readers (`role="img"`, `aria-labelledby`).
 */
export function svgDocument(
  width: number,
  height: number,
  title: string,
  description: string,
  body: string,
): string {
  const id = title.toLowerCase().replaceAll(/[^a-z0-9]+/g, '-');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="${id}-title ${id}-desc" ${FONT}>`,
    `<title id="${id}-title">${escapeXml(title)}</title>`,
    `<desc id="${id}-desc">${escapeXml(description)}</desc>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    body,
    '</svg>',
  ].join('\n');
}

/** Formats a number for an SVG coordinate (two decimals at most). */
export function coordinate(value: number): string {
  return Number(value.toFixed(2)).toString();
}
