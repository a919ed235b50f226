import { readFile, stat } from 'node:fs/promises';
import { type ModelSource, resolveModel } from '@imgcls/models';
import {
  cachedModel,
  cachePathFor,
  defaultCacheDir,
  hashFile,
  localModelsDir,
  pathExists,
} from '@imgcls/models/node';
import type * as tf from '@tensorflow/tfjs-core';
import type { Command } from 'commander';
import { EXIT } from '../errors';
import type { Terminal } from '../terminal';

interface PullFlags {
  readonly json?: boolean;
  readonly cacheDir?: string;
}

const mebibytes = (bytes: number) => `${(bytes / 2 ** 20).toFixed(2)} MiB`;

/** `imgcls models pull <id|url>`: downloads a hosted model into the cache, with progress and checksums. */
export function registerModelsPull(models: Command, terminal: () => Terminal): void {
  models
    .command('pull')
    .description(
      'download a hosted model (model.json, weights, metadata) into the cache, verifying checksums',
    )
    .argument(
      '<id|url>',
      'registered model id (see `imgcls models list`) or the URL of a model.json',
    )
    .option('--cache-dir <folder>', 'cache folder (default: $IMGCLS_CACHE_DIR or ~/.cache/imgcls)')
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      `
Examples:
  imgcls models pull mobilenet-v2
  imgcls models pull https://example.com/my-model/model.json --json

Files already in the cache are verified, not downloaded again. A model whose registry entry pins a
SHA-256 is rejected when the download does not match it. Models that ship as folders in models/
(the CIFAR-10 ones) need no download.`,
    )
    .action(async (reference: string, flags: PullFlags) => {
      const out = terminal();
      const isUrl = /^https?:\/\//i.test(reference);
      const source: ModelSource = isUrl
        ? { kind: 'url', url: reference }
        : resolveModel(reference).source;
      if (source.kind === 'directory') {
        const directory = `${localModelsDir()}/${source.directory}`;
        const present = pathExists(`${directory}/model.json`);
        if (flags.json) out.out(JSON.stringify({ id: reference, directory, present }));
        else
          out.out(
            present
              ? `${reference} ships in ${directory}: nothing to download (check it with imgcls models verify ${reference})`
              : `${reference} ships as the folder ${directory}, which is missing: train it with imgcls train, or set IMGCLS_MODELS_DIR`,
          );
        if (!present) process.exitCode = EXIT.failed;
        return;
      }
      const cacheDir = flags.cacheDir ?? defaultCacheDir();
      const options = {
        cacheDir,
        ...(source.sha256 ? { sha256: source.sha256 } : {}),
        onProgress: (loaded: number, total: number | undefined) =>
          out.progress(
            total ? loaded / total : 0,
            `${mebibytes(loaded)}${total ? ` of ${mebibytes(total)}` : ''}`,
          ),
      };
      if (!out.quiet) out.err(out.style('dim', `pulling ${source.url} into ${cacheDir}…`));
      const model = await cachedModel(source.url, options);
      // Reading the weights fetches every shard into the cache (each one verified on later reads).
      await model.handler.load?.();
      out.endProgress();
      const modelJsonPath = cachePathFor(source.url, cacheDir);
      const manifest = (JSON.parse(await readFile(modelJsonPath, 'utf8')) as tf.io.ModelJSON)
        .weightsManifest;
      const urls = [
        source.url,
        ...manifest.flatMap((group) => group.paths).map((path) => new URL(path, source.url).href),
      ];
      const files = await Promise.all(
        urls.map(async (url) => {
          const path = cachePathFor(url, cacheDir);
          const { size } = await stat(path);
          return { url, path, bytes: size, sha256: (await hashFile(path)).sha256 };
        }),
      );
      const total = files.reduce((sum, file) => sum + file.bytes, 0);
      if (flags.json) {
        out.out(
          JSON.stringify({
            id: reference,
            url: source.url,
            cacheDir,
            metadata: Boolean(model.metadata),
            files,
          }),
        );
        return;
      }
      out.out(`${reference}: ${files.length} files, ${mebibytes(total)} in ${cacheDir}`);
      out.out(
        `model.json sha256 ${files[0]?.sha256}${source.sha256 ? ' (matches the registry)' : ' (no checksum pinned in the registry)'}`,
      );
      if (!model.metadata && !out.quiet)
        out.err(
          out.style(
            'dim',
            'no metadata.json beside it: the registry supplies labels and preprocessing',
          ),
        );
    });
}
