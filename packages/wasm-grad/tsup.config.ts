import { libraryConfig } from '../../tooling/tsup';

// shims: the Node entry resolves tfjs-backend-wasm's files with import.meta.url, also in the CJS build.
// splitting: both entries share one copy of the kernel and its helper threads. Without it each bundled
// its own, and registerWasmGradients() from the main entry never saw the threads started by ./node.
export default libraryConfig(
  { index: 'src/index.ts', node: 'src/node.ts' },
  { shims: true, splitting: true },
);
