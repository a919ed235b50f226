'use client';

import { useCallback, useEffect, useState } from 'react';
import { Camera } from './camera';
import { ImagePicker } from './image-picker';
import { InputErrorMessage } from './input-error';
import { ModelPanel } from './model-panel';
import { DEMO_MODELS, type DemoModelId } from './protocol';
import { useClassifierWorker } from './use-classifier-worker';

/** The image sources, the preview and the two model panels; all inference runs in a Web Worker. */
export function Demo() {
  const { panels, inputError, busy, classify, explain } = useClassifierWorker();
  const [previewUrl, setPreviewUrl] = useState<string>();
  const [cameraOn, setCameraOn] = useState(false);
  /** Panels whose Grad-CAM overlay is switched on (for still images; the camera is too fast for it). */
  const [explained, setExplained] = useState<ReadonlySet<DemoModelId>>(new Set());

  useEffect(
    () => () => {
      if (previewUrl) URL.revokeObjectURL(previewUrl);
    },
    [previewUrl],
  );

  const onImage = useCallback(
    (file: File) => {
      setCameraOn(false);
      setPreviewUrl(URL.createObjectURL(file));
      void classify(file, [...explained]);
    },
    [classify, explained],
  );

  const onExplainChange = (model: DemoModelId, on: boolean) => {
    setExplained((current) => {
      const next = new Set(current);
      if (on) next.add(model);
      else next.delete(model);
      return next;
    });
    const panel = panels[model];
    if (on && !cameraOn && panel.status === 'ready' && panel.result && !panel.result.explanation)
      explain(model);
  };

  return (
    <>
      <section className="sources" aria-label="Image to classify">
        <ImagePicker onImage={onImage} />
        <button
          type="button"
          className="button secondary"
          aria-pressed={cameraOn}
          onClick={() => setCameraOn((on) => !on)}
          data-testid="camera-toggle"
        >
          {cameraOn ? 'Stop the camera' : 'Use the camera'}
        </button>
      </section>
      {inputError ? <InputErrorMessage error={inputError} /> : null}
      <div className="stage">
        {cameraOn ? <Camera onFrame={classify} /> : null}
        {!cameraOn && previewUrl && !inputError ? (
          // biome-ignore lint/performance/noImgElement: a local object URL, not an asset next/image could optimise.
          <img
            className="preview"
            src={previewUrl}
            alt="The file you chose"
            data-testid="preview"
          />
        ) : null}
      </div>
      {/* Live camera results change several times a second: announcing each would drown a screen reader. */}
      <section className="panels" aria-live={cameraOn ? 'off' : 'polite'} aria-label="Predictions">
        {DEMO_MODELS.map((model) => (
          <ModelPanel
            key={model.id}
            model={model}
            panel={panels[model.id]}
            classifying={busy}
            explanation={{
              on: explained.has(model.id),
              available: !cameraOn,
              onChange: (on) => onExplainChange(model.id, on),
            }}
          />
        ))}
      </section>
    </>
  );
}
