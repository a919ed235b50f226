const IMGCLS_ERROR_MARKER = Symbol.for('imgcls.error');

/** Stable codes of {@link WasmGradError}. */
export type WasmGradErrorCode =
  | 'INVALID_ARGUMENT'
  | 'WASM_BACKEND_ALREADY_INITIALIZED'
  | 'WASM_THREADS_UNAVAILABLE'
  | 'KERNEL_THREAD_FAILED'
  | 'KERNEL_NOT_REGISTERED'
  | 'UNSUPPORTED_OPERATION'
  | 'INTERNAL_ERROR';

/**
 * Error thrown by `@imgcls/wasm-grad`, with a stable `code` and a message saying what to do. It
 * carries the `Symbol.for('imgcls.error')` marker, so `ImgclsError.isInstance()` from the other
 * `@imgcls` packages recognises it without this package depending on them.
 */
export class WasmGradError extends Error {
  readonly [IMGCLS_ERROR_MARKER] = true;

  /**
   * @param code - Stable machine-readable identifier.
   * @param message - What went wrong and what to do about it.
   * @param options - `cause`: the underlying error, when there is one.
   */
  constructor(
    readonly code: WasmGradErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'WasmGradError';
  }
}
