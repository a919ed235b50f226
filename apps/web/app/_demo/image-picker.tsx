'use client';

import { type DragEvent, useEffect, useState } from 'react';

/**
 * Where a user hands over an image: drop it on the zone, pick it with the (keyboard-reachable) file
 * input, or paste it anywhere on the page. The worker checks what the file really is.
 */
export function ImagePicker({ onImage }: { onImage: (file: File) => void }) {
  const [dragging, setDragging] = useState(false);

  useEffect(() => {
    const onPaste = (event: ClipboardEvent) => {
      const file = event.clipboardData?.files[0];
      if (file) onImage(file);
    };
    window.addEventListener('paste', onPaste);
    return () => window.removeEventListener('paste', onPaste);
  }, [onImage]);

  const onDrop = (event: DragEvent<HTMLLabelElement>) => {
    event.preventDefault();
    setDragging(false);
    const file = event.dataTransfer.files[0];
    if (file) onImage(file);
  };

  return (
    <label
      className={`dropzone${dragging ? ' dragging' : ''}`}
      onDragOver={(event) => {
        event.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={onDrop}
      data-testid="dropzone"
    >
      <input
        className="visually-hidden"
        type="file"
        accept="image/*"
        onChange={(event) => {
          const file = event.target.files?.[0];
          if (file) onImage(file);
          // Choosing the same file again must classify it again.
          event.target.value = '';
        }}
        aria-label="Choose an image to classify"
        aria-describedby="dropzone-help"
        data-testid="file-input"
      />
      <span className="button" aria-hidden="true">
        Choose an image
      </span>
      <span id="dropzone-help" className="dropzone-help">
        or drop one here, or paste one (Ctrl+V). Images never leave your browser.
      </span>
    </label>
  );
}
