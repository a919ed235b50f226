import { ImgclsError } from '@imgcls/preprocess/errors';

/** The bytes are not a readable TFLite model: empty, truncated, or another kind of file. */
export class InvalidTfliteError extends ImgclsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_TFLITE', message, options);
  }
}

/** The model uses an operator this importer cannot translate. */
export class UnsupportedTfliteOpError extends ImgclsError {
  constructor(
    readonly op: string,
    readonly operatorIndex: number,
  ) {
    super(
      'UNSUPPORTED_TFLITE_OP',
      `TFLite operator ${op} (operator #${operatorIndex}) is not supported by the importer; supported: CONV_2D, DEPTHWISE_CONV_2D, ADD, MUL, AVERAGE_POOL_2D, MAX_POOL_2D, MEAN, RESHAPE, SQUEEZE, SOFTMAX, FULLY_CONNECTED, PAD, CONCATENATION, HARD_SWISH, LOGISTIC, RELU, RELU6, QUANTIZE, DEQUANTIZE.`,
    );
  }
}
