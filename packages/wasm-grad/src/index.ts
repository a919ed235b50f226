export { WasmGradError, type WasmGradErrorCode } from './errors';
export { type RegistrationReport, registerWasmGradients, WASM_GRADIENT_KERNELS } from './register';
