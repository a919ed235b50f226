'use client';

import { type ChangeEvent, type DragEvent, useCallback, useEffect, useRef, useState } from 'react';
import { DEMO_MODELS, type DemoModelId, type WorkerMessage } from './worker/protocol';

/** What a panel knows about the model it runs: its backend and name. */
type Loaded = { backend?: string; name?: string };
type Panel =
  | { state: 'loading' }
  | ({ state: 'ready' } & Loaded)
  | { state: 'unavailable'; message: string }
  | ({
      state: 'result';
      predictions: ReadonlyArray<{ label: string; probability: number }>;
      milliseconds: number;
    } & Loaded);

/** The upload area and the two model panels; all inference runs in a Web Worker. */
export function Demo() {
  const worker = useRef<Worker | null>(null);
  const requestId = useRef(0);
  const [panels, setPanels] = useState<Record<DemoModelId, Panel>>({
    'mobilenet-v2': { state: 'loading' },
    cifar10: { state: 'loading' },
  });
  const [preview, setPreview] = useState<string>();
  const [inputError, setInputError] = useState<string>();
  const [dragging, setDragging] = useState(false);

  useEffect(() => {
    const instance = new Worker(new URL('./worker/classify.worker.ts', import.meta.url), {
      type: 'module',
    });
    instance.onmessage = (event: MessageEvent<WorkerMessage>) => {
      const message = event.data;
      if (message.type === 'input-error') {
        if (message.requestId === requestId.current) setInputError(message.message);
        return;
      }
      setPanels((current) => {
        const previous = current[message.model];
        const loaded: Loaded =
          previous.state === 'ready' || previous.state === 'result'
            ? { backend: previous.backend, name: previous.name }
            : {};
        if (message.type === 'status')
          return {
            ...current,
            [message.model]:
              message.state === 'ready'
                ? { state: 'ready', backend: message.backend, name: message.name }
                : { state: 'loading' },
          };
        if (message.type === 'unavailable')
          return {
            ...current,
            [message.model]: { state: 'unavailable', message: message.message },
          };
        if (message.requestId !== requestId.current) return current;
        return {
          ...current,
          [message.model]: {
            state: 'result',
            ...loaded,
            predictions: message.predictions,
            milliseconds: message.milliseconds,
          },
        };
      });
    };
    worker.current = instance;
    return () => instance.terminate();
  }, []);

  const classify = useCallback((file: Blob) => {
    requestId.current += 1;
    setInputError(undefined);
    setPreview((old) => {
      if (old) URL.revokeObjectURL(old);
      return URL.createObjectURL(file);
    });
    worker.current?.postMessage({ type: 'classify', requestId: requestId.current, file });
  }, []);

  useEffect(() => {
    const onPaste = (event: ClipboardEvent) => {
      const file = [...(event.clipboardData?.files ?? [])][0];
      if (file) classify(file);
    };
    window.addEventListener('paste', onPaste);
    return () => window.removeEventListener('paste', onPaste);
  }, [classify]);

  const onDrop = (event: DragEvent<HTMLLabelElement>) => {
    event.preventDefault();
    setDragging(false);
    const file = event.dataTransfer.files[0];
    if (file) classify(file);
  };
  const onPick = (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    if (file) classify(file);
  };

  return (
    <>
      <label
        className={`dropzone${dragging ? ' dragging' : ''}`}
        onDragOver={(event) => {
          event.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        <input
          type="file"
          accept="image/*"
          onChange={onPick}
          aria-describedby="dropzone-help"
          data-testid="file-input"
        />
        <span id="dropzone-help">
          Drop an image here, paste one, or choose a file. It never leaves your browser.
        </span>
      </label>
      {inputError ? (
        <p role="alert" className="input-error" data-testid="input-error">
          This file could not be read as an image: {inputError}
        </p>
      ) : null}
      {preview && !inputError ? (
        // biome-ignore lint/performance/noImgElement: a local object URL, not an asset next/image could optimise.
        <img
          className="preview"
          src={preview}
          alt="Your upload, as the models see it before resizing"
        />
      ) : null}
      <section className="panels" aria-live="polite">
        {DEMO_MODELS.map(({ id, title }) => (
          <ModelPanel key={id} id={id} title={title} panel={panels[id]} />
        ))}
      </section>
    </>
  );
}

function ModelPanel({ id, title, panel }: { id: DemoModelId; title: string; panel: Panel }) {
  return (
    <article className="panel" data-testid={`panel-${id}`} data-state={panel.state}>
      <h2>{title}</h2>
      {panel.state === 'loading' ? <p>Loading the model…</p> : null}
      {panel.state === 'ready' ? (
        <p>
          {panel.name ?? 'Ready'}
          {panel.backend ? ` (${panel.backend})` : ''}: choose an image.
        </p>
      ) : null}
      {panel.state === 'unavailable' ? (
        <p className="unavailable" role="status">
          This model is not available: {panel.message}
        </p>
      ) : null}
      {panel.state === 'result' ? (
        <>
          <ol className="predictions">
            {panel.predictions.map((prediction) => (
              <li key={prediction.label}>
                <span className="label">{prediction.label}</span>
                <span
                  className="bar"
                  style={{ width: `${Math.max(1, prediction.probability * 100)}%` }}
                  aria-hidden="true"
                />
                <span className="probability">{(prediction.probability * 100).toFixed(1)}%</span>
              </li>
            ))}
          </ol>
          <p className="timing">
            {panel.name ? `${panel.name}: ` : ''}
            {panel.milliseconds.toFixed(0)} ms{panel.backend ? ` on ${panel.backend}` : ''}
          </p>
        </>
      ) : null}
    </article>
  );
}
