import { libraryConfig } from '../../tooling/tsup';

// index: platform-agnostic (architectures, labels, metadata, registry, TFLite import);
// node: index + file and HTTP I/O; node-browser: the same names failing clearly, for browser bundles.
export default libraryConfig({
  index: 'src/index.ts',
  node: 'src/node.ts',
  'node-browser': 'src/node-browser.ts',
});
