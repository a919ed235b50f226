import type { InputError } from './use-classifier-worker';

/** Headlines by the stable error codes of @imgcls/preprocess; the error's own message gives the detail. */
const HEADLINES: Record<string, string> = {
  INVALID_IMAGE: 'This file could not be read as an image.',
  IMAGE_TOO_LARGE: 'This image is too large for the demo.',
};

/** A visible, announced explanation of why the latest image was not classified. */
export function InputErrorMessage({ error }: { error: InputError }) {
  return (
    <div role="alert" className="input-error" data-testid="input-error" data-code={error.code}>
      <strong>{HEADLINES[error.code] ?? 'This image could not be classified.'}</strong>{' '}
      {error.message} Try another image.
    </div>
  );
}
