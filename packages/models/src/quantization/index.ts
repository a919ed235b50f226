export { type AffineUint8, affineUint8 } from './affine';
export {
  type QuantizedArtifacts,
  quantizeArtifacts,
  WEIGHT_QUANTIZATIONS,
  type WeightQuantization,
} from './artifacts';
export { float16Bits } from './float16';
export { quantizedMetadata } from './metadata';
