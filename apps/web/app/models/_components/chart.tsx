import type { ReactNode } from 'react';

/**
 * One picture of the Models page: an SVG drawn by @imgcls/metrics when its data was measured, or an
 * honest note saying what to run to measure it.
 */
export function Chart({
  title,
  svg,
  missing,
}: {
  title: string;
  /** SVG markup from @imgcls/metrics, undefined when not measured. */
  svg: string | undefined;
  /** What is missing and how to produce it. */
  missing: ReactNode;
}) {
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      {svg ? (
        <div
          className="chart-picture"
          role="img"
          aria-label={title}
          // biome-ignore lint/security/noDangerouslySetInnerHtml: SVG that @imgcls/metrics drew from the repository's own files at build time.
          dangerouslySetInnerHTML={{ __html: svg }}
        />
      ) : (
        <p className="not-measured">Not measured yet: {missing}</p>
      )}
    </figure>
  );
}
