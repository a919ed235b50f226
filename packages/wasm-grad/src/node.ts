export * from './index';
export {
  setWasmBackendWithThreads,
  type WasmThreadsOptions,
  type WasmThreadsReport,
} from './node-threads';
