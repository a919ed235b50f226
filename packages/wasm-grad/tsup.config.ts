import { libraryConfig } from '../../tooling/tsup';

// shims: the Node entry resolves tfjs-backend-wasm's files with import.meta.url, also in the CJS build.
export default libraryConfig({ index: 'src/index.ts', node: 'src/node.ts' }, { shims: true });
