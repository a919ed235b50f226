import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type ModelLocation, registeredModels, resolveModel } from '@imgcls/models';
import {
  type ModelCheck,
  modelDirectory,
  readMetadata,
  verifyModelDirectory,
  writeMetadata,
} from '@imgcls/models/node';
import { modelStore, pullModel } from '@imgcls/models/store';
import { ImgclsError } from '@imgcls/preprocess';
import type { Command } from 'commander';
import { EXIT } from '../errors';
import { cacheFolder, modelsFolder } from '../model-store';
import type { Terminal } from '../terminal';

interface VerifyFlags {
  readonly record?: boolean;
  readonly json?: boolean;
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** A model that would be downloaded: its cached copy, read offline, every pinned file checked. */
async function verifyCached(id: string, location: ModelLocation): Promise<ModelCheck[]> {
  try {
    const pulled = await pullModel(id, { offline: true });
    const pins =
      pulled.pinned === 'every file'
        ? 'every file matches its pinned SHA-256'
        : pulled.pinned === 'model.json'
          ? 'model.json matches its pinned SHA-256'
          : 'no checksum is pinned';
    return [
      {
        name: 'cache',
        ok: true,
        detail: `${location.location} is cached and complete (${pulled.files.length} files), ${pins}`,
      },
    ];
  } catch (error) {
    const detail = ImgclsError.isInstance(error, 'OFFLINE')
      ? `${location.location} is not (completely) in the download cache ${cacheFolder()}: imgcls models pull ${id} fills it`
      : message(error);
    return [{ name: 'cache', ok: false, detail }];
  }
}

/** Where the reference is: a folder given as a path, or what the store says about an id. */
async function locateReference(
  reference: string,
): Promise<
  | { kind: 'folder'; directory: string; source: string }
  | { kind: 'remote'; location: ModelLocation }
  | { kind: 'missing'; detail: string }
> {
  if (existsSync(reference))
    return { kind: 'folder', directory: await modelDirectory(reference), source: 'path' };
  // A name that is not registered may still be a folder in the models folder (as train and import write).
  const folder = modelsFolder()?.folder;
  if (
    !registeredModels().some((entry) => entry.id === reference) &&
    folder &&
    existsSync(join(folder, reference, 'model.json'))
  )
    return { kind: 'folder', directory: join(folder, reference), source: 'models-folder' };
  resolveModel(reference); // UnknownModelError for anything else
  try {
    const location = await modelStore.locate(reference);
    if (location.source === 'models-folder' || location.source === 'package')
      return { kind: 'folder', directory: location.location, source: location.source };
    return { kind: 'remote', location };
  } catch (error) {
    // A damaged or wrong-version package, or nowhere to load from: a failed check, not a crash.
    return { kind: 'missing', detail: message(error) };
  }
}

/** `imgcls models verify <id|folder>`: checks a model's files against its model.json and its checksums. */
export function registerModelsVerify(models: Command, terminal: () => Terminal): void {
  models
    .command('verify')
    .description(
      "check a model's files: model.json, every weight shard and its size, metadata.json, weightsSha256; for a downloaded model, its cached copy against the pins",
    )
    .argument('<id|folder>', 'registered model id or model folder')
    .option('--record', 'write the weights’ SHA-256 into metadata.json when it records none')
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      `
Examples:
  imgcls models verify cifar10-seedcnn
  imgcls models verify models/mobilenet-v2 --record
  imgcls models verify mobilenet-v2 --json

An id is checked where it would load from now (see imgcls models list): its folder in the models
folder, its installed package (whose files must also match their pins), or, when it would be
downloaded, its copy in the download cache (read offline; imgcls models pull fills it). --record
writes only into model folders, never into an installed package, whose pins it would break.
Exit code 0 when every check passes, 1 when one fails.`,
    )
    .action(async (reference: string, flags: VerifyFlags) => {
      const out = terminal();
      const found = await locateReference(reference);
      const directory = found.kind === 'folder' ? found.directory : undefined;
      let checks: ModelCheck[] = [];
      let weightsSha256: string | undefined;
      if (found.kind === 'folder') {
        const verification = await verifyModelDirectory(found.directory);
        checks = [...verification.checks];
        weightsSha256 = verification.weightsSha256;
        if (found.source === 'package')
          checks.unshift({
            name: 'package',
            ok: true,
            detail: `${found.directory} is the pinned version and every file matches its SHA-256`,
          });
      } else if (found.kind === 'remote') {
        checks = await verifyCached(reference, found.location);
      } else {
        checks = [{ name: 'location', ok: false, detail: found.detail }];
      }
      let recorded = false;
      const writable = found.kind === 'folder' && found.source !== 'package';
      if (flags.record && writable && directory && weightsSha256 && checks.every((c) => c.ok)) {
        const metadata = await readMetadata(directory);
        if (metadata && metadata.weightsSha256 === undefined) {
          await writeMetadata(directory, { ...metadata, weightsSha256 });
          recorded = true;
        }
      }
      if (flags.record && found.kind === 'folder' && !writable && !out.quiet)
        out.err(
          out.style(
            'yellow',
            `--record ignored: ${found.directory} is an installed package, whose files are pinned`,
          ),
        );
      const ok = checks.length > 0 && checks.every((check) => check.ok);
      const source =
        found.kind === 'folder'
          ? found.source
          : found.kind === 'remote'
            ? found.location.source
            : 'none';
      if (flags.json)
        out.out(
          JSON.stringify({ reference, source, directory, ok, checks, weightsSha256, recorded }),
        );
      else {
        for (const check of checks)
          out.out(
            `${check.ok ? out.style('green', 'ok  ') : out.style('red', 'FAIL')} ${check.name}: ${check.detail}`,
          );
        if (recorded)
          out.out(
            `recorded weightsSha256 ${weightsSha256} in ${join(directory as string, 'metadata.json')}`,
          );
        out.out(ok ? `${reference}: verified` : `${reference}: verification failed`);
      }
      if (!ok) process.exitCode = EXIT.failed;
    });
}
