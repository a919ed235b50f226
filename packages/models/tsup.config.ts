import { libraryConfig } from '../../tooling/tsup';

// index: platform-agnostic (architectures, labels, metadata, registry); node: index + file and HTTP I/O.
export default libraryConfig({ index: 'src/index.ts', node: 'src/node.ts' });
