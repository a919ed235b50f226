import { Command } from 'commander';
import manifest from '../package.json' with { type: 'json' };

/** Builds the `imgcls` command tree; commands are thin wrappers over the `@imgcls/*` packages. */
export function createProgram(): Command {
  return new Command('imgcls')
    .description(manifest.description)
    .version(manifest.version)
    .showHelpAfterError('(run imgcls --help for usage)');
}
