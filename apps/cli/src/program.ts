import { Command } from 'commander';
import manifest from '../package.json' with { type: 'json' };
import { setThreads } from './backend';
import { registerBench } from './commands/bench';
import { registerClassify } from './commands/classify';
import { registerCompare } from './commands/compare';
import { registerEvaluate } from './commands/evaluate';
import { registerExplain } from './commands/explain';
import { registerExport } from './commands/export';
import { registerModels } from './commands/models';
import { registerTrain } from './commands/train';
import { createTerminal, type Terminal } from './terminal';

/** Builds the `imgcls` command tree; commands are thin wrappers over the `@imgcls/*` packages. */
export function createProgram(): Command {
  const program = new Command('imgcls')
    .description(manifest.description)
    .version(manifest.version)
    .option('-q, --quiet', 'print results and errors only')
    .option('--no-color', 'no colours (also: NO_COLOR=1)')
    .option(
      '--threads <n>',
      'wasm backend: XNNPACK threads, 1–8 or auto = every core (also: IMGCLS_THREADS); fewer when other work keeps the cores busy',
    )
    .showHelpAfterError('(run imgcls --help for usage)')
    .exitOverride()
    .hook('preAction', () =>
      setThreads(program.opts<{ threads?: string }>().threads ?? process.env.IMGCLS_THREADS),
    );
  const terminal = (): Terminal => {
    const globals = program.opts<{ quiet?: boolean; color?: boolean }>();
    return createTerminal({ quiet: globals.quiet ?? false, color: globals.color !== false });
  };
  registerClassify(program, terminal);
  registerModels(program, terminal);
  registerTrain(program, terminal);
  registerEvaluate(program, terminal);
  registerExplain(program, terminal);
  registerCompare(program, terminal);
  registerBench(program, terminal);
  registerExport(program, terminal);
  return program;
}
