import type { Metadata } from 'next';
import { ModelReport } from './_components/model-report';
import { renderMarkdown } from './_lib/markdown';
import { readModelsOverview } from './_lib/read-models';

export const metadata: Metadata = {
  title: 'Models — imgcls',
  description: 'The models the demo runs: how they were trained and how well they do.',
};

/** Built once at build time from the repository's models/ folder. */
export default function ModelsPage() {
  const { comparison, models } = readModelsOverview();
  return (
    <>
      <h1>Models</h1>
      <p className="lead">
        The models in this repository&apos;s <code>models/</code> folder, as measured by{' '}
        <code>@imgcls/metrics</code> on their test sets. This page is built from those files; the
        ImageNet MobileNetV2 is not listed unless a copy was imported.
      </p>
      <section aria-labelledby="comparison" className="comparison">
        <h2 id="comparison">Comparison</h2>
        {comparison ? (
          <div
            className="markdown"
            // biome-ignore lint/security/noDangerouslySetInnerHtml: the repository's own Markdown, rendered at build time.
            dangerouslySetInnerHTML={{ __html: renderMarkdown(comparison, '/model-cards/', 2) }}
          />
        ) : (
          <p className="not-measured" data-testid="comparison-missing">
            Not measured yet: <code>models/COMPARISON.md</code> does not exist.
          </p>
        )}
      </section>
      {models.length === 0 ? (
        <p className="not-measured">
          No trained model in <code>models/</code> yet: train one with <code>imgcls train</code>.
        </p>
      ) : (
        models.map((model) => <ModelReport key={model.folder} model={model} />)
      )}
    </>
  );
}
