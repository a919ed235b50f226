import type { BackendChoice } from '@imgcls/classifier';

/** Renderer names of WebGL implementations that run on the CPU, where wasm is many times faster. */
const SOFTWARE_RENDERERS = /swiftshader|llvmpipe|softpipe|software/i;

/**
 * The backend the demo asks for: webgl when this worker has a hardware-accelerated WebGL 2, else wasm.
 * Measured in headless Chromium without a GPU: MobileNetV2 took about 3 s per image on software webgl
 * and a small fraction of that on wasm.
 */
export function chooseBackend(): BackendChoice {
  if (typeof OffscreenCanvas === 'undefined') return 'wasm';
  const gl = new OffscreenCanvas(1, 1).getContext('webgl2');
  if (!gl) return 'wasm';
  const info = gl.getExtension('WEBGL_debug_renderer_info');
  const renderer = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER) ?? '');
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  return SOFTWARE_RENDERERS.test(renderer) ? 'wasm' : 'webgl';
}
