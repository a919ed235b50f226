export { createEngine } from './engine';
export {
  AbortedError,
  DeadlineError,
  EngineClosedError,
  QueueFullError,
  UnknownServedModelError,
  WorkerCrashedError,
} from './errors';
export { DEFAULT_ENGINE_OPTIONS } from './options';
export type {
  ClassifyOptions,
  Engine,
  EngineOptions,
  EngineStats,
  ModelSpec,
  ServedExplanation,
  ServedModel,
} from './types';
