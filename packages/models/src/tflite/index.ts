export { InvalidTfliteError, UnsupportedTfliteOpError } from './errors';
export { type ImportedTflite, importTflite } from './import';
export { parseLabelsFile, tfliteMetadata } from './metadata';
export {
  dequantize,
  parseTflite,
  type Quantization,
  type TensorType,
  type TfliteGraph,
  type TfliteOperator,
  type TfliteTensor,
} from './parse';
