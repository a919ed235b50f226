import { libraryConfig } from '../../tooling/tsup';

// index: platform-agnostic core; node: core + sharp decoding; browser: core + canvas decoding;
// errors: the error classes alone (no tfjs, no decoder), for packages that only throw or check them.
export default libraryConfig({
  index: 'src/index.ts',
  node: 'src/node.ts',
  browser: 'src/browser.ts',
  errors: 'src/errors.ts',
});
