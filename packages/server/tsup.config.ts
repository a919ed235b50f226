import { libraryConfig } from '../../tooling/tsup';

// index: createServer and the engine; worker: the worker-thread entry the engine starts, one wasm
// instance each (loaded from dist/ by file URL, so it is an entry of its own). shims: import.meta.url
// in the CJS build too.
export default libraryConfig(
  { index: 'src/index.ts', worker: 'src/engine/worker.ts' },
  { shims: true },
);
