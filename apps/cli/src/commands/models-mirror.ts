import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CDN_LAYOUTS, registeredModels, resolveModel } from '@imgcls/models';
import { mirrorModelPackages } from '@imgcls/models/store';
import type { Command } from 'commander';
import { UsageError } from '../errors';
import type { Terminal } from '../terminal';

interface MirrorFlags {
  readonly url?: string;
  readonly json?: boolean;
}

const mebibytes = (bytes: number) => `${(bytes / 2 ** 20).toFixed(2)} MiB`;

/** The ids whose registry entry is a model package: what can be mirrored. */
const packagedIds = () =>
  registeredModels()
    .filter((entry) => entry.source.kind === 'package')
    .map((entry) => entry.id);

/**
 * `imgcls models mirror <dir> [ids...]`: writes the installed model packages in the npm CDN's URL layout,
 * for a web server to serve as the `--remote-host` of machines that cannot reach the public CDN.
 */
export function registerModelsMirror(models: Command, terminal: () => Terminal): void {
  models
    .command('mirror')
    .description(
      'write installed model packages into a folder in the npm CDN layout, to serve as a mirror (--remote-host)',
    )
    .argument('<dir>', 'folder to write <dir>/npm/<package>@<version>/<file> into')
    .argument('[ids...]', 'registered ids of model packages (default: every packaged model)')
    .option(
      '--url <url>',
      'the URL the folder will be served at, to print the exact --remote-host to use',
    )
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      `
Examples:
  imgcls models mirror /srv/www/imgcls --url https://models.example.com/imgcls
  imgcls models mirror ./mirror cifar10 cifar10-seedcnn --json
  # then, on machines that use the mirror:
  imgcls --remote-host https://models.example.com/imgcls models pull cifar10
  # or in code: modelSettings.remoteHost = 'https://models.example.com/imgcls'

Only the files the registry pins are written (model.json, weights, metadata.json), each checked against
its SHA-256 first; the packages must be installed at the versions this imgcls pins. The layout is
jsDelivr's (${CDN_LAYOUTS.jsdelivr.remotePathTemplate}), the store's default remotePathTemplate.`,
    )
    .action(async (directory: string, ids: string[], flags: MirrorFlags) => {
      const out = terminal();
      if (flags.url !== undefined && !/^https?:\/\/[^/]/i.test(flags.url))
        throw new UsageError(
          `--url must be an http(s) URL, got "${flags.url}"`,
          'the address a web server serves the mirror folder at, e.g. https://models.example.com/imgcls',
        );
      const packaged = packagedIds();
      const chosen = ids.length > 0 ? ids : packaged;
      for (const id of chosen)
        if (!packaged.includes(resolveModel(id).id))
          throw new UsageError(
            `${id} is a hosted model, not a model package: only packages can be mirrored`,
            `choose among ${packaged.join(', ')}`,
          );
      const root = resolve(directory);
      const written = await mirrorModelPackages(chosen, root);
      const packages = await Promise.all(
        chosen.map(async (id, index) => {
          const entry = resolveModel(id);
          const pin = entry.source.kind === 'package' ? entry.source.package : undefined;
          const files = Object.keys(pin?.files ?? {});
          const folder = written[index] as string;
          const sizes = await Promise.all(
            files.map(async (file) => (await stat(join(root, folder, file))).size),
          );
          return {
            id,
            package: pin?.name,
            version: pin?.version,
            folder,
            files,
            bytes: sizes.reduce((sum, size) => sum + size, 0),
          };
        }),
      );
      const remoteHost = flags.url?.replace(/\/+$/, '') ?? '<the URL that serves the folder>';
      const { remotePathTemplate } = CDN_LAYOUTS.jsdelivr;
      if (flags.json) {
        out.out(JSON.stringify({ directory: root, packages, remoteHost, remotePathTemplate }));
        return;
      }
      out.out(`wrote ${packages.length} model package(s) into ${root}:`);
      for (const entry of packages)
        out.out(
          `  ${entry.folder}  ${entry.files.length} files, ${mebibytes(entry.bytes)}  (${entry.id})`,
        );
      out.out(`serve ${root} over http(s), then use it with:`);
      out.out(`  imgcls --remote-host ${remoteHost} …`);
      out.out(`  modelSettings.remoteHost = '${remoteHost}'  (remotePathTemplate: the default)`);
    });
}
