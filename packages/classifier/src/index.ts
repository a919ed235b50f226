export { AUTO_ORDER, type BackendChoice, selectBackend } from './backend';
export {
  type ClassifierInfo,
  type ImageClassifier,
  type ImageInput,
  type LoadOptions,
  loadClassifier,
  type Prediction,
} from './classifier';
export { BackendUnavailableError, DisposedError } from './errors';
export type { ModelReference } from './source';
