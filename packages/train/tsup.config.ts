import { libraryConfig } from '../../tooling/tsup';

export default libraryConfig({ index: 'src/index.ts' });
