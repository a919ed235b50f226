export { type AffineUint8, affineUint8 } from './affine';
export {
  DEFAULT_MAX_CHANNEL_SPREAD,
  type QuantizedArtifacts,
  type QuantizeOptions,
  quantizeArtifacts,
  WEIGHT_QUANTIZATIONS,
  type WeightQuantization,
} from './artifacts';
export { float16Bits } from './float16';
export { quantizedMetadata } from './metadata';
export { channelSpread } from './spread';
