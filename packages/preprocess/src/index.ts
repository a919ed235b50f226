export { ImgclsError, InvalidArgumentError } from './errors';
export { PRESETS, type PreprocessPreset, type ResizeMode, validatePreset } from './preset';
