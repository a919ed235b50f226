import {
  type ModelMetadata,
  modelSettings,
  type RegisteredModel,
  registeredModels,
  resolveModel,
} from '@imgcls/models';
import { readMetadata } from '@imgcls/models/node';
import { modelStore } from '@imgcls/models/store';
import type { Command } from 'commander';
import { modelsFolder } from '../model-store';
import type { StyleName, Terminal } from '../terminal';
import { registerModelsCard } from './models-card';
import { registerModelsImport } from './models-import';
import { registerModelsMirror } from './models-mirror';
import { registerModelsPull } from './models-pull';
import { registerModelsTest } from './models-test';
import { registerModelsVerify } from './models-verify';

/** Where an id would load from now, or why it cannot be loaded (`source: 'none'`). */
type Whereabouts =
  | { readonly source: string; readonly location: string; readonly reason?: undefined }
  | { readonly source: 'none'; readonly location: null; readonly reason: string };

/** One row of `imgcls models list --json`. */
interface ListedModel {
  readonly id: string;
  readonly description: string;
  readonly source: string;
  readonly location: string | null;
  readonly reason?: string;
  /** The remote copy: the pinned package on the CDN or mirror, or the hosted URL. */
  readonly remote: string;
  /** Whether the download cache holds all of the remote copy. */
  readonly cached: boolean;
}

/** The store's answer for one id, never throwing: an id found nowhere is a row, not a crash. */
async function whereabouts(id: string): Promise<Whereabouts> {
  try {
    const { source, location } = await modelStore.locate(id);
    return { source, location };
  } catch (error) {
    return {
      source: 'none',
      location: null,
      reason: error instanceof Error ? error.message : String(error),
    };
  }
}

async function listed(entry: RegisteredModel): Promise<ListedModel> {
  const [where, remote] = await Promise.all([whereabouts(entry.id), modelStore.remote(entry.id)]);
  return {
    id: entry.id,
    description: entry.description,
    source: where.source,
    location: where.location,
    ...(where.reason !== undefined ? { reason: where.reason } : {}),
    remote: remote.url,
    cached: remote.cached,
  };
}

const SOURCE_STYLE: Record<string, StyleName> = {
  'models-folder': 'green',
  package: 'green',
  cdn: 'yellow',
  url: 'yellow',
  none: 'red',
};

/** What the registry says a model is: a pinned package or a hosted URL. */
function registryLine(entry: RegisteredModel): string {
  if (entry.source.kind === 'package') {
    const pin = entry.source.package;
    return `package ${pin.name}@${pin.version} (${Object.keys(pin.files).length} files pinned by SHA-256)`;
  }
  return `hosted ${entry.source.url} (${entry.source.sha256 ? 'model.json pinned by SHA-256' : 'no checksum pinned'})`;
}

/** What the active settings are, for the listing's footer. */
function settingsLine(): string {
  const folder = modelsFolder();
  const mode = modelSettings.offline
    ? 'offline'
    : modelSettings.allowRemote
      ? `downloads from ${modelSettings.remoteHost}`
      : 'downloads off (--no-remote)';
  return `models folder: ${folder ? `${folder.folder} (${folder.origin})` : 'none'}; ${mode}`;
}

/** `imgcls models list|info|import|card|test|pull|mirror|verify`: what the registry knows, and the models' files. */
export function registerModels(program: Command, terminal: () => Terminal): void {
  const models = program
    .command('models')
    .description('list, inspect, import, download, mirror and verify models');
  registerModelsImport(models, terminal);
  registerModelsCard(models, terminal);
  registerModelsPull(models, terminal);
  registerModelsMirror(models, terminal);
  registerModelsTest(models, terminal);
  registerModelsVerify(models, terminal);
  models
    .command('list')
    .description(
      'list registered model ids, where each would load from now, and whether its remote copy is cached',
    )
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      `
Sources, in the order they are tried for an id:
  models-folder  <models folder>/<folder>/model.json (--models-dir, $IMGCLS_MODELS_DIR or ./models)
  package        the installed model package (@imgcls/model-…), checked against its pins
  cdn            the pinned package on the npm CDN or mirror (--remote-host, --cdn), downloaded once
  url            a hosted model.json (mobilenet-v2)
  none           nowhere: the reason says what was tried (e.g. --offline and not cached)

Examples:
  imgcls models list
  imgcls --offline models list --json | jq '.[] | select(.source == "none")'`,
    )
    .action(async (flags: { json?: boolean }) => {
      const out = terminal();
      const rows = await Promise.all(registeredModels().map(listed));
      if (flags.json) {
        out.out(JSON.stringify(rows));
        return;
      }
      const widths = {
        id: Math.max(2, ...rows.map((row) => row.id.length)),
        source: Math.max(6, ...rows.map((row) => row.source.length)),
      };
      out.out(
        out.style(
          'bold',
          `${'ID'.padEnd(widths.id)}  ${'SOURCE'.padEnd(widths.source)}  CACHED  LOCATION`,
        ),
      );
      for (const row of rows)
        out.out(
          `${row.id.padEnd(widths.id)}  ${out.style(SOURCE_STYLE[row.source] ?? 'dim', row.source.padEnd(widths.source))}  ${(row.cached ? 'yes' : 'no').padEnd(6)}  ${row.location ?? row.reason}`,
        );
      if (!out.quiet) {
        out.err(out.style('dim', settingsLine()));
        out.err(
          out.style(
            'dim',
            'CACHED: the download cache holds the remote copy (fill it with imgcls models pull <id>); details: imgcls models info <id>',
          ),
        );
      }
    });
  models
    .command('info')
    .description(
      'show a registered model: its registry entry, where it would load from now, its remote copy and metadata',
    )
    .argument('<id>', 'registered model id (see `imgcls models list`)')
    .option('--json', 'machine-readable output')
    .action(async (id: string, flags: { json?: boolean }) => {
      const out = terminal();
      const entry = resolveModel(id);
      const [where, remote] = await Promise.all([whereabouts(id), modelStore.remote(id)]);
      const local = where.source === 'models-folder' || where.source === 'package';
      const metadata: ModelMetadata | undefined =
        (local ? await readMetadata(where.location).catch(() => undefined) : undefined) ??
        entry.metadata;
      if (flags.json) {
        out.out(
          JSON.stringify({
            ...entry,
            location: where,
            remote,
            metadata: metadata ? { ...metadata, labels: metadata.labels.length } : undefined,
          }),
        );
        return;
      }
      out.out(`${out.style('bold', entry.id)}: ${entry.description}`);
      out.out(`registry: ${registryLine(entry)}`);
      out.out(
        `loads from: ${out.style(SOURCE_STYLE[where.source] ?? 'dim', where.source)}${where.location === null ? `: ${where.reason}` : ` ${where.location}`}`,
      );
      out.out(`remote copy: ${remote.url} (${remote.cached ? 'cached' : 'not cached'})`);
      if (metadata) {
        const { preset } = metadata;
        out.out(
          `format: ${metadata.format}, ${metadata.labels.length} labels${metadata.backgroundClass ? ' + background' : ''}`,
        );
        out.out(
          `input: ${preset.height}x${preset.width}, ${preset.resize}, range [${preset.range.join(', ')}]`,
        );
      }
    });
}
