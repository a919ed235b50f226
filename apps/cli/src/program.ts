import { Command, Option } from 'commander';
import manifest from '../package.json' with { type: 'json' };
import { setThreads } from './backend';
import { registerBench } from './commands/bench';
import { registerClassify } from './commands/classify';
import { registerCompare } from './commands/compare';
import { registerEvaluate } from './commands/evaluate';
import { registerExplain } from './commands/explain';
import { registerExport } from './commands/export';
import { registerModels } from './commands/models';
import { registerServe } from './commands/serve';
import { registerTrain } from './commands/train';
import { applyStoreFlags, CDN_NAMES, type StoreFlags } from './model-store';
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
    .option(
      '--models-dir <folder>',
      'folder of model folders (<folder>/<model>/model.json), tried first for model ids; train and models import write there (default: $IMGCLS_MODELS_DIR, else ./models when it exists)',
    )
    .option(
      '--cache-dir <folder>',
      'download cache for models and datasets (default: $IMGCLS_CACHE_DIR, else ~/.cache/imgcls)',
    )
    .option(
      '--remote-host <url>',
      'npm CDN or mirror that model packages are downloaded from (default: https://cdn.jsdelivr.net; a mirror: see imgcls models mirror)',
    )
    .addOption(
      new Option('--cdn <name>', 'npm CDN URL layout (and host, unless --remote-host)').choices(
        CDN_NAMES,
      ),
    )
    .option(
      '--offline',
      'never use the network: local models, installed packages and the cache only',
    )
    .option('--no-remote', 'never download models: models folder and installed packages only')
    // Every command's --help lists these too: --offline and the store flags are global, not per command.
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError('(run imgcls --help for usage)')
    .exitOverride()
    .hook('preAction', (_program, action) => {
      setThreads(program.opts<{ threads?: string }>().threads ?? process.env.IMGCLS_THREADS);
      // Commands that write model folders may name a models folder they are about to create.
      const createsModels =
        action.name() === 'train' ||
        (action.name() === 'import' && action.parent?.name() === 'models');
      applyStoreFlags(program.opts<StoreFlags>(), { createsModels });
    });
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
  registerServe(program, terminal);
  return program;
}
