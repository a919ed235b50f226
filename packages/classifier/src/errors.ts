import { ImgclsError } from '@imgcls/preprocess/errors';

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

/**
 * The active TensorFlow.js backend is no longer the one the classifier was loaded on: something called
 * `tf.setBackend`, or another classifier was loaded on another backend (TF.js computes on one backend at
 * a time per process). Thrown instead of computing on a backend the classifier does not report.
 */
export class BackendChangedError extends ImgclsError {
  constructor(
    /** The backend the classifier was loaded on, which `info().backend` reports. */
    readonly loadedOn: string,
    /** The backend TF.js has active now. */
    readonly active: string,
  ) {
    super(
      'BACKEND_CHANGED',
      `This classifier was loaded on the ${loadedOn} backend, but the active TensorFlow.js backend is now ${active} (something called tf.setBackend, or another classifier was loaded on another backend; TF.js runs one backend at a time per process): call tf.setBackend('${loadedOn}') before using it, load it again with { backend: '${active}' }, or load every classifier of the process on the same backend.`,
    );
  }
}

/** `explain()` was asked for a layer the model does not have, or one without a spatial feature map. */
export class UnknownLayerError extends ImgclsError {
  constructor(
    readonly layer: string,
    /** Every layer `explain()` accepts for this model, input first. */
    readonly validLayers: readonly string[],
  ) {
    const shown = validLayers.slice(-12);
    const earlier = validLayers.length - shown.length;
    super(
      'UNKNOWN_LAYER',
      `"${layer}" is not a layer with a [height, width, channels] feature map in this model: pass one of ${shown.map((name) => `"${name}"`).join(', ')}${earlier > 0 ? ` (or one of ${earlier} earlier layers; error.validLayers lists all)` : ''}, or omit the layer to use the last convolutional block.`,
    );
  }
}

/** The model cannot be explained with Grad-CAM (e.g. it has no spatial feature map). */
export class ExplainUnsupportedError extends ImgclsError {
  constructor(message: string) {
    super('EXPLAIN_UNSUPPORTED', message);
  }
}
