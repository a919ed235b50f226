'use client';

import { useCallback, useEffect, useState } from 'react';
import { Camera } from './camera';
import { ImagePicker } from './image-picker';
import { InputErrorMessage } from './input-error';
import { ModelPanel } from './model-panel';
import { DEMO_MODELS } from './protocol';
import { useClassifierWorker } from './use-classifier-worker';

/** The image sources, the preview and the two model panels; all inference runs in a Web Worker. */
export function Demo() {
  const { panels, inputError, busy, classify } = useClassifierWorker();
  const [previewUrl, setPreviewUrl] = useState<string>();
  const [cameraOn, setCameraOn] = useState(false);

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
      void classify(file);
    },
    [classify],
  );

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
          <ModelPanel key={model.id} model={model} panel={panels[model.id]} classifying={busy} />
        ))}
      </section>
    </>
  );
}
