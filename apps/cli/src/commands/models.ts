import { registeredModels, resolveModel } from '@imgcls/models';
import type { Command } from 'commander';
import type { Terminal } from '../terminal';
import { registerModelsCard } from './models-card';
import { registerModelsImport } from './models-import';
import { registerModelsPull } from './models-pull';
import { registerModelsTest } from './models-test';
import { registerModelsVerify } from './models-verify';

/** `imgcls models list|info|import|card|test|pull|verify`: what the registry knows, and the models' files. */
export function registerModels(program: Command, terminal: () => Terminal): void {
  const models = program
    .command('models')
    .description('list, inspect, import, download and verify models');
  registerModelsImport(models, terminal);
  registerModelsCard(models, terminal);
  registerModelsPull(models, terminal);
  registerModelsTest(models, terminal);
  registerModelsVerify(models, terminal);
  models
    .command('list')
    .description('list registered model ids and where they come from')
    .option('--json', 'machine-readable output')
    .action((flags: { json?: boolean }) => {
      const out = terminal();
      const entries = registeredModels();
      if (flags.json) {
        out.out(
          JSON.stringify(
            entries.map(({ id, description, source }) => ({ id, description, source })),
          ),
        );
        return;
      }
      for (const entry of entries) {
        const where =
          entry.source.kind === 'url' ? entry.source.url : `models/${entry.source.directory}`;
        out.out(`${out.style('bold', entry.id.padEnd(18))} ${entry.description}`);
        out.out(`${''.padEnd(18)} ${out.style('dim', where)}`);
      }
    });
  models
    .command('info')
    .description('show a registered model’s source and metadata')
    .argument('<id>', 'registered model id (see `imgcls models list`)')
    .option('--json', 'machine-readable output')
    .action((id: string, flags: { json?: boolean }) => {
      const out = terminal();
      const entry = resolveModel(id);
      if (flags.json) {
        out.out(
          JSON.stringify({
            ...entry,
            metadata: entry.metadata
              ? { ...entry.metadata, labels: entry.metadata.labels.length }
              : undefined,
          }),
        );
        return;
      }
      out.out(`${out.style('bold', entry.id)}: ${entry.description}`);
      out.out(
        `source: ${entry.source.kind === 'url' ? entry.source.url : `models/${entry.source.directory}`}`,
      );
      if (entry.metadata) {
        const { preset } = entry.metadata;
        out.out(
          `format: ${entry.metadata.format}, ${entry.metadata.labels.length} labels${entry.metadata.backgroundClass ? ' + background' : ''}`,
        );
        out.out(
          `input: ${preset.height}x${preset.width}, ${preset.resize}, range [${preset.range.join(', ')}]`,
        );
      }
    });
}
