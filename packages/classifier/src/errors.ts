import { ImgclsError } from '@imgcls/preprocess';

/** The classifier was used after `dispose()`. */
export class DisposedError extends ImgclsError {
  constructor() {
    super('DISPOSED', 'This classifier has been disposed: load a new one with loadClassifier().');
  }
}

/** The requested TensorFlow.js backend is not installed or failed to initialise. */
export class BackendUnavailableError extends ImgclsError {
  constructor(
    readonly backend: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('BACKEND_UNAVAILABLE', message, options);
  }
}
