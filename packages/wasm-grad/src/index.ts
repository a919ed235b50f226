export { type RegistrationReport, registerWasmGradients, WASM_GRADIENT_KERNELS } from './register';
