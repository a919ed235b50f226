'use client';

import { useEffect, useRef } from 'react';
import type { DEMO_MODELS, ModelInputPicture } from './protocol';
import type { LoadedModel, PanelResult, PanelState } from './use-classifier-worker';

type DemoModel = (typeof DEMO_MODELS)[number];

/** The panel's Grad-CAM switch: whether it is on, and whether it can be (not with the live camera). */
export interface ExplanationToggle {
  readonly on: boolean;
  readonly available: boolean;
  readonly onChange: (on: boolean) => void;
}

/** How the panel names the model store's source of a model (its full URL is the element's title). */
const SOURCE_LABELS: Readonly<Record<string, string>> = {
  cdn: 'model package',
  'models-folder': 'models folder',
  url: 'hosted model',
};

/** One model's column: its state, its top-5 with confidence bars, latency, backend, source and input picture. */
export function ModelPanel({
  model,
  panel,
  classifying,
  explanation,
}: {
  model: DemoModel;
  panel: PanelState;
  /** A newer image is being classified: the shown result is about to be replaced. */
  classifying: boolean;
  explanation: ExplanationToggle;
}) {
  const headingId = `panel-${model.id}-title`;
  const result = panel.status === 'ready' ? panel.result : undefined;
  return (
    <article
      className="panel"
      aria-labelledby={headingId}
      aria-busy={panel.status === 'loading' || classifying}
      data-testid={`panel-${model.id}`}
      data-state={result ? 'result' : panel.status}
      data-request={result?.requestId}
      data-source={panel.status === 'ready' ? panel.model.source : undefined}
    >
      <header className="panel-header">
        <h2 id={headingId}>{model.title}</h2>
        <p className="muted">{panel.status === 'ready' ? panel.model.name : model.subtitle}</p>
      </header>
      {panel.status === 'loading' ? (
        <p className="muted">
          <span className="spinner" aria-hidden="true" /> Loading and warming up the model…
        </p>
      ) : null}
      {panel.status === 'unavailable' ? (
        <div className="unavailable" data-testid={`unavailable-${model.id}`}>
          <p>
            <strong>This model is not available.</strong> {panel.reason}
          </p>
          <p>{model.whenUnavailable.text}</p>
          <pre>
            <code>{model.whenUnavailable.command}</code>
          </pre>
        </div>
      ) : null}
      {panel.status === 'ready' && !result ? (
        <p className="muted">
          Ready on {panel.model.backend}: choose an image, or start the camera.
        </p>
      ) : null}
      {panel.status === 'ready' && result ? (
        <ResultView
          result={result}
          model={panel.model}
          explanation={explanation}
          modelId={model.id}
        />
      ) : null}
    </article>
  );
}

function ResultView({
  result,
  model,
  explanation,
  modelId,
}: {
  result: PanelResult;
  model: LoadedModel;
  explanation: ExplanationToggle;
  modelId: string;
}) {
  const { width, height } = result.modelInput;
  const overlay = explanation.on && explanation.available ? result.explanation : undefined;
  return (
    <>
      <ol className="predictions" aria-label="Top 5 predictions">
        {result.predictions.map((prediction) => {
          const percent = prediction.probability * 100;
          return (
            <li key={prediction.label}>
              <span className="label">{prediction.label}</span>
              <span className="probability">{percent.toFixed(1)}%</span>
              <span className="bar-track" aria-hidden="true">
                <span className="bar" style={{ width: `${Math.max(0.5, percent)}%` }} />
              </span>
            </li>
          );
        })}
      </ol>
      <div className="panel-footer">
        <figure className="model-input" data-testid={`model-input-${modelId}`}>
          {overlay ? (
            <ModelInputCanvas
              picture={overlay.overlay}
              label={`Grad-CAM heatmap of "${overlay.label}" over the model's ${width}×${height} input`}
            />
          ) : (
            <ModelInputCanvas
              picture={result.modelInput}
              label={`The image resized to the model's ${width}×${height} input`}
            />
          )}
          <figcaption>
            {overlay
              ? `Where it looked for “${overlay.label}” (Grad-CAM, ${overlay.milliseconds.toFixed(0)} ms)`
              : explanation.on && explanation.available
                ? 'Computing Grad-CAM…'
                : `What it sees: ${width}×${height}`}
          </figcaption>
          <label className="explain-toggle">
            <input
              type="checkbox"
              checked={explanation.on}
              disabled={!explanation.available}
              onChange={(event) => explanation.onChange(event.target.checked)}
              data-testid={`explain-${modelId}`}
            />{' '}
            Grad-CAM overlay{explanation.available ? '' : ' (still images only)'}
          </label>
        </figure>
        <dl className="timing" data-testid="timing">
          <dt>Latency</dt>
          <dd>{result.milliseconds.toFixed(0)} ms</dd>
          <dt>Backend</dt>
          <dd>{model.backend}</dd>
          <dt>From</dt>
          <dd title={model.origin}>{SOURCE_LABELS[model.source] ?? model.source}</dd>
        </dl>
      </div>
    </>
  );
}

/** The model's input drawn pixel for pixel, scaled up by CSS without smoothing so small inputs stay honest. */
function ModelInputCanvas({ picture, label }: { picture: ModelInputPicture; label: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    canvas.current
      ?.getContext('2d')
      ?.putImageData(new ImageData(picture.rgba, picture.width, picture.height), 0, 0);
  }, [picture]);
  return (
    <canvas
      ref={canvas}
      width={picture.width}
      height={picture.height}
      role="img"
      aria-label={label}
    />
  );
}
