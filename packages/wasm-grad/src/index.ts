export { WasmGradError, type WasmGradErrorCode } from './errors';
export {
  type RegistrationReport,
  registerMissingGradients,
  registerWasmGradients,
  WASM_GRADIENT_KERNELS,
} from './register';
