import { libraryConfig } from '../../tooling/tsup';

// index: platform-agnostic core; node: core + sharp decoding; browser: core + canvas decoding.
export default libraryConfig({
  index: 'src/index.ts',
  node: 'src/node.ts',
  browser: 'src/browser.ts',
});
