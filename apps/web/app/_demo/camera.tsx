'use client';

import { useEffect, useRef, useState } from 'react';

/** Shortest time between two camera frames sent for classification: a few predictions a second. */
const FRAME_INTERVAL_MS = 300;

/**
 * A live camera preview that hands frames to `onFrame` one at a time: the next frame is grabbed only
 * after the previous one was classified, so a slow model never builds up a queue.
 */
export function Camera({ onFrame }: { onFrame: (frame: ImageBitmap) => Promise<void> }) {
  const video = useRef<HTMLVideoElement>(null);
  const [problem, setProblem] = useState<string>();

  useEffect(() => {
    let stopped = false;
    let stream: MediaStream | undefined;
    const start = async () => {
      try {
        stream = await navigator.mediaDevices.getUserMedia({
          video: { facingMode: 'environment', width: { ideal: 640 } },
        });
      } catch (error) {
        setProblem(cameraProblem(error));
        return;
      }
      const element = video.current;
      if (stopped || !element) return;
      element.srcObject = stream;
      await element.play().catch(() => undefined);
      while (!stopped) {
        const started = performance.now();
        if (element.readyState >= HTMLMediaElement.HAVE_CURRENT_DATA)
          await onFrame(await createImageBitmap(element));
        const remaining = FRAME_INTERVAL_MS - (performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, remaining)));
      }
    };
    void start();
    return () => {
      stopped = true;
      for (const track of stream?.getTracks() ?? []) track.stop();
    };
  }, [onFrame]);

  if (problem)
    return (
      <p role="alert" className="input-error" data-testid="camera-error">
        <strong>The camera is not available.</strong> {problem}
      </p>
    );
  return (
    <video
      ref={video}
      className="preview"
      muted
      playsInline
      aria-label="Live camera preview, classified a few times a second"
      data-testid="camera-preview"
    />
  );
}

function cameraProblem(error: unknown): string {
  const name = (error as { name?: string }).name;
  if (name === 'NotAllowedError')
    return 'Permission was refused: allow camera access for this page in your browser, then try again.';
  if (name === 'NotFoundError') return 'No camera was found on this device.';
  if (!navigator.mediaDevices)
    return 'This browser offers no camera here (cameras need https or localhost).';
  return error instanceof Error ? error.message : String(error);
}
