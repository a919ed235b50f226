import type { ReactNode } from 'react';

/**
 * One picture of the Models page: an SVG drawn by @imgcls/metrics when its data was measured (it
 * carries its own title and description for screen readers), or an honest note saying what to run.
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
    <figure className="chart" data-title={title}>
      {svg ? (
        <div
          className="chart-picture"
          // biome-ignore lint/security/noDangerouslySetInnerHtml: SVG that @imgcls/metrics drew from the repository's own files at build time.
          dangerouslySetInnerHTML={{ __html: svg }}
        />
      ) : (
        <>
          <figcaption>{title}</figcaption>
          <p className="not-measured">Not measured yet: {missing}</p>
        </>
      )}
    </figure>
  );
}
