export {
  type AugmentDraws,
  type AugmentOptions,
  alternatingFlip,
  augmentBatch,
  drawAugmentation,
  type FlipContext,
  type ImageDraw,
  type MixDraw,
  validateAugmentOptions,
} from './augment';
export { decodeBmp } from './bmp';
export {
  checkDimensions,
  DEFAULT_MAX_PIXELS,
  type DecodedImage,
  type DecodeOptions,
  type ImageFormat,
  sniffFormat,
} from './decoded';
export {
  ImageTooLargeError,
  ImgclsError,
  InvalidArgumentError,
  InvalidImageError,
  type InvalidImageReason,
} from './errors';
export { PRESETS, type PreprocessPreset, type ResizeMode, validatePreset } from './preset';
export { hashSeed, type Random, sampleBeta, seededRandom } from './random';
export {
  fitBatchToInput,
  fitToInput,
  normalize,
  type Placement,
  placement,
  toModelInput,
} from './tensor';
export {
  predictWithViews,
  TEST_TIME_AUGMENTATIONS,
  type TestTimeAugmentation,
  type TestTimeView,
  testTimeViews,
} from './test-time';
