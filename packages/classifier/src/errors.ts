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
