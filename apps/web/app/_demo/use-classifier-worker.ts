'use client';

import { useCallback, useEffect, useRef, useState } from 'react';
import {
  DEMO_MODELS,
  type DemoModelId,
  type ModelInputPicture,
  type WorkerMessage,
  type WorkerRequest,
} from './protocol';

/** A model that loaded in the worker. */
export interface LoadedModel {
  readonly name: string;
  readonly backend: string;
  readonly inputSize: { readonly height: number; readonly width: number };
  /** Which source of the model store served it, and the URL it came from. */
  readonly source: string;
  readonly origin: string;
}

/** One model's answer for one image. */
export interface PanelResult {
  readonly requestId: number;
  readonly predictions: ReadonlyArray<{ readonly label: string; readonly probability: number }>;
  readonly milliseconds: number;
  readonly modelInput: ModelInputPicture;
  /** Grad-CAM of the top class, when it was asked for. */
  readonly explanation?: PanelExplanation;
}

/** Where the model looked for its top class: a Grad-CAM overlay on its input picture. */
export interface PanelExplanation {
  readonly label: string;
  readonly overlay: ModelInputPicture;
  readonly milliseconds: number;
}

/** What a model panel shows. */
export type PanelState =
  | { readonly status: 'loading' }
  | { readonly status: 'unavailable'; readonly reason: string }
  | { readonly status: 'ready'; readonly model: LoadedModel; readonly result?: PanelResult };

/** Why the latest image could not be classified. */
export interface InputError {
  readonly code: string;
  readonly message: string;
}

const initialPanels = () =>
  Object.fromEntries(DEMO_MODELS.map(({ id }) => [id, { status: 'loading' }])) as Record<
    DemoModelId,
    PanelState
  >;

/**
 * Owns the classification worker for the page's lifetime (the models load once, in the worker) and
 * turns its messages into panel states. `classify` resolves when every model has answered, which lets
 * the camera send its next frame only once the previous one is done.
 */
export function useClassifierWorker() {
  const worker = useRef<Worker | null>(null);
  const latestRequestId = useRef(0);
  const pendingRequests = useRef(new Map<number, () => void>());
  const [panels, setPanels] = useState(initialPanels);
  const [inputError, setInputError] = useState<InputError>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    const instance = new Worker(new URL('./classify.worker.ts', import.meta.url), {
      type: 'module',
    });
    const pending = pendingRequests.current;
    const setPanel = (model: DemoModelId, update: (previous: PanelState) => PanelState) =>
      setPanels((current) => ({ ...current, [model]: update(current[model]) }));

    instance.onmessage = ({ data: message }: MessageEvent<WorkerMessage>) => {
      switch (message.type) {
        case 'loading':
          return setPanel(message.model, () => ({ status: 'loading' }));
        case 'ready': {
          const { name, backend, inputSize, source, origin } = message;
          return setPanel(message.model, () => ({
            status: 'ready',
            model: { name, backend, inputSize, source, origin },
          }));
        }
        case 'unavailable':
          return setPanel(message.model, () => ({
            status: 'unavailable',
            reason: message.reason,
          }));
        case 'result': {
          if (message.requestId !== latestRequestId.current) return;
          const { requestId, predictions, milliseconds, modelInput } = message;
          return setPanel(message.model, (previous) =>
            previous.status === 'ready'
              ? { ...previous, result: { requestId, predictions, milliseconds, modelInput } }
              : previous,
          );
        }
        case 'explanation': {
          if (message.requestId !== latestRequestId.current) return;
          const { label, overlay, milliseconds } = message;
          return setPanel(message.model, (previous) =>
            previous.status === 'ready' && previous.result?.requestId === message.requestId
              ? {
                  ...previous,
                  result: { ...previous.result, explanation: { label, overlay, milliseconds } },
                }
              : previous,
          );
        }
        case 'input-error':
          if (message.requestId !== latestRequestId.current) return;
          setInputError({ code: message.code, message: message.message });
          // Results of an earlier image next to an error about this one would mislead.
          setPanels(
            (current) =>
              Object.fromEntries(
                Object.entries(current).map(([model, panel]) => [
                  model,
                  panel.status === 'ready' ? { status: 'ready', model: panel.model } : panel,
                ]),
              ) as Record<DemoModelId, PanelState>,
          );
          return;
        case 'done':
          if (message.requestId === latestRequestId.current) setBusy(false);
          pending.get(message.requestId)?.();
          pending.delete(message.requestId);
          return;
      }
    };
    worker.current = instance;
    return () => {
      instance.terminate();
      for (const resolve of pending.values()) resolve();
      pending.clear();
    };
  }, []);

  /** Classifies an image with every model; those in `explain` also send their Grad-CAM overlay. */
  const classify = useCallback(
    (image: Blob | ImageBitmap, explain: readonly DemoModelId[] = []) => {
      const active = worker.current;
      if (!active) return Promise.resolve();
      latestRequestId.current += 1;
      const requestId = latestRequestId.current;
      setInputError(undefined);
      setBusy(true);
      const request: WorkerRequest = { type: 'classify', requestId, image, explain };
      active.postMessage(request, image instanceof ImageBitmap ? [image] : []);
      return new Promise<void>((resolve) => pendingRequests.current.set(requestId, resolve));
    },
    [],
  );

  /** Asks one model to explain the latest image (after its overlay was switched on). */
  const explain = useCallback((model: DemoModelId) => {
    const request: WorkerRequest = {
      type: 'explain',
      requestId: latestRequestId.current,
      model,
    };
    worker.current?.postMessage(request);
  }, []);

  return { panels, inputError, busy, classify, explain };
}
