import { libraryConfig } from '../../tooling/tsup';

// index: platform-agnostic (architectures, labels, metadata, registry, TFLite import, store settings);
// node: index + file and HTTP I/O; node-browser: the same names failing clearly, for browser bundles;
// store-node / store-browser: the model store, chosen by the exports map. shims: the Node store finds
// installed model packages with import.meta.url, also in the CJS build.
export default libraryConfig(
  {
    index: 'src/index.ts',
    node: 'src/node.ts',
    'node-browser': 'src/node-browser.ts',
    'store-node': 'src/store-node.ts',
    'store-browser': 'src/store-browser.ts',
  },
  { shims: true },
);
