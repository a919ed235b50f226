// Where models come from, re-exported so a classifier user configures it without importing @imgcls/models.
export {
  CDN_LAYOUTS,
  type ModelReference,
  type ModelSourceKind,
  type ModelStoreSettings,
  modelSettings,
} from '@imgcls/models';
export { AUTO_ORDER, type BackendChoice, type BackendOptions, selectBackend } from './backend';
export {
  type ClassifierInfo,
  type ClassifyOutcome,
  type ImageClassifier,
  type ImageInput,
  type LoadOptions,
  loadClassifier,
  type Prediction,
} from './classifier';
export {
  BackendChangedError,
  BackendUnavailableError,
  DisposedError,
  ExplainUnsupportedError,
  UnknownLayerError,
} from './errors';
export type { ExplainOptions, Explanation, Heatmap, RgbaImage } from './explain';
export { blendHeatmap, type CamMethod, jetColour } from './gradcam';
