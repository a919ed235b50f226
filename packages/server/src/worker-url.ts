/**
 * The engine's worker script, `<package>/dist/worker.js`. This file sits directly in `src/` so that the
 * same relative URL is right from `src/worker-url.ts` (tests, which run the sources) and from any
 * `dist/*.js` chunk it is bundled into (`../dist/` from `dist/` is `dist/`).
 */
export const WORKER_SCRIPT = new URL('../dist/worker.js', import.meta.url);
